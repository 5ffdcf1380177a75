"""At most one beat: the scheduler holds a Redis lease for as long as it runs.

Deployments run beat as one replica (compose, Kubernetes `Recreate`); this lease is the
belt to those braces. A second beat started by mistake waits for the lease (a crashed
predecessor's lease expires after its TTL) and exits with a clear message if it stays
taken, so no periodic task is ever sent twice.
"""

from __future__ import annotations

import sys

LEASE_KEY = "spotdesk:beat:leader"


def acquire_beat_lease(redis_client, *, ttl: float, wait: float):
    """The held lease, or exit(3) naming the problem."""
    from apps.core.leases import RedisLease

    lease = RedisLease(redis_client, LEASE_KEY, ttl=ttl, wait=wait)
    if lease.acquire():
        return lease
    sys.stderr.write(
        "ERROR: another celery beat holds the scheduler lease "
        f"({LEASE_KEY} in Redis). Fix: run exactly one beat; if none runs, wait "
        f"{ttl:.0f} s for the lease of the stopped one to expire.\n"
    )
    raise SystemExit(3)
