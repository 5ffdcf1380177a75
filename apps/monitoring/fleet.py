"""The fleet-wide view behind /status: workers (live and stale), beat, the streams'
shards, broker queues, exchange and its request weight, alerts of the last hours,
accounts by state and the largest drawdowns, scoped to the viewer."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from apps.core.redis import get_redis
from apps.exchange.status import exchange_status

from . import conf
from .account_risk import AccountRisk, largest_drawdowns
from .collectors import broker_client, queue_lengths
from .heartbeats import (
    BeatHeartbeat,
    WorkerHeartbeat,
    beat_heartbeats,
    worker_heartbeats_with_stale,
)
from .readiness import CheckResult, run_readiness_checks
from .stream_status import StreamHeartbeat, WeightUsage, stream_heartbeats, weight_usage

ALERT_ROWS = 50
DRAWDOWN_ROWS = 10


@dataclass
class FleetSnapshot:
    workers: list[WorkerHeartbeat] = field(default_factory=list)
    beats: list[BeatHeartbeat] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)
    exchange: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)
    alert_counts: dict[str, int] = field(default_factory=dict)
    accounts_by_status: dict[str, int] = field(default_factory=dict)
    readiness: list[CheckResult] = field(default_factory=list)
    streams: list[StreamHeartbeat] = field(default_factory=list)
    weights: list[WeightUsage] = field(default_factory=list)
    drawdowns: list[AccountRisk] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def stale_streams(self) -> list[StreamHeartbeat]:
        return [s for s in self.streams if s.stale]

    @property
    def live_workers(self) -> list[WorkerHeartbeat]:
        return [w for w in self.workers if not w.stale]

    @property
    def stale_workers(self) -> list[WorkerHeartbeat]:
        return [w for w in self.workers if w.stale]

    @property
    def account_rows(self) -> list[tuple[str, int]]:
        """(translated state, count) for the page; the JSON keeps the codes."""
        from apps.accounts.models import AccountStatus

        labels = dict(AccountStatus.choices)
        return [(labels.get(code, code), n) for code, n in self.accounts_by_status.items()]

    @property
    def alert_hours(self) -> int:
        return conf.status_alert_hours()

    @property
    def beat_alive(self) -> bool:
        return any(not b.stale for b in self.beats)

    @property
    def exchange_rows(self) -> list[dict]:
        """One row per environment: clock offset and the latest connectivity sample."""
        offsets = self.exchange.get("time_offsets", {})
        samples = self.exchange.get("connectivity", {})
        return [
            {"environment": env, **offsets.get(env, {}), **samples.get(env, {})}
            for env in sorted(set(offsets) | set(samples))
        ]

    @property
    def healthy(self) -> bool:
        return (
            bool(self.live_workers)
            and all(r.ok for r in self.readiness)
            and not self.stale_streams
            and not self.errors
        )

    def as_dict(self) -> dict:
        return {
            "healthy": self.healthy,
            "workers": [_worker_dict(w) for w in self.live_workers],
            "stale_workers": [_worker_dict(w) for w in self.stale_workers],
            "beat": {
                "alive": self.beat_alive,
                "instances": [
                    {
                        "hostname": b.hostname,
                        "pid": b.pid,
                        "age_seconds": round(b.age_seconds, 1),
                        "stale": b.stale,
                    }
                    for b in self.beats
                ],
            },
            "queues": self.queues,
            "web": {r.name: r.as_dict() for r in self.readiness},
            "exchange": self.exchange,
            "alerts": {
                "hours": conf.status_alert_hours(),
                "by_severity": self.alert_counts,
                "latest": [
                    {
                        "id": a.pk,
                        "created_at": a.created_at.isoformat(),
                        "severity": a.severity,
                        "event": a.event,
                        "message": a.message,
                        "organization_id": a.organization_id,
                    }
                    for a in self.alerts
                ],
            },
            "accounts_by_status": self.accounts_by_status,
            "streams": [s.as_dict() for s in self.streams],
            "weight_usage": [w.as_dict() for w in self.weights],
            "largest_drawdowns": [
                {
                    "account_id": r.account_id,
                    "name": r.name,
                    "status": r.status,
                    "equity": str(r.equity),
                    "peak_equity": str(r.peak_equity),
                    "drawdown": str(round(r.drawdown, 6)),
                }
                for r in self.drawdowns
            ],
            "heartbeat_ttl_seconds": settings.WORKER_HEARTBEAT_TTL,
            "errors": self.errors,
        }


def _worker_dict(w: WorkerHeartbeat) -> dict:
    return {
        "hostname": w.hostname,
        "queue": w.queue,
        "pid": w.pid,
        "age_seconds": round(w.age_seconds, 1),
        "metrics_port": w.metrics_port,
    }


def _alerts(snapshot: FleetSnapshot, user) -> None:
    from .models import Alert

    since = timezone.now() - timedelta(hours=conf.status_alert_hours())
    recent = Alert.objects.for_user(user).filter(created_at__gte=since)
    by_severity = recent.order_by().values_list("severity").annotate(n=Count("pk"))
    snapshot.alert_counts = dict(by_severity.values_list("severity", "n"))
    latest = recent.select_related("organization").order_by("-created_at")
    snapshot.alerts = list(latest[:ALERT_ROWS])


def _accounts(snapshot: FleetSnapshot, user) -> None:
    from apps.accounts.models import ExchangeAccount

    rows = (
        ExchangeAccount.objects.for_user(user)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    snapshot.accounts_by_status = dict(sorted(rows))


def _drawdowns(snapshot: FleetSnapshot, user) -> None:
    from apps.accounts.models import ExchangeAccount

    snapshot.drawdowns = largest_drawdowns(
        ExchangeAccount.objects.for_user(user), limit=DRAWDOWN_ROWS
    )


def fleet_snapshot(user=None) -> FleetSnapshot:
    snapshot = FleetSnapshot(readiness=run_readiness_checks())
    # The page must render whatever is down: each part reports its own failure.
    parts = [
        ("worker heartbeats", lambda: setattr(snapshot, "workers", worker_heartbeats_with_stale())),
        ("beat heartbeat", lambda: setattr(snapshot, "beats", beat_heartbeats())),
        ("broker queues", lambda: setattr(snapshot, "queues", queue_lengths(broker_client()))),
        ("exchange status", lambda: setattr(snapshot, "exchange", exchange_status(get_redis()))),
        ("stream heartbeats", lambda: setattr(snapshot, "streams", stream_heartbeats(get_redis()))),
        ("request weight", lambda: setattr(snapshot, "weights", weight_usage(get_redis()))),
    ]
    if user is not None:
        parts += [
            ("alerts", lambda: _alerts(snapshot, user)),
            ("accounts", lambda: _accounts(snapshot, user)),
            ("drawdowns", lambda: _drawdowns(snapshot, user)),
        ]
    for name, load in parts:
        try:
            load()
        except Exception as exc:
            snapshot.errors.append(f"{name} unavailable: {type(exc).__name__}")
    return snapshot
