"""Command-line options shared by ``python -m apps.paper_exchange`` and the Django commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from apps.paper_exchange import provisioning
from apps.paper_exchange.clock import wall_ms
from apps.paper_exchange.config import (
    ADMIN_TOKEN_ENV,
    DEFAULT_SYNTHETIC_SYMBOLS,
    ExchangeConfig,
    RateLimits,
    default_data_dir,
)
from apps.paper_exchange.state import Store


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100, help="port (default 9100)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="market data to replay (default $SPOTDESK_MARKET_DATA_DIR or ../shared/data)",
    )
    parser.add_argument("--no-data", action="store_true", help="synthetic symbols only")
    parser.add_argument(
        "--symbols",
        default=",".join(DEFAULT_SYNTHETIC_SYMBOLS),
        help="comma-separated symbols to generate (GBM) when no data has them",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="market speed factor (1 = real)")
    parser.add_argument(
        "--replay-start",
        type=parse_time,
        default=None,
        help="market time at which replayed data starts (ISO date or ms); "
        "by default the replay ends now",
    )
    parser.add_argument("--loop", action="store_true", help="loop the replayed data")
    parser.add_argument("--seed", default="spotdesk", help="seed of every generated path")
    parser.add_argument(
        "--test-clock",
        action="store_true",
        help="market time stands still until advanced through the admin endpoint",
    )
    parser.add_argument("--history-days", type=float, default=45.0, help="synthetic history")
    parser.add_argument("--state-file", type=Path, default=None, help="persist state here")
    parser.add_argument(
        "--admin-token", default=None, help=f"admin endpoint token (default ${ADMIN_TOKEN_ENV})"
    )
    parser.add_argument("--commission", default="0.001", help="default commission rate")
    parser.add_argument("--weight-limit", type=int, default=6000, help="REQUEST_WEIGHT per minute")
    parser.add_argument("--raw-limit", type=int, default=300_000, help="RAW_REQUESTS per 5 min")
    parser.add_argument("--orders-10s", type=int, default=50, help="ORDERS per 10 seconds")
    parser.add_argument("--orders-1d", type=int, default=160_000, help="ORDERS per day")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--faults",
        type=Path,
        default=None,
        help="JSON file of faults to inject from the start (the /admin/faults body)",
    )
    parser.add_argument("--fault-seed", default="faults", help="seed of the fault injector")
    parser.add_argument(
        "--ws-lifetime", type=float, default=24 * 3600.0, help="WebSocket lifetime in seconds"
    )


def parse_time(text: str) -> int:
    """``now``, milliseconds, or an ISO time with a zone (``2026-01-01T00:00:00Z``)."""
    if text == "now":
        return wall_ms()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time zone (e.g. ...Z)")
    return int(moment.timestamp() * 1000)


def read_faults(path: Path | None) -> dict:
    """The fault configuration file (checked now, so a typo stops the start)."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"--faults {path}: {error}") from None
    from apps.paper_exchange.faults.injector import FaultError, FaultInjector

    try:
        FaultInjector().configure(data, 0)
    except (FaultError, TypeError, ValueError) as error:
        raise SystemExit(f"--faults {path}: {error}") from None
    return data


def config_from_options(options: dict) -> ExchangeConfig:
    data_dir = None if options.get("no_data") else (options.get("data_dir") or default_data_dir())
    symbols = tuple(name.strip().upper() for name in options["symbols"].split(",") if name.strip())
    return ExchangeConfig(
        host=options["host"],
        port=options["port"],
        data_dir=data_dir,
        synthetic_symbols=symbols,
        speed=options["speed"],
        replay_start_ms=options.get("replay_start"),
        loop=options["loop"],
        seed=options["seed"],
        test_clock=options["test_clock"],
        synthetic_history_days=options["history_days"],
        state_file=options.get("state_file"),
        admin_token=options.get("admin_token") or os.environ.get(ADMIN_TOKEN_ENV),
        default_commission=Decimal(options["commission"]),
        access_log=options.get("access_log", False),
        faults=read_faults(options.get("faults")),
        fault_seed=options.get("fault_seed") or "faults",
        ws_max_lifetime_seconds=options.get("ws_lifetime") or 24 * 3600.0,
        limits=RateLimits(
            weight=options["weight_limit"],
            raw_requests=options["raw_limit"],
            orders_short=options["orders_10s"],
            orders_long=options["orders_1d"],
        ),
    )


# -- the admin CLI ----------------------------------------------------------------------


