"""The fleet-wide view behind /status: workers now, streams and exchange later."""

from dataclasses import dataclass, field

from django.conf import settings

from apps.core.redis import get_redis
from apps.exchange.status import exchange_status

from .heartbeats import WorkerHeartbeat, live_worker_heartbeats
from .readiness import CheckResult, run_readiness_checks


@dataclass
class FleetSnapshot:
    workers: list[WorkerHeartbeat] = field(default_factory=list)
    exchange: dict = field(default_factory=dict)
    readiness: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

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
        return bool(self.workers) and all(r.ok for r in self.readiness) and not self.errors

    def as_dict(self) -> dict:
        return {
            "healthy": self.healthy,
            "workers": [
                {
                    "hostname": w.hostname,
                    "queue": w.queue,
                    "pid": w.pid,
                    "age_seconds": round(w.age_seconds, 1),
                }
                for w in self.workers
            ],
            "web": {r.name: r.as_dict() for r in self.readiness},
            "exchange": self.exchange,
            "heartbeat_ttl_seconds": settings.WORKER_HEARTBEAT_TTL,
            "errors": self.errors,
        }


def fleet_snapshot() -> FleetSnapshot:
    snapshot = FleetSnapshot(readiness=run_readiness_checks())
    # The page must render whatever is down: each part reports its own failure.
    try:
        snapshot.workers = live_worker_heartbeats()
    except Exception as exc:
        snapshot.errors.append(f"worker heartbeats unavailable: {type(exc).__name__}")
    try:
        snapshot.exchange = exchange_status(get_redis())
    except Exception as exc:
        snapshot.errors.append(f"exchange status unavailable: {type(exc).__name__}")
    return snapshot
