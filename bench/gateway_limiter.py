"""Cost of the shared rate limiter's reservation, against a bare Redis round trip.

The limiter reserves weight with one Lua script per request (pause check, fair queue,
every counter the request touches). Reference, in the same run: the cheapest possible
shared counter, a pipelined INCRBY + PEXPIRE. The ratio says what fairness and
atomicity cost per request; both are far below one exchange round trip (~ms).

    .venv/bin/python bench/gateway_limiter.py [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    import django
    from report import ratio

    django.setup()
    from apps.core.redis import get_redis
    from apps.exchange.limiter import Limiter, Limits, WindowLimit

    redis_client = get_redis()
    scope = f"bench-{uuid.uuid4().hex[:8]}"
    limits = Limits(
        (WindowLimit("request_weight:1M", 60_000, 10**9),),
        (WindowLimit("raw_requests:5M", 300_000, 10**9),),
        (WindowLimit("orders:10S", 10_000, 10**9),),
    )
    limiter = Limiter(redis_client, scope, limits)

    def limiter_round() -> float:
        started = time.perf_counter()
        for _ in range(options.requests):
            limiter.try_reserve(2, orders=1, account="a", waiter="bench")
        return options.requests / (time.perf_counter() - started)

    def reference_round() -> float:
        key = f"exchange:limiter:{scope}:reference"
        started = time.perf_counter()
        for _ in range(options.requests):
            pipe = redis_client.pipeline(transaction=False)
            pipe.incrby(key, 2)
            pipe.pexpire(key, 120_000)
            pipe.execute()
        return options.requests / (time.perf_counter() - started)

    limiter_rates, reference_rates = [], []
    try:
        for _ in range(options.rounds):
            limiter_rates.append(limiter_round())
            reference_rates.append(reference_round())
    finally:
        for key in redis_client.scan_iter(f"exchange:limiter:{scope}:*"):
            redis_client.delete(key)
    limiter_rate = statistics.median(limiter_rates)
    reference_rate = statistics.median(reference_rates)
    print(f"limiter reservations/s (median of {options.rounds}): {limiter_rate:,.0f}")
    print(f"reference INCRBY+PEXPIRE/s:                {reference_rate:,.0f}")
    print(f"ratio limiter/reference: {limiter_rate / reference_rate:.2f}")
    ratio("gateway_limiter.reservations_vs_incrby", limiter_rate / reference_rate)


if __name__ == "__main__":
    main()
