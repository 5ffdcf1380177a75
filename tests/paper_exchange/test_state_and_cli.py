"""State file persistence across restarts, the admin CLI, and the server entry point."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import requests
from binance.client import Client

from apps.paper_exchange.config import PROJECT_ROOT
from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import ADMIN_TOKEN, Admin, make_config, point_client_at


def test_state_survives_a_restart(tmp_path):
    state_file = tmp_path / "paper-state.json"
    first = ServerThread(make_config(state_file=state_file, data_dir=None)).start()
    try:
        key = Admin(first.url).create_key({"USDT": "5000"})
        client = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), first.url)
        client.order_market_buy(symbol="BTCUSDT", quantity="0.01")
        last = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
        resting = client.order_limit_buy(
            symbol="BTCUSDT",
            quantity="0.01",
            price=str((last * Decimal("0.9")).quantize(Decimal("0.01"))),
        )
        before = client.get_account()["balances"]
    finally:
        first.stop()
    assert state_file.exists()
    second = ServerThread(make_config(state_file=state_file, data_dir=None)).start()
    try:
        client = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), second.url)
        assert client.get_account()["balances"] == before
        assert [o["orderId"] for o in client.get_open_orders(symbol="BTCUSDT")] == [
            resting["orderId"]
        ]
        assert len(client.get_my_trades(symbol="BTCUSDT")) >= 1
        following = client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
        assert following["orderId"] == resting["orderId"] + 1
    finally:
        second.stop()


def run_module(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "apps.paper_exchange", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_admin_cli_offline_on_a_state_file(tmp_path):
    state_file = str(tmp_path / "state.json")
    created = run_module(
        "admin", "--state-file", state_file, "keys", "create",
        "--balance", "USDT=10000", "--balance", "BTC=0.5", "--withdrawals",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert len(key["apiKey"]) == 64
    assert len(key["secretKey"]) == 64
    listed = json.loads(run_module("admin", "--state-file", state_file, "keys", "list").stdout)
    assert listed[0]["apiKey"] == key["apiKey"]
    assert "secretKey" not in listed[0]
    assert listed[0]["enableWithdrawals"] is True
    updated = run_module(
        "admin", "--state-file", state_file, "balances", "set",
        "--api-key", key["apiKey"], "--balance", "USDT=42",
    )  # fmt: skip
    assert json.loads(updated.stdout)["USDT"]["free"] == "42"
    bad = run_module(
        "admin", "--state-file", state_file, "balances", "set",
        "--account", "99", "--balance", "USDT=1",
    )  # fmt: skip
    assert bad.returncode == 2
    assert "account 99" in bad.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_entry_point_and_admin_cli_over_http(tmp_path: Path):
    port = free_port()
    env = {"PAPER_EXCHANGE_ADMIN_TOKEN": ADMIN_TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.paper_exchange", "--port", str(port), "--no-data"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                response = requests.get(f"{url}/api/v3/ping", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert (response.status_code, response.json()) == (200, {})
        created = run_module(
            "admin", "--url", url, "keys", "create", "--balance", "USDT=7", "--ed25519", env=env
        )
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)
        assert key["keyType"] == "ED25519"
        assert "BEGIN PRIVATE KEY" in key["privateKey"]
        refused = run_module(
            "admin", "--url", url, "keys", "list", env={"PAPER_EXCHANGE_ADMIN_TOKEN": "x"}
        )
        assert refused.returncode == 2
        assert "401" in refused.stderr
    finally:
        process.terminate()
        process.wait(30)


def test_heartbeat_fills_resting_orders_without_requests_at_demo_speed():
    # A market minute every 0.1 s of wall time; the heartbeat runs every 0.05 s.
    server = ServerThread(
        make_config(test_clock=False, speed=600, tick_seconds=0.05, data_dir=None)
    ).start()
    try:
        key = Admin(server.url).create_key({"USDT": "100000"})
        client = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), server.url)
        last = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
        price = str((last * Decimal("0.9998")).quantize(Decimal("0.01")))
        order = client.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price=price)
        stored = server.exchange.store.orders["BTCUSDT"][order["orderId"]]
        deadline = time.monotonic() + 20
        while server.call(lambda: stored.status) != "FILLED" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.call(lambda: stored.status) == "FILLED"
    finally:
        server.stop()
