"""The fleet-wide view behind /status: workers now, streams and exchange later."""

from dataclasses import dataclass, field

from django.conf import settings

from .heartbeats import WorkerHeartbeat, live_worker_heartbeats
from .readiness import CheckResult, run_readiness_checks


@dataclass
class FleetSnapshot:
    workers: list[WorkerHeartbeat] = field(default_factory=list)
    readiness: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

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
            "heartbeat_ttl_seconds": settings.WORKER_HEARTBEAT_TTL,
            "errors": self.errors,
        }


def fleet_snapshot() -> FleetSnapshot:
    snapshot = FleetSnapshot(readiness=run_readiness_checks())
    try:
        snapshot.workers = live_worker_heartbeats()
    except Exception as exc:
        snapshot.errors.append(f"worker heartbeats unavailable: {type(exc).__name__}")
    return snapshot
