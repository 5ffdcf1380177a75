"""The load benchmarks' data set (bench-only): organizations, accounts and configs
through the real services, then a million orders with their positions, fills and
decisions written with COPY (the services would take hours for a million).

Shape: ORGS organizations x ACCOUNTS_PER_ORG accounts, one breakout config per
account on one of five symbols; per account, round trips spread over the last
DAYS days, each one position with four orders (entry and take-profit filled, stop
and exit canceled) and two fills, plus a decision per order slot. Rows are written in
time order, so ids grow with time as they do in production. Only the newest round
trip of each account is open (the "one open position per config and symbol" rule).

Seeding happens once per database: `seeded()` finds the last order.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ORGS = 20
ACCOUNTS_PER_ORG = 10
ORDERS = 1_000_000
ORDERS_PER_POSITION = 4
DAYS = 180
SYMBOLS = (
    ("BTCUSDT", "BTC", Decimal("60000")),
    ("ETHUSDT", "ETH", Decimal("3000")),
    ("BNBUSDT", "BNB", Decimal("600")),
    ("SOLUSDT", "SOL", Decimal("150")),
    ("XRPUSDT", "XRP", Decimal("0.6")),
)
ORG_PREFIX = "Load org"


def _names(spaced: str) -> list[str]:
    return spaced.split()


VIEWER_PREFIX = "load-viewer"
STAFF_USERNAME = "load-staff"

ORDER_COLUMNS = _names(
    "id created_at updated_at symbol client_order_id exchange_order_id order_list_id intent "
    "order_type side time_in_force quantity price stop_price executed_quantity "
    "cumulative_quote_quantity status status_reason external needs_review review_reason "
    "exchange_updated_ms account_id decision_id strategy_config_id position_id"
)
FILL_COLUMNS = _names(
    "id created_at updated_at symbol side exchange_trade_id price quantity quote_quantity "
    "commission commission_asset commission_quote quote_rate is_maker executed_at source "
    "account_id order_id position_id"
)
POSITION_COLUMNS = _names(
    "id created_at updated_at symbol base_asset quote_asset status quantity cost_basis "
    "average_entry_price realized_pnl realized_pnl_value fees_paid bought_quantity "
    "sold_quantity dust_quantity dust_cost carried_quantity carried_cost original_quantity "
    "stop_price highest_price breakeven_done ladder_done additions opened_at closed_at "
    "account_id strategy_config_id ladder_canceled protection_version"
)
DECISION_COLUMNS = _names(
    "id created_at symbol interval candle_open_time strategy strategy_version "
    "params_fingerprint inputs indicators signal signal_reason outcome risk_verdict exits "
    "orders_placed error account_id strategy_config_id"
)


def seeded() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM trading_order WHERE id = %s)", [ORDERS])
        return cursor.fetchone()[0]


def tenants() -> list[dict]:
    """Organizations, accounts and configs through the services (created if missing)."""
    from django.contrib.auth import get_user_model

    from apps.accounts.actors import Actor
    from apps.accounts.models import AccountStatus, ExchangeAccount, Membership, Organization
    from apps.accounts.services import create_exchange_account, create_organization
    from apps.marketdata.services import sync_symbols
    from apps.strategies.models import StrategyConfig
    from apps.strategies.services import create_strategy_config
    from tests.accounts.factories import fake_api_key, fake_secret
    from tests.trading.support import exchange_info, symbol_entry

    system = Actor.for_system()
    sync_symbols(
        environment="paper",
        exchange_info=exchange_info(*(symbol_entry(s, b, "USDT") for s, b, _ in SYMBOLS)),
    )
    users = get_user_model().objects
    result = []
    for o in range(ORGS):
        name = f"{ORG_PREFIX} {o:02d}"
        org = Organization.objects.filter(name=name).first() or create_organization(
            actor=system, name=name
        )
        viewer = users.filter(username=f"{VIEWER_PREFIX}-{o:02d}").first()
        if viewer is None:
            viewer = users.create_user(f"{VIEWER_PREFIX}-{o:02d}", f"v{o}@example.com", None)
            Membership.objects.create(organization=org, user=viewer, role="viewer")
        accounts = []
        for a in range(ACCOUNTS_PER_ORG):
            account = ExchangeAccount.objects.filter(organization=org, name=f"load {a}").first()
            if account is None:
                account = create_exchange_account(
                    actor=system,
                    organization=org,
                    name=f"load {a}",
                    environment="paper",
                    api_key=fake_api_key(),
                    secret=fake_secret(),
                )
                ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
            symbol = SYMBOLS[(o * ACCOUNTS_PER_ORG + a) % len(SYMBOLS)]
            config = StrategyConfig.objects.filter(account=account).first()
            if config is None:
                config = create_strategy_config(
                    actor=system,
                    account=account,
                    name=f"breakout {symbol[0]}",
                    strategy="breakout",
                    symbols=[symbol[0]],
                    interval="1h",
                    params={},
                )
            accounts.append({"id": account.pk, "config": config.pk, "symbol": symbol})
        result.append({"org": org.pk, "viewer": viewer.pk, "accounts": accounts})
    return result


def _ensure_decision_partitions(start: datetime, end: datetime) -> None:
    from django.db import connection, transaction

    from apps.marketdata.partitioning import add_months, ensure_month

    month = start.date().replace(day=1)
    while month <= end.date():
        with transaction.atomic():
            ensure_month(connection, table="trading_decision", column="created_at", month=month)
        month = add_months(month, 1)


def seed(world: list[dict]) -> dict:
    """COPY the records; returns how many of each were written and how long it took."""
    import psycopg
    from django.conf import settings

    accounts = [a for org in world for a in org["accounts"]]
    positions_per_account = ORDERS // ORDERS_PER_POSITION // len(accounts)
    end = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(days=DAYS)
    step = (end - start) / positions_per_account
    _ensure_decision_partitions(start, end)
    db = settings.DATABASES["default"]
    dsn = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    started = time.perf_counter()
    counts = {"positions": 0, "orders": 0, "fills": 0, "decisions": 0}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        for table, columns, rows in (
            ("trading_position", POSITION_COLUMNS, _positions),
            ("trading_order", ORDER_COLUMNS, _orders),
            ("trading_fill", FILL_COLUMNS, _fills),
            ("trading_decision", DECISION_COLUMNS, _decisions),
        ):
            key = table.removeprefix("trading_") + "s"
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows(accounts, positions_per_account, start, step):
                    copy.write_row(row)
                    counts[key] += 1
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        for table in ("trading_position", "trading_order", "trading_fill", "trading_decision"):
            cur.execute(f"VACUUM ANALYZE {table}")
    counts["seconds"] = time.perf_counter() - started
    return counts


def _slots(accounts, per_account, start, step):
    """(position id, account, slot time) in time order: slot k of every account, then
    slot k+1 (ids then grow with time, as in production)."""
    position_id = 0
    for k in range(per_account):
        for n, account in enumerate(accounts):
            position_id += 1
            at = start + step * k + timedelta(seconds=n)
            yield position_id, account, at, k == per_account - 1


def _positions(accounts, per_account, start, step):
    for pid, account, at, last in _slots(accounts, per_account, start, step):
        symbol, base, price = account["symbol"]
        quantity = Decimal(100) / price
        quantity = quantity.quantize(Decimal("0.00001"))
        exit_price = price * Decimal("1.02")
        pnl = ((exit_price - price) * quantity).quantize(Decimal("0.00000001"))
        closed = None if last else at + step / 2
        yield (
            pid, at, closed or at, symbol, base, "USDT", "open" if last else "closed",
            quantity if last else 0, price * quantity if last else 0, price,
            0 if last else pnl, 0 if last else pnl, Decimal("0.2"), quantity,
            0 if last else quantity, 0, 0, 0, 0, quantity,
            price * Decimal("0.98"), price, False, 0 if last else 1, 0, at, closed,
            account["id"], account["config"], False, 1,
        )  # fmt: skip


def _orders(accounts, per_account, start, step):
    order_id = 0
    for pid, account, at, last in _slots(accounts, per_account, start, step):
        symbol, _base, price = account["symbol"]
        quantity = (Decimal(100) / price).quantize(Decimal("0.00001"))
        tp = price * Decimal("1.02")
        plan = (
            ("entry", "MARKET", "BUY", "", None, None, "filled"),
            ("stop", "STOP_LOSS_LIMIT", "SELL", "GTC", price * Decimal("0.979"),
             price * Decimal("0.98"), "new" if last else "canceled"),
            ("take_profit", "LIMIT", "SELL", "GTC", tp, None, "new" if last else "filled"),
            ("exit", "MARKET", "SELL", "", None, None, "canceled"),
        )  # fmt: skip
        for n, (intent, kind, side, tif, limit, stop, status) in enumerate(plan):
            order_id += 1
            created = at + timedelta(minutes=n)
            filled = status == "filled"
            fill_price = price if intent == "entry" else tp
            yield (
                order_id, created, created + timedelta(seconds=2), symbol,
                f"sd-{account['id']}-{pid}-{intent}", order_id, None, intent, kind, side, tif,
                quantity, limit, stop, quantity if filled else 0,
                (fill_price * quantity) if filled else 0, status, "", False, False, "",
                int(created.timestamp() * 1000), account["id"], None, account["config"], pid,
            )  # fmt: skip


def _fills(accounts, per_account, start, step):
    fill_id = 0
    order_id = 0
    for pid, account, at, last in _slots(accounts, per_account, start, step):
        symbol, _base, price = account["symbol"]
        quantity = (Decimal(100) / price).quantize(Decimal("0.00001"))
        entry_order, tp_order = order_id + 1, order_id + 3
        order_id += ORDERS_PER_POSITION
        legs = [("BUY", price, entry_order, at)]
        if not last:
            legs.append(("SELL", price * Decimal("1.02"), tp_order, at + step / 2))
        for side, fill_price, oid, executed in legs:
            fill_id += 1
            quote = fill_price * quantity
            yield (
                fill_id, executed, executed, symbol, side, fill_id, fill_price, quantity, quote,
                (quote * Decimal("0.001")).quantize(Decimal("0.00000001")), "USDT",
                (quote * Decimal("0.001")).quantize(Decimal("0.00000001")), 1,
                side == "SELL", executed, "stream", account["id"], oid, pid,
            )  # fmt: skip


def _decisions(accounts, per_account, start, step):
    decision_id = 0
    for _pid, account, at, _last in _slots(accounts, per_account, start, step):
        symbol, _base, price = account["symbol"]
        for n in range(ORDERS_PER_POSITION):
            decision_id += 1
            created = at + timedelta(minutes=n)
            signal = "buy" if n == 0 else "hold"
            yield (
                decision_id, created, symbol, "1h", created.replace(minute=0, second=0),
                "breakout", "1", "bench", f'{{"close": "{price}"}}',
                '{"atr": 1.5, "upper": 2.0}', signal, "bench", "accepted" if n == 0 else "",
                "{}", "[]", "[]", "", account["id"], account["config"],
            )  # fmt: skip
