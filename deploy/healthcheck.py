"""Container healthchecks per role, with the standard library only (no curl in the image)."""

import json
import os
import sys
import urllib.request

import redis


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310  (fixed local URL)
        return response.status == 200


def worker_alive() -> bool:
    # The worker's own heartbeat key (written by the heartbeat task) must be fresh.
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    host = os.environ.get("HOSTNAME", "")
    keys = client.keys(f"spotdesk:heartbeat:worker:*{host}*")
    return any(json.loads(raw or "{}") for raw in client.mget(keys)) if keys else False


def beat_alive() -> bool:
    # Beat records its own heartbeat (apps.monitoring) each time it publishes.
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    return bool(client.keys("spotdesk:heartbeat:beat:*"))


def streams_alive() -> bool:
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
    return bool(client.keys("spotdesk:heartbeat:streams:*"))


def main(role: str) -> int:
    checks = {
        "web": lambda: http_ok(f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}/healthz"),
        "paper-exchange": lambda: http_ok(
            f"http://127.0.0.1:{os.environ.get('PAPER_EXCHANGE_PORT', '9100')}/api/v3/ping"
        ),
        "worker": worker_alive,
        "beat": beat_alive,
        "streams": streams_alive,
        "flower": lambda: http_ok("http://127.0.0.1:5555/healthcheck"),
    }
    try:
        return 0 if checks[role]() else 1
    except Exception as exc:
        sys.stderr.write(f"unhealthy: {type(exc).__name__}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "web"))