def add_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default="http://127.0.0.1:9100", help="running server (default :9100)"
    )
    parser.add_argument("--admin-token", default=None, help=f"default ${ADMIN_TOKEN_ENV}")
    parser.add_argument(
        "--state-file", type=Path, default=None, help="edit this state file instead (offline)"
    )
    groups = parser.add_subparsers(dest="group", required=True)
    keys = groups.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="create a key (and an account) and print it")
    create.add_argument("--balance", action="append", default=[], metavar="ASSET=AMOUNT")
    create.add_argument("--ed25519", action="store_true", help="Ed25519 key pair instead of HMAC")
    create.add_argument("--withdrawals", action="store_true")
    create.add_argument("--internal-transfer", action="store_true")
    create.add_argument("--no-trading", action="store_true", help="a read-only key")
    create.add_argument("--commission", default=None, help="commission rate of the new account")
    create.add_argument("--account", type=int, default=None, help="add the key to this account")
    create.add_argument("--label", default="")
    keys.add_parser("list", help="list keys (without secrets)")
    balances = groups.add_parser("balances", help="balances").add_subparsers(
        dest="action", required=True
    )
    setter = balances.add_parser("set", help="set free balances of an account")
    target = setter.add_mutually_exclusive_group(required=True)
    target.add_argument("--api-key")
    target.add_argument("--account", type=int)
    setter.add_argument("--balance", action="append", required=True, metavar="ASSET=AMOUNT")


def _request_body(options: dict) -> tuple[str, str, dict | None]:
    group, action = options["group"], options["action"]
    if group == "keys" and action == "list":
        return "GET", "/admin/keys", None
    balances = provisioning.parse_balances(options.get("balance") or [])
    if group == "keys":
        body: dict = {
            "balances": {asset: str(amount) for asset, amount in balances.items()},
            "ed25519": options["ed25519"],
            "withdrawals": options["withdrawals"],
            "internalTransfer": options["internal_transfer"],
            "trading": not options["no_trading"],
            "label": options["label"],
        }
        if options.get("commission") is not None:
            body["commission"] = options["commission"]
        if options.get("account") is not None:
            body["accountId"] = options["account"]
        return "POST", "/admin/keys", body
    body = {"balances": {asset: str(amount) for asset, amount in balances.items()}}
    if options.get("api_key"):
        body["apiKey"] = options["api_key"]
    else:
        body["accountId"] = options["account"]
    return "POST", "/admin/balances", body


def run_admin(options: dict) -> object:
    """Carry out an admin command; returns what to print as JSON."""
    if options.get("state_file"):
        return _run_offline(options)
    method, path, body = _request_body(options)
    token = options.get("admin_token") or os.environ.get(ADMIN_TOKEN_ENV, "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
        options["url"].rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        raise provisioning.ProvisioningError(f"server answered {error.code}: {detail}") from None
    except urllib.error.URLError as error:
        raise provisioning.ProvisioningError(
            f"cannot reach {options['url']} ({error.reason}); is run_paper_exchange running?"
        ) from None


def _run_offline(options: dict) -> object:
    store = Store(options["state_file"])
    store.load()
    group, action = options["group"], options["action"]
    if group == "keys" and action == "list":
        return provisioning.list_keys(store)
    balances = provisioning.parse_balances(options.get("balance") or [])
    if group == "keys":
        result = provisioning.create_key(
            store,
            wall_ms(),
            balances=balances,
            ed25519=options["ed25519"],
            withdrawals=options["withdrawals"],
            internal_transfer=options["internal_transfer"],
            trading=not options["no_trading"],
            commission=Decimal(options["commission"]) if options.get("commission") else None,
            label=options["label"],
            account_id=options.get("account"),
        )
    else:
        account = (
            provisioning.account_for_key(store, options["api_key"])
            if options.get("api_key")
            else provisioning.get_account(store, options["account"])
        )
        result = provisioning.set_balances(store, account.account_id, balances, wall_ms())
    store.save()
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m apps.paper_exchange [serve options]`` or ``... admin <command>``."""
    import logging

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["admin"]:
        parser = argparse.ArgumentParser(prog="python -m apps.paper_exchange admin")
        add_admin_arguments(parser)
        options = vars(parser.parse_args(argv[1:]))
        try:
            print(json.dumps(run_admin(options), indent=2))  # noqa: T201
        except provisioning.ProvisioningError as error:
            print(f"error: {error}", file=sys.stderr)  # noqa: T201
            return 2
        return 0
    parser = argparse.ArgumentParser(prog="python -m apps.paper_exchange")
    add_server_arguments(parser)
    options = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from apps.paper_exchange.server.app import run

    run(config_from_options(options))
    return 0
