"""Demo trading for the embedded default: three paper accounts whose keys exist on the
paper exchange, each running a strategy on 1-minute candles, so that a newcomer sees
decisions, orders and fills appear within minutes of `make run`.

Keys are provisioned on the paper exchange before it starts, in its state file (the
standalone platform starts it afterwards with that file); when a paper exchange already
answers, they are created through its admin API instead, because a running exchange
would overwrite an edited state file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests
from django.conf import settings
from django.db import transaction

from apps.accounts import services as account_services
from apps.accounts.actors import Actor
from apps.accounts.demo import DEMO_ORGANIZATION
from apps.accounts.models import AccountStatus, ExchangeAccount, Organization
from apps.core.errors import ConfigurationError
from apps.core.standalone import paper_state_file, reachable
from apps.marketdata.services import ensure_symbol
from apps.risk.models import RiskProfile
from apps.risk.services import create_risk_profile
from apps.strategies import services as strategy_services
from apps.strategies.models import StrategyConfig

DEMO_RISK_PROFILE = "Demo balanced"
DEMO_INTERVAL = "1m"


@dataclass(frozen=True)
class DemoAccount:
    name: str
    symbol: str
    strategy: str
    balances: dict[str, str]
    params: dict = field(default_factory=dict)
    valuation_currency: str = "USDT"


# Parameters chosen to trade often on 1-minute candles: a demo, not advice.
DEMO_ACCOUNTS = (
    DemoAccount(
        "Paper BTC mean reversion",
        "BTCUSDT",
        "mean_reversion",
        {"USDT": "10000"},
        {"bb_period": 20, "bb_deviations": 0.5, "oversold": 50.0, "overbought": 60.0},
    ),
    DemoAccount("Paper ETH trend", "ETHUSDT", "trend_following", {"USDT": "10000"}),
    DemoAccount("Paper XRP/ETH breakout", "XRPETH", "breakout", {"ETH": "10", "USDT": "1000"}),
)


@dataclass
class SeededAccount:
    account: ExchangeAccount
    created: bool


def _admin_token() -> str:
    from apps.paper_exchange.config import ADMIN_TOKEN_ENV

    return os.environ.get(ADMIN_TOKEN_ENV, "")


def _paper_answers() -> bool:
    return reachable(settings.PAPER_EXCHANGE_URL, default_port=80, timeout=0.5)


def provision_paper_key(balances: dict[str, str]) -> tuple[str, str]:
    """A new key on its own paper account with `balances`; returns (api key, secret)."""
    if _paper_answers():
        token = _admin_token()
        if not token:
            raise ConfigurationError(
                "A paper exchange is running at PAPER_EXCHANGE_URL, so demo keys must be "
                "created through its admin API. Fix: stop the platform first, or set "
                "PAPER_EXCHANGE_ADMIN_TOKEN to the token it was started with."
            )
        response = requests.post(
            f"{settings.PAPER_EXCHANGE_URL}/admin/keys",
            json={"balances": balances},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        key = response.json()
        return key["apiKey"], key["secretKey"]
    return _provision_offline(paper_state_file(), balances)


def _provision_offline(path: Path, balances: dict[str, str]) -> tuple[str, str]:
    from apps.paper_exchange.provisioning import create_key
    from apps.paper_exchange.state import Store

    store = Store(path)
    store.load()
    key = create_key(
        store, int(time.time() * 1000), balances={a: Decimal(v) for a, v in balances.items()}
    )
    store.save()
    return key["apiKey"], key["secretKey"]


def _risk_profile() -> RiskProfile:
    profile = RiskProfile.objects.filter(name=DEMO_RISK_PROFILE).first()
    if profile is not None:
        return profile
    # Mean reversion targets the middle band, close by: accept a smaller reward:risk.
    return create_risk_profile(
        name=DEMO_RISK_PROFILE, preset="balanced", overrides={"min_reward_risk": Decimal("0.5")}
    )


def _seed_account(organization: Organization, spec: DemoAccount, profile) -> SeededAccount:
    system = Actor.for_system()
    existing = ExchangeAccount.objects.filter(organization=organization, name=spec.name).first()
    if existing is not None:
        return SeededAccount(existing, created=False)
    api_key, secret = provision_paper_key(spec.balances)
    with transaction.atomic():
        account = account_services.create_exchange_account(
            actor=system,
            organization=organization,
            name=spec.name,
            environment="paper",
            api_key=api_key,
            secret=secret,
            valuation_currency=spec.valuation_currency,
        )
        # Until the streams sync exchangeInfo, the symbol is known by name only.
        ensure_symbol(environment="paper", name=spec.symbol)
        config = strategy_services.create_strategy_config(
            actor=system,
            account=account,
            name=f"{spec.strategy} {spec.symbol} {DEMO_INTERVAL}",
            strategy=spec.strategy,
            symbols=[spec.symbol],
            interval=DEMO_INTERVAL,
            params=spec.params,
            risk_profile=profile,
        )
        strategy_services.resume_strategy_config(actor=system, config=config)
        if account.status != AccountStatus.ACTIVE:
            account_services.resume_account(actor=system, account=account)
    return SeededAccount(account, created=True)


def ensure_demo_trading() -> list[SeededAccount]:
    """The demo organization's paper accounts, keys and running strategy configs
    (what exists is kept). The organization comes from `ensure_demo_tenancy`."""
    organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    profile = _risk_profile()
    return [_seed_account(organization, spec, profile) for spec in DEMO_ACCOUNTS]


def demo_configs() -> list[StrategyConfig]:
    return list(
        StrategyConfig.objects.filter(account__organization__name=DEMO_ORGANIZATION).order_by(
            "account__name"
        )
    )
