"""One load-generating process: market-data reads at full speed through the gateway.

Run as `python -m tests.exchange.support.load_driver EGRESS START_MS END_MS SEED`
with PAPER_EXCHANGE_URL set; prints one JSON line: the weight it got answered within
[START_MS, END_MS) of exchange time, its request count and how many 429/418 it saw.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time


def main(egress: str, start_ms: int, end_ms: int, seed: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from apps.exchange.errors import ExchangeError, RateLimitedError
    from apps.exchange.gateway import ExchangeGateway
    from apps.exchange.weights import request_weight

    gateway = ExchangeGateway("paper", egress=egress)
    rng = random.Random(seed)
    mix = [
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 100}),
        ("/api/v3/depth", {"symbol": "ETHUSDT", "limit": 500}),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": 10}),
        ("/api/v3/avgPrice", {"symbol": "BTCUSDT"}),
        ("/api/v3/ticker/price", {"symbol": "ETHUSDT"}),
    ]
    while gateway.exchange_now_ms() < start_ms:
        time.sleep(0.005)
    result = {"weight": 0, "requests": 0, "rate_limited": 0, "errors": 0}
    while True:
        path, params = rng.choice(mix)
        remaining = (end_ms - gateway.exchange_now_ms()) / 1000
        if remaining <= 0:
            break
        try:
            gateway.request("GET", path, params, retry=False)
        except RateLimitedError as error:
            if error.exchange_code is not None:  # the exchange said 429/418, not our limiter
                result["rate_limited"] += 1
            continue
        except ExchangeError:
            result["errors"] += 1
            continue
        # Answered within the measured span (a request still queued at the end is not).
        if gateway.exchange_now_ms() < end_ms:
            result["weight"] += request_weight("GET", path, params)
            result["requests"] += 1
    return result


if __name__ == "__main__":
    egress, start, end, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(egress, start, end, seed)), flush=True)
