"""Metrics read at scrape time rather than counted as they happen.

Celery queue lengths live in the broker (a Redis list per queue); reading them when
Prometheus scrapes keeps them exact without a process that polls. The worker
autoscalers (deploy/k8s/autoscaling.yaml) scale on this series.
"""

import redis
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from celery_worker.schedule import QUEUES

from .database import PoolCollector

QUEUE_LENGTH = "spotdesk_celery_queue_length"


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting per Celery queue (raises redis.RedisError when unreachable)."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            pipe.llen(queue)
        lengths = pipe.execute()
    return dict(zip(QUEUES, lengths, strict=True))


def broker_client(timeout: float = 1.0, url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url or settings.CELERY_BROKER_URL,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )


class CeleryQueueLengthCollector(Collector):
    def __init__(self, broker_url: str | None = None, timeout: float = 1.0):
        self._broker_url = broker_url
        self._timeout = timeout

    def _client(self) -> redis.Redis:
        return broker_client(self._timeout, self._broker_url)

    def collect(self):
        family = GaugeMetricFamily(
            QUEUE_LENGTH,
            "Messages waiting in each Celery queue (broker list length).",
            labels=["queue"],
        )
        try:
            lengths = queue_lengths(self._client())
        except redis.RedisError:
            # An unreachable broker shows as a missing series (alertable with absent()),
            # never as a zero that would scale workers down.
            return
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family

    def describe(self):
        # Describing without collecting keeps registration free of broker I/O.
        return [
            GaugeMetricFamily(
                QUEUE_LENGTH, "Messages waiting in each Celery queue.", labels=["queue"]
            )
        ]


# --- Per-account risk, read from the database (apps/monitoring/account_risk.py) -------
ACCOUNT_FAMILIES = {
    "spotdesk_account_equity": "Equity of the account's latest snapshot (valuation currency).",
    "spotdesk_account_drawdown_ratio": "Drawdown below the flow-adjusted peak equity (0..1).",
    "spotdesk_account_daily_pnl": "Equity change since 00:00 UTC, cash flows excluded.",
    "spotdesk_account_open_risk": "What the open positions lose if every stop fills "
    "(valuation currency; a position without a stop counts whole).",
    "spotdesk_account_heat_ratio": "Open risk as a share of equity.",
    "spotdesk_account_open_positions": "Open positions of the account.",
    "spotdesk_account_halted": "1 while the account is halted (a risk officer must resume it).",
}
ACCOUNTS_BY_STATUS = "spotdesk_accounts"


def _account_families() -> dict[str, GaugeMetricFamily]:
    families = {
        name: GaugeMetricFamily(name, text, labels=["account"])
        for name, text in ACCOUNT_FAMILIES.items()
    }
    families[ACCOUNTS_BY_STATUS] = GaugeMetricFamily(
        ACCOUNTS_BY_STATUS, "Exchange accounts by state.", labels=["status"]
    )
    return families


class AccountRiskCollector(Collector):
    """Equity, drawdown, daily PnL, heat and halted state of every account, queried
    when Prometheus scrapes: every process exports the same values with no per-event
    bookkeeping. A database that does not answer leaves the families empty (absent
    series, never misleading zeros)."""

    def collect(self):
        families = _account_families()
        try:
            self._fill(families)
        except Exception as exc:  # the page must render whatever is down
            from apps.core.logging import get_logger

            get_logger(__name__).warning("account metrics unavailable", error=type(exc).__name__)
            families = _account_families()
        yield from families.values()

    def _fill(self, families: dict[str, GaugeMetricFamily]) -> None:
        from .account_risk import account_risks

        by_status: dict[str, int] = {}
        for risk in account_risks():
            label = [str(risk.account_id)]
            by_status[risk.status] = by_status.get(risk.status, 0) + 1
            families["spotdesk_account_open_positions"].add_metric(label, risk.open_positions)
            families["spotdesk_account_open_risk"].add_metric(label, float(risk.open_risk))
            families["spotdesk_account_halted"].add_metric(label, 1.0 if risk.halted else 0.0)
            if risk.equity is None:
                continue
            families["spotdesk_account_equity"].add_metric(label, float(risk.equity))
            families["spotdesk_account_drawdown_ratio"].add_metric(label, float(risk.drawdown))
            families["spotdesk_account_daily_pnl"].add_metric(label, float(risk.daily_pnl))
            families["spotdesk_account_heat_ratio"].add_metric(label, float(risk.heat))
        for status, count in sorted(by_status.items()):
            families[ACCOUNTS_BY_STATUS].add_metric([status], count)

    def describe(self):
        return list(_account_families().values())


_registered = False


def register_collectors() -> None:
    global _registered  # register once per process
    if not _registered:
        REGISTRY.register(CeleryQueueLengthCollector())
        REGISTRY.register(AccountRiskCollector())
        REGISTRY.register(PoolCollector())
        _registered = True
