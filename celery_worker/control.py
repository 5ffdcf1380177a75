"""Remote-control commands of Spotdesk's workers (`celery inspect`-style, on demand).

`spotdesk_profile` profiles a running worker without restarting it
(apps/monitoring/profiling.py holds the logic; `manage.py profile_process` sends it).
The command answers at once: sampling runs in a background thread and the result goes
to Redis. With the prefork pool the tasks run in child processes, so each child runs a
listener (started below) and the parent forwards the request to every child.
"""

from __future__ import annotations

import socket

from celery import signals
from celery.worker.control import control_command

_children: list = []


def _redis():
    from apps.core.redis import get_redis

    return get_redis(timeout=5.0)


def _pool_children(state) -> list[int]:
    pool = getattr(state.consumer, "pool", None)
    info = pool.info if pool is not None else {}
    return [int(pid) for pid in (info or {}).get("processes", ())]


@control_command(
    args=[("request", dict)],
    signature="<request>",
)
def spotdesk_profile(state, request):
    """Start a profile of this worker (and its pool children); the reply names the
    Redis results to wait for."""
    from apps.monitoring import profiling

    try:
        parsed = profiling.ProfileRequest.from_dict(request or {})
    except (TypeError, ValueError) as exc:
        return {"error": str(exc)}
    redis = _redis()
    started = profiling.start_background(
        parsed, lambda result: profiling.store_result(redis, parsed.request_id, result)
    )
    if started is None:
        return {"error": "a profile is already running in this worker"}
    results = [parsed.request_id]
    host = socket.gethostname()
    for pid in _pool_children(state):
        profiling.post_request(redis, profiling.child_listener_name(host, pid), parsed)
        results.append(profiling.child_result_id(parsed.request_id, pid))
    return {"ok": "profiling", "results": results}


@signals.worker_process_init.connect
def listen_for_profile_requests(**kwargs):
    """In each prefork child: a listener the parent's control command addresses."""
    import os

    from apps.monitoring import profiling

    name = profiling.child_listener_name(socket.gethostname(), os.getpid())
    _children.append(profiling.ProfileListener(name, _redis, kind="worker-child").start())


@signals.worker_process_shutdown.connect
def stop_profile_listener(**kwargs):
    while _children:
        _children.pop().stop(timeout=1.0)
