"""Signed order round trips per second against the paper exchange, with python-binance.

Starts the paper exchange in a subprocess on a free loopback port, then sends signed
MARKET orders (alternately BUY and SELL, so balances and the unfilled-order count stay
put) through an unmodified python-binance client and prints orders per second.

Reference, in the same run: the same client sending the same signed requests to a bare
aiohttp endpoint that answers ``{}`` (no engine work). The ratio paper/reference says how
much of a round trip the exchange itself costs; the signing cost alone is printed too.

    .venv/bin/python bench/paper_exchange_orders.py [--orders 500] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from report import ratio as report_ratio

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback bench server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/api/v3/ping", timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def echo_server(port: int) -> None:
    """A bare aiohttp app answering every order request with ``{}``."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/api/v3/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def provision(url: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback bench server
        f"{url}/admin/keys",
        data=json.dumps({"balances": {"USDT": "100000000", "BTC": "1000"}}).encode(),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def client_for(url: str, key: dict):
    from binance.client import Client

    client = Client(key["apiKey"], key["secretKey"], ping=False)
    client.API_URL = f"{url}/api"
    for side in ("BUY", "SELL") * 20:  # warm up connections and caches
        client.create_order(symbol="BTCUSDT", side=side, type="MARKET", quantity="0.001")
    return client


def order_round_trips(client, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        side = "BUY" if index % 2 == 0 else "SELL"
        client.create_order(symbol="BTCUSDT", side=side, type="MARKET", quantity="0.001")
    return count / (time.perf_counter() - started)


def signing_only(key: dict, count: int) -> float:
    from binance.client import Client

    client = Client(key["apiKey"], key["secretKey"], ping=False)
    started = time.perf_counter()
    for _ in range(count):
        client._get_request_kwargs(
            "post",
            True,
            data={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
        )
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500, help="orders per round")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (median)")
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apps.paper_exchange",
            "--port",
            str(port),
            "--no-data",
            "--symbols",
            "BTCUSDT",
            "--history-days",
            "1",
            "--admin-token",
            ADMIN_TOKEN,
            "--weight-limit",
            "100000000",
            "--orders-10s",
            "100000000",
            "--orders-1d",
            "100000000",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    echo_port = free_port()
    echo = multiprocessing.Process(target=echo_server, args=(echo_port,), daemon=True)
    echo.start()
    try:
        wait_for(url)
        wait_for(f"http://127.0.0.1:{echo_port}")
        key = provision(url)
        paper_client = client_for(url, key)
        echo_client = client_for(f"http://127.0.0.1:{echo_port}", key)
        # Alternate rounds so that a busy neighbour on the machine slows both alike.
        papers, references, ratios = [], [], []
        for _ in range(args.rounds):
            papers.append(order_round_trips(paper_client, args.orders))
            references.append(order_round_trips(echo_client, args.orders))
            ratios.append(papers[-1] / references[-1])
        paper, reference = statistics.median(papers), statistics.median(references)
        ratio = statistics.median(ratios)
        signing = signing_only(key, args.orders * 4)
    finally:
        server.terminate()
        server.wait(30)
        echo.terminate()
        echo.join(30)
    print(f"paper exchange: {paper:,.0f} signed MARKET orders/s (median, python-binance, loopback)")
    print(f"reference     : {reference:,.0f} signed requests/s to a bare aiohttp {{}} endpoint")
    print(f"ratio         : {ratio:.2f} of the bare endpoint (median of per-round ratios)")
    print(f"rounds        : paper {[round(value) for value in papers]}")
    print(f"                bare  {[round(value) for value in references]}")
    print(f"signing alone : {signing:,.0f} signed payloads/s (python-binance, no I/O)")
    print(f"goal          : 500 orders/s -> {'met' if paper >= 500 else 'NOT met'}")
    report_ratio("paper_exchange.orders_vs_bare_aiohttp", ratio)


if __name__ == "__main__":
    main()
