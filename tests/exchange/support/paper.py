"""The paper exchange as the gateway's real peer: a server thread and its admin API."""

from __future__ import annotations

import requests

from apps.paper_exchange.config import ExchangeConfig, RateLimits, default_data_dir
from apps.paper_exchange.server.app import ServerThread

ADMIN_TOKEN = "exchange-suite-admin-token"
GENEROUS_LIMITS = RateLimits(
    weight=10**7, raw_requests=10**8, orders_short=10**6, orders_long=10**7
)


def start_paper_exchange(limits: RateLimits | None = None, **overrides) -> ServerThread:
    options = dict(
        port=0,
        test_clock=True,
        admin_token=ADMIN_TOKEN,
        synthetic_history_days=2,
        data_dir=default_data_dir(),
        limits=limits or GENEROUS_LIMITS,
        tick_seconds=3600,
    )
    options.update(overrides)
    return ServerThread(ExchangeConfig(**options)).start()


class PaperAdmin:
    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"

    def create_key(self, balances: dict | None = None, **options) -> dict:
        response = self.session.post(
            f"{self.url}/admin/keys", json={"balances": balances or {}, **options}, timeout=10
        )
        response.raise_for_status()
        return response.json()
