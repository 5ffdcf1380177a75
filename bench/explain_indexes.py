"""Every index on the large tables, justified by the plan of the product query that needs it.

Run: .venv/bin/python bench/explain_indexes.py [--scale 1.0] [--reseed] [--out FILE]

Seeds its own database (`spotdesk_bench_explain`: created, migrated and filled once,
reused by later runs) at a realistic volume (a million orders, fills, decisions,
candles and audit events at --scale 1), reads the indexes of the large tables from
pg_indexes, and for each one runs the product's own query (the ORM call of the
service, selector, task, admin or API view named in `USES`), captures the SQL it sends
and prints `EXPLAIN (ANALYZE, BUFFERS)` of it: the plan node that uses the index, its
rows and the query's time, as the markdown section docs/performance.md keeps under
`SECTION_HEADING`. An index on those tables that `USES` does not name fails the run:
it is either justified here or dropped by a migration.

tests/core/test_index_justification.py reads the same catalogue: every index of the
large tables must be named in docs/performance.md's section, and for each entry the
planner must be able to use the index for its query (other indexes hidden).
"""

# ruff: noqa: S608 - the seed SQL is built from this script's own numbers and times
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:  # report.py, when the test imports this file
    sys.path.insert(0, str(BENCH))

from report import ratio  # noqa: E402

DB_NAME = "spotdesk_bench_explain"
SECTION_HEADING = "## Indexes justified by EXPLAIN"

# Tables that grow with time or with trading; every index on them needs a reason here.
LARGE_TABLES = (
    "trading_order",
    "trading_fill",
    "trading_decision",
    "marketdata_candle",
    "audit_auditevent",
    "trading_position",
    "trading_trade",
    "trading_cashflow",
    "trading_equitysnapshot",
    "trading_reconciliationrun",
)


@dataclass(frozen=True)
class Sample:
    """Ids the product queries are asked about (a busy account, its config, ...)."""

    account_id: int = 1
    organization_id: int = 1
    audit_organization_id: int = 1
    config_id: int = 1
    symbol: str = "BTCUSDT"
    symbol_id: int = 1
    position_id: int = 1
    order_id: int = 1
    fill_id: int = 1
    decision_id: int = 1
    candle_id: int = 1
    event_id: int = 1
    chain: str = "org:1"
    actor: str = "ops1"
    action: str = "order.created"
    now: datetime = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Use:
    """One index and the product query that needs it."""

    index: str
    table: str
    code: str  # file:function of the query in the product
    why: str
    run: Callable[[Sample], object]  # executes the product query (its SQL is captured)
    constraint: str = ""  # the constraint the index enforces, when it backs one


def _account(s: Sample):
    from apps.accounts.models import ExchangeAccount

    return ExchangeAccount(pk=s.account_id, organization_id=s.organization_id)


def _first(queryset):
    return queryset.first()


def _get(rows, **lookup):
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return rows.get(**lookup)
    except ObjectDoesNotExist:  # the query ran; its plan is what matters
        return None


# --- the product queries ---------------------------------------------------------------


def _order_pk(s):
    from django.db import transaction

    from apps.trading.models import Order

    with transaction.atomic():
        return _get(Order.objects.select_for_update(), pk=s.order_id)


def _order_by_client_id(s):
    from apps.trading.models import Order

    return _first(Order.objects.filter(account_id=s.account_id, client_order_id="sd-x"))


def _order_by_exchange_id(s):
    from apps.trading.models import Order

    rows = Order.objects.filter(account_id=s.account_id, symbol=s.symbol, exchange_order_id=42)
    return _first(rows)


def _console_order_by_client_id(s):
    from apps.trading.admin import identity_keys
    from apps.trading.models import Order

    return identity_keys(Order, [("client_order_id", "sd-x")])


def _console_order_by_exchange_id(s):
    from apps.trading.admin import identity_keys
    from apps.trading.models import Order

    return identity_keys(Order, [("exchange_order_id", 400001)])


def _console_fill_by_trade_id(s):
    from apps.trading.admin import identity_keys
    from apps.trading.models import Fill

    return identity_keys(Fill, [("exchange_trade_id", 42)])


def _uncertain_orders(s):
    from apps.trading.models import Order
    from apps.trading.reconciliation import UNCERTAIN

    rows = Order.objects.filter(account_id=s.account_id, status__in=UNCERTAIN)
    return list(rows.order_by("created_at", "pk"))


def _account_page(model_name: str):
    """The API's first page of one account's rows (`?account=`), scoped to the
    organization as `for_user` scopes a member's request."""

    def run(s):
        from django.apps import apps

        from apps.accounts.scoping import organization_scope

        model = apps.get_model("trading", model_name)
        rows = model.objects.filter(organization_scope(model, [s.organization_id]))
        return list(rows.filter(account_id=s.account_id).order_by("-id")[:51])

    return run


def _needs_review(s):
    from apps.trading.models import Order

    rows = Order.objects.filter(account_id=s.account_id, needs_review=True)
    return list(rows.order_by("-id")[:51])


def _order_error_rates(s):
    from apps.monitoring.trading_alerts import order_error_rates

    return order_error_rates(since=s.now - timedelta(hours=1))


def _orders_of_position(s):
    from apps.trading.models import Order

    rows = Order.objects.filter(position_id=s.position_id, intent="stop")
    return list(rows.values_list("client_order_id", flat=True))


def _order_kpis(s):
    from apps.trading.kpis import order_kpis

    return order_kpis(s.config_id, s.now - timedelta(days=30), s.now)


def _fill_pk(s):
    from apps.trading.models import Fill

    return _get(Fill.objects.select_related("order__account", "position"), pk=s.fill_id)


def _fill_by_trade(s):
    from apps.trading.models import Fill

    rows = Fill.objects.filter(account_id=s.account_id, symbol=s.symbol, exchange_trade_id=42)
    return _first(rows)


def _fills_of_order(s):
    from apps.trading.models import Fill

    return Fill.objects.filter(order_id=s.order_id).count()


def _fills_of_position(s):
    from apps.trading.models import Position

    return list(Position(pk=s.position_id).fills.order_by("executed_at", "exchange_trade_id"))


def _decision_pk(s):
    from apps.trading.models import Decision

    rows = Decision.objects.filter(pk=s.decision_id).values_list("risk_verdict", flat=True)
    return rows.first()


def _recent_decisions(s):
    from apps.dashboard.selectors import recent_decisions

    return recent_decisions(_account(s))


def _decisions_of_config(s):
    from apps.trading.models import Decision

    rows = Decision.objects.filter(strategy_config_id=s.config_id, symbol=s.symbol)
    return list(rows.order_by("-created_at")[:51])


def _candle_pk(s):
    from apps.marketdata.models import Candle

    return _get(Candle.objects, pk=s.candle_id)


def _candle_window(s):
    from apps.backtest.data import candles_array
    from apps.marketdata.models import Symbol

    start = s.now - timedelta(days=30)
    return candles_array(symbol=Symbol(pk=s.symbol_id), interval="1h", start=start, end=s.now)


def _event_pk(s):
    from apps.audit.models import AuditEvent

    return _get(AuditEvent.objects, pk=s.event_id)


def _verify_chain(s):
    from apps.audit.models import AuditEvent

    # apps/audit/verify.py:verify_chain walks this queryset with .iterator().
    rows = AuditEvent.objects.filter(chain=s.chain, sequence__gte=1).order_by("sequence")
    return list(rows[:2000])


def _events_of_organization(s):
    from apps.audit.models import AuditEvent

    # The admin changelist of an organization's member (model ordering, one page).
    rows = AuditEvent.objects.filter(organization_id__in=[s.audit_organization_id])
    return list(rows[:100])


def _events_newest(s):
    from apps.audit.models import AuditEvent

    # The admin changelist of compliance staff (every organization) with the period filter.
    rows = AuditEvent.objects.filter(occurred_at__gte=s.now - timedelta(days=1))
    return list(rows[:100])


def _events_by_action(s):
    from apps.audit.models import AuditEvent

    rows = AuditEvent.objects.filter(action=s.action)
    return list(rows[:100])


def _events_by_actor(s):
    from apps.audit.models import AuditEvent

    rows = AuditEvent.objects.filter(actor_username=s.actor)
    return list(rows[:100])


def _event_by_hash(s):
    from apps.audit.models import AuditEvent

    return AuditEvent.objects.filter(hash="0" * 64).exists()


def _position_pk(s):
    from django.db import transaction

    from apps.trading.models import Position

    with transaction.atomic():
        return _get(Position.objects.select_for_update(), pk=s.position_id)


def _open_position_of_config(s):
    from apps.trading.models import Position

    return _first(
        Position.objects.filter(
            account_id=s.account_id, strategy_config_id=s.config_id, symbol=s.symbol, status="open"
        )
    )


def _entries_today(s):
    from apps.trading.models import Position

    # apps/trading/selectors.py:account_trade_stats (its second query, every cycle).
    day_start = s.now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Position.objects.filter(account_id=s.account_id, opened_at__gte=day_start).count()


def _previous_round_trip(s):
    from apps.trading.models import Position

    # apps/trading/services/fills.py:_position_for: the dust of the last closed round
    # trip is carried into a new position.
    rows = Position.objects.filter(
        account_id=s.account_id, strategy_config_id=s.config_id, symbol=s.symbol, status="closed"
    )
    return rows.order_by("-closed_at", "-pk").first()


def _trade_pk(s):
    from apps.trading.models import Trade

    return _get(Trade.objects, pk=1)


def _trade_of_position(s):
    from apps.trading.models import Trade

    return _first(Trade.objects.filter(position_id=s.position_id, closed_at=s.now))


def _account_trade_stats(s):
    from apps.trading.models import Trade
    from apps.trading.selectors import STATS_WINDOW

    # apps/trading/selectors.py:account_trade_stats (its first query).
    rows = Trade.objects.filter(account_id=s.account_id).order_by("-closed_at")[:STATS_WINDOW]
    return list(rows.only("closed_at", "realized_pnl_value"))


def _trade_kpis(s):
    from apps.trading.kpis import trade_kpis

    return trade_kpis(s.config_id, s.now - timedelta(days=30), s.now)


def _cash_flow_pk(s):
    from apps.trading.models import CashFlow

    rows = CashFlow.objects.filter(account_id=s.account_id, pk__gt=1, pk__lte=1000)
    return list(rows)


def _cash_flow_by_external_id(s):
    from apps.trading.models import CashFlow

    return _first(CashFlow.objects.filter(account_id=s.account_id, external_id="balance:1"))


def _equity_pk(s):
    from apps.trading.models import EquitySnapshot

    return _get(EquitySnapshot.objects, pk=1)


def _equity_series(s):
    from apps.dashboard.selectors import equity_series

    return equity_series(_account(s))


def _reconciliation_pk(s):
    from apps.trading.models import ReconciliationRun

    return _get(ReconciliationRun.objects, pk=1)


def _last_reconciliation(s):
    from apps.trading.models import ReconciliationRun

    rows = ReconciliationRun.objects.filter(account_id=s.account_id).exclude(status="failed")
    return rows.order_by("-started_at", "-pk").first()


PK = "PRIMARY KEY"
USES: tuple[Use, ...] = (
    # trading_order
    Use(
        "trading_order_pkey",
        "trading_order",
        "apps/trading/services/orders.py:transition_order",
        "every state change locks its order by id",
        _order_pk,
        PK,
    ),
    Use(
        "order_unique_client_id",
        "trading_order",
        "apps/trading/services/orders.py:create_order",
        "idempotency: an order is found by its client id before it is created",
        _order_by_client_id,
        "UNIQUE (account, client_order_id)",
    ),
    Use(
        "order_unique_exchange_id",
        "trading_order",
        "apps/trading/reconciliation.py:Reconciler.book_trade",
        "a trade of the exchange is matched to its order by exchange order id",
        _order_by_exchange_id,
        "UNIQUE (account, symbol, exchange_order_id)",
    ),
    Use(
        "order_client_id",
        "trading_order",
        "apps/trading/admin.py:identity_keys",
        "the ops console finds an order by a pasted client order id, in any account of "
        "the user's scope (also a fill search by client order id)",
        _console_order_by_client_id,
    ),
    Use(
        "order_exchange_id",
        "trading_order",
        "apps/trading/admin.py:identity_keys",
        "the ops console finds an order by a pasted exchange order id, in any account",
        _console_order_by_exchange_id,
    ),
    Use(
        "order_account_status",
        "trading_order",
        "apps/trading/reconciliation.py:Reconciler.resolve_uncertain",
        "reconciliation resolves the account's uncertain and open orders",
        _uncertain_orders,
    ),
    Use(
        "order_account_newest",
        "trading_order",
        "apps/api/views/trading.py:OrderViewSet",
        "an account's orders newest first (`?account=`, the dashboard's account page): "
        "the first page is read from the top, not sorted out of the account's history",
        _account_page("Order"),
    ),
    Use(
        "order_needs_review",
        "trading_order",
        "apps/api/views/trading.py:OrderViewSet",
        "`?needs_review=true` lists the account's flagged orders",
        _needs_review,
    ),
    Use(
        "trading_order_created_at_00821c00",
        "trading_order",
        "apps/monitoring/trading_alerts.py:order_error_rates",
        "the hourly error-rate check reads the last hour's orders of every account",
        _order_error_rates,
    ),
    Use(
        "trading_order_position_id_b34299f5",
        "trading_order",
        "apps/trading/invariants.py:unprotected_positions",
        "a position's stop orders (also the API's `?position=` filter)",
        _orders_of_position,
    ),
    Use(
        "trading_order_strategy_config_id_1cb29add",
        "trading_order",
        "apps/trading/kpis.py:order_kpis",
        "a configuration's orders over the KPI period",
        _order_kpis,
    ),
    # trading_fill
    Use(
        "trading_fill_pkey",
        "trading_fill",
        "apps/monitoring/trading_metrics.py:_report_fill",
        "the fill a metrics task is given by id",
        _fill_pk,
        PK,
    ),
    Use(
        "fill_unique_trade",
        "trading_fill",
        "apps/trading/services/fills.py:apply_fill",
        "idempotency: a trade is booked once per account",
        _fill_by_trade,
        "UNIQUE (account, symbol, exchange_trade_id)",
    ),
    Use(
        "fill_exchange_trade_id",
        "trading_fill",
        "apps/trading/admin.py:identity_keys",
        "the ops console finds a fill by a pasted exchange trade id, in any account",
        _console_fill_by_trade_id,
    ),
    Use(
        "fill_account_newest",
        "trading_fill",
        "apps/api/views/trading.py:FillViewSet",
        "an account's fills newest first (`?account=`, the dashboard's account page)",
        _account_page("Fill"),
    ),
    Use(
        "trading_fill_order_id_01337fa8",
        "trading_fill",
        "apps/trading/reconciliation.py:Reconciler.book_report",
        "the fills booked for an order",
        _fills_of_order,
    ),
    Use(
        "trading_fill_position_id_cdaedc59",
        "trading_fill",
        "apps/trading/services/fills.py:_rebook",
        "a position's fills, replayed on every fill",
        _fills_of_position,
    ),
    # trading_decision
    Use(
        "trading_decision_pkey",
        "trading_decision",
        "apps/trading/stops.py:approved_entry_stop",
        "the entry's decision, by id",
        _decision_pk,
        PK,
    ),
    Use(
        "decision_account_time",
        "trading_decision",
        "apps/dashboard/selectors.py:recent_decisions",
        "the account page's newest decisions",
        _recent_decisions,
    ),
    Use(
        "decision_config_time",
        "trading_decision",
        "apps/api/views/trading.py:DecisionViewSet",
        "`?strategy_config=&symbol=` newest first",
        _decisions_of_config,
    ),
    # marketdata_candle
    Use(
        "marketdata_candle_pkey",
        "marketdata_candle",
        "apps/marketdata/admin.py:CandleAdmin",
        "the admin's change page, by id",
        _candle_pk,
        PK,
    ),
    Use(
        "candle_unique_open_time",
        "marketdata_candle",
        "apps/backtest/data.py:candles_array",
        "ingestion's upsert key; the window a backtest or a cycle reads",
        _candle_window,
        "UNIQUE (symbol, interval, open_time)",
    ),
    # audit_auditevent
    Use(
        "audit_auditevent_pkey",
        "audit_auditevent",
        "apps/api/views/catalogue.py:AuditEventViewSet",
        "one event by id",
        _event_pk,
        PK,
    ),
    Use(
        "audit_event_chain_sequence",
        "audit_auditevent",
        "apps/audit/verify.py:verify_chain",
        "a chain is verified in sequence order; no fork",
        _verify_chain,
        "UNIQUE (chain, sequence)",
    ),
    Use(
        "audit_event_unique_hash",
        "audit_auditevent",
        "apps/audit/services.py:record_event",
        "tamper evidence: no two events share a hash",
        _event_by_hash,
        "UNIQUE (hash)",
    ),
    Use(
        "audit_audit_organiz_322460_idx",
        "audit_auditevent",
        "apps/audit/admin.py:AuditEventAdmin",
        "an organization's events, newest first",
        _events_of_organization,
    ),
    Use(
        "audit_auditevent_occurred_at_1f007848",
        "audit_auditevent",
        "apps/audit/admin.py:PeriodFilter",
        "every organization's newest events (compliance)",
        _events_newest,
    ),
    Use(
        "audit_event_action",
        "audit_auditevent",
        "apps/api/views/catalogue.py:AuditEventViewSet",
        "`?action=` (and the admin's filter)",
        _events_by_action,
    ),
    Use(
        "audit_event_actor",
        "audit_auditevent",
        "apps/audit/admin.py:ActorFilter",
        "one actor's events (and the API's `?actor=`)",
        _events_by_actor,
    ),
    # trading_position
    Use(
        "trading_position_pkey",
        "trading_position",
        "apps/trading/cycle/positions.py:save_exit_state",
        "exit management locks its position by id",
        _position_pk,
        PK,
    ),
    Use(
        "position_one_open_per_config_symbol",
        "trading_position",
        "apps/trading/cycle/account_cycle.py:_open_position",
        "one open position per (account, config, symbol); the cycle finds it",
        _open_position_of_config,
        "UNIQUE (account, strategy_config, symbol) WHERE open",
    ),
    Use(
        "position_account_status",
        "trading_position",
        "apps/trading/selectors.py:account_trade_stats",
        "entries opened today by the account (the risk engine's daily cap, every cycle); "
        "also every position of an account (reconciliation, invariants)",
        _entries_today,
    ),
    Use(
        "position_account_newest",
        "trading_position",
        "apps/api/views/trading.py:PositionViewSet",
        "an account's positions newest first (`?account=`)",
        _account_page("Position"),
    ),
    Use(
        "trading_position_strategy_config_id_d6fe533e",
        "trading_position",
        "apps/trading/services/fills.py:_position_for",
        "the config's last closed round trip, on every opening fill (also "
        "invariants.py:position_mismatches, every position of configurations)",
        _previous_round_trip,
    ),
    # trading_trade
    Use(
        "trading_trade_pkey",
        "trading_trade",
        "apps/api/views/trading.py:TradeViewSet",
        "one trade by id",
        _trade_pk,
        PK,
    ),
    Use(
        "trading_trade_position_id_key",
        "trading_trade",
        "apps/monitoring/trading_metrics.py:_observe_fill",
        "the trade a closing fill made",
        _trade_of_position,
        "UNIQUE (position) - one round trip per position",
    ),
    Use(
        "trade_account_closed",
        "trading_trade",
        "apps/trading/selectors.py:account_trade_stats",
        "the 500 latest round trips Kelly and the cooldown read",
        _account_trade_stats,
    ),
    Use(
        "trading_trade_strategy_config_id_4537aded",
        "trading_trade",
        "apps/trading/kpis.py:trade_kpis",
        "a configuration's round trips over the KPI period",
        _trade_kpis,
    ),
    # trading_cashflow
    Use(
        "trading_cashflow_pkey",
        "trading_cashflow",
        "apps/trading/reconciliation.py:Reconciler.explained",
        "the flows booked between two reconciliation runs (id range)",
        _cash_flow_pk,
        PK,
    ),
    Use(
        "cash_flow_unique_external_id",
        "trading_cashflow",
        "apps/trading/services/flows.py:record_cash_flow",
        "idempotency: a flow is found by its external id; also the account's flows",
        _cash_flow_by_external_id,
        "UNIQUE (account, external_id)",
    ),
    # trading_equitysnapshot
    Use(
        "trading_equitysnapshot_pkey",
        "trading_equitysnapshot",
        "apps/api/views/trading.py:EquityViewSet",
        "one snapshot by id",
        _equity_pk,
        PK,
    ),
    Use(
        "equity_unique_time",
        "trading_equitysnapshot",
        "apps/dashboard/selectors.py:equity_series",
        "the equity curve, newest first (also drawdown's peak)",
        _equity_series,
        "UNIQUE (account, taken_at)",
    ),
    # trading_reconciliationrun
    Use(
        "trading_reconciliationrun_pkey",
        "trading_reconciliationrun",
        "apps/trading/admin.py:ReconciliationRunAdmin",
        "the admin's change page, by id",
        _reconciliation_pk,
        PK,
    ),
    Use(
        "reconcile_account_time",
        "trading_reconciliationrun",
        "apps/trading/reconciliation.py:Reconciler.__init__",
        "the account's previous run",
        _last_reconciliation,
    ),
)

# Dropped because no product query needs them (migrations named in the section).
DROPPED = {
    "trading_order_account_id_2113cd4c": "order_account_status, order_unique_client_id",
    "trading_order_decision_id_7d3235d1": "no query reads orders by decision",
    "trading_fill_account_id_7d110656": "fill_unique_trade",
    "trading_fill_created_at_a58a06f0": "fills are read by executed_at and id",
    "trading_decision_account_id_fb682966": "decision_account_time",
    "trading_decision_strategy_config_id_bebcad95": "decision_config_time",
    "marketdata_candle_symbol_id_f7a854e7": "candle_unique_open_time",
    "audit_auditevent_organization_id_4b1fe3b9": "audit_audit_organiz_322460_idx",
    "audit_auditevent_action_2131bb77_like": "search is icontains: no pattern index serves it",
    "audit_auditevent_actor_username_45331152_like": "search is icontains, the filter exact",
    "audit_auditevent_hash_d0c402da_like": "nothing searches hashes by prefix",
    "trading_position_account_id_c6c60544": "position_account_status",
    "trading_position_created_at_a730f88e": "positions are read by opened_at and id",
    "trading_trade_account_id_8b02a6ba": "trade_account_closed",
    "trading_trade_created_at_1b311db8": "trades are read by closed_at and id",
    "trading_cashflow_account_id_0d3a1e21": "cash_flow_unique_external_id",
    "trading_cashflow_created_at_8414357e": "flows are read by occurred_at and id",
    "trading_equitysnapshot_account_id_ba67aa80": "equity_unique_time",
    "trading_reconciliationrun_account_id_284db76a": "reconcile_account_time",
}


# --- catalog reading (shared with the test) ----------------------------------------------


def indexes_of_large_tables(connection) -> dict[str, str]:
    """index name -> table, for every index of LARGE_TABLES (not their partitions')."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s)",
            [list(LARGE_TABLES)],
        )
        return dict(cursor.fetchall())


def index_family(connection, index: str) -> set[str]:
    """The index and the partitions' indexes attached to it (a plan names those)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE family(oid) AS (SELECT %s::regclass::oid UNION ALL "
            "SELECT i.inhrelid FROM pg_inherits i JOIN family f ON i.inhparent = f.oid) "
            "SELECT c.relname FROM family f JOIN pg_class c ON c.oid = f.oid",
            [index],
        )
        return {row[0] for row in cursor.fetchall()}


def constraint_owners(connection, table: str) -> dict[str, str]:
    """index -> the constraint it backs (primary key or unique), for one table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, c.conname FROM pg_constraint c "
            "JOIN pg_class i ON i.oid = c.conindid WHERE c.conrelid = %s::regclass",
            [table],
        )
        return dict(cursor.fetchall())


def drop_index(connection, table: str, index: str) -> None:
    """Drop one index, or the constraint it backs (callers roll back)."""
    owner = constraint_owners(connection, table).get(index)
    with connection.cursor() as cursor:
        if owner:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{owner}" CASCADE')
        else:
            cursor.execute(f'DROP INDEX "{index}"')


def captured_sql(use: Use, sample: Sample) -> str:
    """The SQL the product query sends to `use.table` (the first such statement)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        use.run(sample)
    marker = f'FROM "{use.table}"'
    for query in captured.captured_queries:
        sql = query["sql"]
        if marker in sql and sql.lstrip().upper().startswith("SELECT"):
            return sql
    raise LookupError(f"{use.code} sent no SELECT on {use.table}")


def explain(sql: str, *, analyze: bool) -> dict:
    from django.db import connection

    options = "ANALYZE, BUFFERS, " if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]


def nodes_using(plan: dict, names: set[str]) -> list[dict]:
    """Every plan node that scans one of the indexes `names`."""
    found = []
    stack = [plan["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Index Name") in names:
            found.append(node)
        stack.extend(node.get("Plans", []))
    return found


def indexes_in(plan: dict) -> set[str]:
    found = set()
    stack = [plan["Plan"]]
    while stack:
        node = stack.pop()
        if "Index Name" in node:
            found.add(node["Index Name"])
        stack.extend(node.get("Plans", []))
    return found


# --- seeding -----------------------------------------------------------------------------

ORGS, ACCOUNTS_PER_ORG, CONFIGS_PER_ACCOUNT, SYMBOLS = 20, 10, 3, 50
DAYS = 180


def _sql(cursor, statement: str) -> None:
    started = time.perf_counter()
    cursor.execute(statement)
    target = statement.split()[2] if statement.startswith("INSERT") else statement[:40]
    print(f"  {target:<40} {time.perf_counter() - started:7.1f} s", flush=True)


def _ensure_months(connection, *, table: str, column: str, first: date, last: date) -> None:
    from apps.marketdata.partitioning import add_months, ensure_month, month_start

    month = month_start(first)
    while month <= last:
        ensure_month(connection, table=table, column=column, month=month)
        month = add_months(month, 1)


def seed(scale: float, now: datetime) -> None:
    """A fleet of 200 accounts trading for six months; the rows are made by the server."""
    from django.db import connection, transaction

    n = {
        "orders": int(1_000_000 * scale),
        "decisions": int(1_000_000 * scale),
        "candles_per_symbol": int(20_000 * scale),
        "events": int(1_000_000 * scale),
        "positions": int(200_000 * scale),
        "flows": int(50_000 * scale),
        "snapshots": int(432_000 * scale),
        "runs": int(100_000 * scale),
    }
    accounts = ORGS * ACCOUNTS_PER_ORG
    configs = accounts * CONFIGS_PER_ACCOUNT
    start = now - timedelta(days=DAYS)
    candle_start = now - timedelta(hours=n["candles_per_symbol"])
    with transaction.atomic(), connection.cursor() as cursor:
        # Foreign-key triggers off while seeding: every row references ids the statements
        # before it created, and millions of deferred checks would double the seeding time.
        cursor.execute("SET LOCAL session_replication_role = replica")
        _ensure_months(
            connection,
            table="trading_decision",
            column="created_at",
            first=start.date(),
            last=now.date(),
        )
        _ensure_months(
            connection,
            table="marketdata_candle",
            column="open_time",
            first=candle_start.date(),
            last=now.date(),
        )
        for statement in _seed_statements(n, accounts, configs, start, candle_start):
            _sql(cursor, statement)
    with connection.cursor() as cursor:
        _sql(cursor, "ANALYZE")  # fresh statistics before any plan is read


def _seed_statements(n, accounts, configs, start, candle_start) -> list[str]:
    """The INSERT ... SELECT statements; every value is a number or time of ours."""

    def at(count: int) -> str:  # spread `count` rows evenly over the seeded period
        return (
            f"(TIMESTAMPTZ '{start.isoformat()}' + (i::float / {count}) * INTERVAL '{DAYS} days')"
        )

    def rows(count: int) -> str:
        """Row i, its config (of account i % accounts) and its symbol: small lookup
        tables joined by number (large arrays would be read again for every row)."""
        per = CONFIGS_PER_ACCOUNT
        return (
            f"generate_series(1, {count}) i "
            f"JOIN cfg ON cfg.k = (i % {accounts}) * {per} + (i / {accounts}) % {per} "
            f"JOIN sym ON sym.k = (i / {configs}) % {SYMBOLS}"
        )

    positions, orders = n["positions"], n["orders"]
    closed = positions - configs  # the last pass of (account, config, symbol) keys stays open
    statuses = (  # mostly done, a few open or uncertain ones below
        "(ARRAY['filled','filled','filled','canceled','canceled','filled','rejected',"
        "'expired','filled','canceled'])"
    )
    candle_at = f"TIMESTAMPTZ '{candle_start.isoformat()}' + h * INTERVAL '1 hour'"
    return [
        "INSERT INTO accounts_organization (created_at, updated_at, name, slug) "
        f"SELECT now(), now(), 'Org ' || i, 'org-' || i FROM generate_series(1, {ORGS}) i",
        "INSERT INTO accounts_exchangeaccount (created_at, updated_at, name, environment, "
        "valuation_currency, status, permissions, organization_id, live_approved_by) "
        "SELECT now(), now(), 'acct ' || i, 'paper', 'USDT', 'active', '{}', o.id, '' "
        f"FROM accounts_organization o, generate_series(1, {ACCOUNTS_PER_ORG}) i",
        "INSERT INTO strategies_strategyconfig (created_at, updated_at, name, strategy, "
        "strategy_version, symbols, interval, params, enabled, paused_reason, account_id) "
        "SELECT now(), now(), 'cfg ' || i, 'sma_cross', '1', '[]', '1h', '{}', true, '', a.id "
        f"FROM accounts_exchangeaccount a, generate_series(1, {CONFIGS_PER_ACCOUNT}) i",
        "INSERT INTO marketdata_symbol (created_at, updated_at, environment, name, "
        "base_asset, quote_asset, status, filters, tick_size, step_size, min_qty, "
        "min_notional, sector_tags) SELECT now(), now(), 'paper', 'SYM' || i || 'USDT', "
        "'SYM' || i, 'USDT', 'TRADING', '[]', 0.01, 0.0001, 0.0001, 5, '[]' "
        f"FROM generate_series(1, {SYMBOLS}) i",
        # Configs numbered in account order (config k belongs to account k / 3), symbols.
        "CREATE TEMP TABLE cfg ON COMMIT DROP AS SELECT row_number() OVER "
        "(ORDER BY account_id, id) - 1 AS k, id, account_id FROM strategies_strategyconfig",
        "CREATE TEMP TABLE sym ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY id) - 1 "
        "AS k, id, name FROM marketdata_symbol",
        "ANALYZE cfg",
        "ANALYZE sym",
        "INSERT INTO trading_position (created_at, updated_at, symbol, base_asset, "
        "quote_asset, status, quantity, cost_basis, average_entry_price, realized_pnl, "
        "realized_pnl_value, fees_paid, bought_quantity, sold_quantity, dust_quantity, "
        "dust_cost, carried_quantity, carried_cost, original_quantity, breakeven_done, "
        "ladder_done, additions, opened_at, closed_at, account_id, strategy_config_id, "
        "ladder_canceled, protection_version, stop_price) "
        f"SELECT {at(positions)}, {at(positions)}, sym.name, 'SYM', 'USDT', "
        f"CASE WHEN i > {closed} THEN 'open' ELSE 'closed' END, "
        f"CASE WHEN i > {closed} THEN 1 ELSE 0 END, 100, 100, 0, 0, 0.1, 1, 1, 0, 0, 0, 0, 1, "
        f"false, 0, 0, {at(positions)}, "
        f"CASE WHEN i > {closed} THEN NULL ELSE {at(positions)} + INTERVAL '6 hours' END, "
        f"cfg.account_id, cfg.id, false, 0, 95 FROM {rows(positions)}",
        "INSERT INTO trading_trade (created_at, updated_at, symbol, quantity, entry_price, "
        "exit_price, fees, realized_pnl, realized_pnl_value, return_pct, opened_at, "
        "closed_at, account_id, position_id, strategy_config_id) SELECT closed_at, "
        "closed_at, symbol, 1, 100, 101, 0.1, 0.9, 0.9, 0.009, opened_at, closed_at, "
        "account_id, id, strategy_config_id FROM trading_position WHERE status = 'closed'",
        "INSERT INTO trading_order (created_at, updated_at, symbol, client_order_id, "
        "exchange_order_id, intent, order_type, side, time_in_force, quantity, price, "
        "executed_quantity, cumulative_quote_quantity, status, status_reason, external, "
        "needs_review, review_reason, account_id, strategy_config_id, position_id) "
        f"SELECT {at(orders)}, {at(orders)}, sym.name, 'sd-' || i, i, "
        "(ARRAY['entry','stop','take_profit','exit'])[1 + i % 4], 'LIMIT', "
        "CASE WHEN i % 4 = 0 THEN 'BUY' ELSE 'SELL' END, 'GTC', 1, 100, 1, 100, "
        "CASE WHEN i % 500 = 0 THEN 'new' WHEN i % 997 = 0 THEN 'unknown' "
        f"ELSE {statuses}[1 + i % 10] END, '', false, i % 1000 = 0, '', cfg.account_id, "
        # Positions got consecutive ids from the statement above.
        f"cfg.id, (SELECT min(id) FROM trading_position) + i % {positions} FROM {rows(orders)}",
        "INSERT INTO trading_fill (created_at, updated_at, symbol, side, exchange_trade_id, "
        "price, quantity, quote_quantity, commission, commission_asset, commission_quote, "
        "quote_rate, is_maker, executed_at, source, account_id, order_id, position_id) "
        "SELECT created_at, created_at, symbol, side, id, 100, 1, 100, 0.1, 'USDT', 0.1, 1, "
        "false, created_at, 'stream', account_id, id, position_id FROM trading_order "
        "WHERE status = 'filled'",
        "INSERT INTO trading_decision (created_at, symbol, interval, candle_open_time, "
        "strategy, strategy_version, params_fingerprint, inputs, indicators, signal, "
        "signal_reason, outcome, risk_verdict, exits, orders_placed, error, account_id, "
        f"strategy_config_id) SELECT {at(n['decisions'])}, sym.name, '1h', "
        f"date_trunc('hour', {at(n['decisions'])}), 'sma_cross', '1', 'f', '{{}}', "
        "'{\"sma\": 1}', CASE WHEN i % 20 = 0 THEN 'buy' ELSE 'hold' END, '', '', '{}', "
        f"'[]', '[]', '', cfg.account_id, cfg.id FROM {rows(n['decisions'])}",
        "INSERT INTO marketdata_candle (interval, open_time, close_time, open, high, low, "
        "close, volume, quote_volume, trades, taker_buy_base_volume, "
        f"taker_buy_quote_volume, symbol_id) SELECT '1h', {candle_at}, "
        f"{candle_at} + INTERVAL '59 minutes 59.999 seconds', 100, 101, 99, 100, 10, 1000, 50, "
        f"5, 500, sym.id FROM sym, generate_series(0, {n['candles_per_symbol'] - 1}) h",
        "INSERT INTO audit_auditevent (chain, sequence, occurred_at, organization_id, "
        "actor_id, actor_username, action, object_type, object_id, changes, ip_address, "
        "user_agent, correlation_id, previous_hash, hash) "
        # As in production: automated actions by the system make most of the trail;
        # people, kill switches and a newly joined organization are rare.
        f"SELECT 'org:' || o.id, i, {at(n['events'])}, o.id, NULL, "
        "CASE WHEN i % 997 = 0 THEN 'ops' || (i % 50) ELSE 'system' END, "
        "CASE WHEN i % 5003 = 0 THEN 'exchange_account.killed' ELSE (ARRAY['order.created',"
        "'order.updated','fill.booked','decision.recorded'])[1 + i % 4] END, "
        "'trading.order', i::text, '{}', NULL, '', '', "
        "md5((i - 1)::text) || md5((i - 1)::text), md5(i::text) || md5(i::text) "
        f"FROM generate_series(1, {n['events']}) i JOIN (SELECT id, "
        "row_number() OVER (ORDER BY id) - 1 AS k FROM accounts_organization) o "
        f"ON o.k = CASE WHEN i % 1000 = 0 THEN {ORGS - 1} ELSE i % {ORGS - 1} END",
        "INSERT INTO trading_cashflow (created_at, updated_at, kind, asset, amount, value, "
        "occurred_at, external_id, source, account_id) "
        f"SELECT {at(n['flows'])}, {at(n['flows'])}, 'deposit', 'USDT', 100, 100, "
        f"{at(n['flows'])}, 'balance:' || i, 'stream', cfg.account_id FROM {rows(n['flows'])}",
        "INSERT INTO trading_equitysnapshot (taken_at, equity, unrealized_pnl, net_flows, "
        f"balances, account_id) SELECT TIMESTAMPTZ '{start.isoformat()}' "
        f"+ (i / {accounts}) * INTERVAL '2 hours', 10000 + i % 100, 0, 0, '{{}}', "
        f"cfg.account_id FROM {rows(n['snapshots'])}",
        "INSERT INTO trading_reconciliationrun (trigger, status, started_at, balances, "
        "reserve, trade_watermarks, counts, findings, error, account_id) "
        f"SELECT 'timer', CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'ok' END, {at(n['runs'])}, "
        f"'{{}}', '{{}}', '{{}}', '{{}}', '[]', '', cfg.account_id FROM {rows(n['runs'])}",
    ]


def pick_sample(now: datetime) -> Sample:
    """A busy account of the seeded fleet and ids that exist."""
    from django.db.models import Count, Max

    from apps.audit.models import AuditEvent
    from apps.marketdata.models import Candle
    from apps.trading.models import Decision, Fill, Order, Position

    # An open position, and the newest order of its account (every account is as busy).
    position = Position.objects.filter(status="open").select_related("account").last()
    order = Order.objects.filter(account_id=position.account_id).order_by("-id").first()
    fill = Fill.objects.order_by("-id").first()
    event = AuditEvent.objects.order_by("-id").first()

    # The selective values, where the audit's indexes matter: the smallest
    # organization's trail, a person's actions, the rarest action.
    def rarest(field, rows=None):
        rows = AuditEvent.objects.all() if rows is None else rows
        counted = rows.order_by().values(field).annotate(n=Count("id")).order_by("n", field)
        return counted.values_list(field, flat=True).first()

    small_org = rarest("organization_id")
    person = rarest("actor_username", AuditEvent.objects.exclude(actor_username="system"))
    action = rarest("action")
    candle = Candle.objects.order_by("-open_time").first()
    decision_id = Decision.objects.aggregate(top=Max("id"))["top"]
    return Sample(
        account_id=position.account_id,
        organization_id=position.account.organization_id,
        config_id=position.strategy_config_id,
        symbol=position.symbol,
        symbol_id=candle.symbol_id,
        position_id=position.pk,
        order_id=order.pk,
        fill_id=fill.pk,
        decision_id=decision_id,
        candle_id=candle.pk,
        event_id=event.pk,
        chain=event.chain,
        actor=person or event.actor_username,
        audit_organization_id=small_org,
        action=action,
        now=now,
    )


# --- the report --------------------------------------------------------------------------


def _warm_plan(sql: str) -> dict:
    """EXPLAIN ANALYZE once to warm the cache, then the measured one."""
    explain(sql, analyze=True)
    return explain(sql, analyze=True)


def _plan_summary(plan: dict) -> str:
    """The scans of a plan, e.g. `Seq Scan on trading_order`."""
    scans = []
    stack = [plan["Plan"]]
    while stack:
        node = stack.pop()
        if "Scan" in node["Node Type"] and "Relation Name" in node:
            target = node.get("Index Name") or node["Relation Name"]
            scans.append(f"{node['Node Type']} {target}")
        stack.extend(node.get("Plans", []))
    return ", ".join(dict.fromkeys(scans[:3])) or plan["Plan"]["Node Type"]


def _node_text(node: dict) -> str:
    condition = node.get("Index Cond") or node.get("Filter") or ""
    text = f"{node['Node Type']} using {node['Index Name']}"
    return f"{text} ({condition})" if condition else text


def report(sample: Sample, *, database_rows: dict[str, int]) -> tuple[str, list[str]]:
    """The markdown section and the problems found (unjustified or unused indexes)."""
    from django.db import connection, transaction

    present = indexes_of_large_tables(connection)
    documented = {use.index for use in USES}
    problems = [
        f"{name} on {table}: no product query is named for it (add a Use or drop it)"
        for name, table in sorted(present.items())
        if name not in documented
    ]
    problems += [
        f"{name}: documented but not in the database" for name in documented - set(present)
    ]
    lines = [
        SECTION_HEADING,
        "",
        "Every index on the tables that grow with time or trading, with the product query",
        "that needs it and that query's plan at a realistic volume (`EXPLAIN (ANALYZE,",
        "BUFFERS)` of the SQL the product code sends, captured as it runs). Produced by",
        "`.venv/bin/python bench/explain_indexes.py` on its own seeded database (200",
        "accounts of 20 organizations, six months of trading); the queries ask about one",
        "busy account and, for the audit trail, the selective values (the smallest",
        "organization, a person rather than the system actor, the rarest action): the",
        'common ones are found by the time index alone. "Without it" is the same SQL',
        "once the index is dropped (inside a rolled-back transaction).",
        "`tests/core/test_index_justification.py` fails when an index of these tables is",
        "missing from this section or its query can no longer use it.",
        "",
        "Rows: " + ", ".join(f"{table} {count:,}" for table, count in database_rows.items()) + ".",
        "",
    ]
    gains = []
    for table in LARGE_TABLES:
        lines += [
            f"### {table}",
            "",
            "| index | needed by | why | plan node | rows | time | without it |",
            "|---|---|---|---|---|---|---|",
        ]
        for use in (u for u in USES if u.table == table):
            why = use.why + (f" (constraint: {use.constraint})" if use.constraint else "")
            with transaction.atomic():
                sql = captured_sql(use, sample)
                plan = _warm_plan(sql)
                transaction.set_rollback(True)
            with transaction.atomic():  # the same SQL once the index is gone (rolled back)
                drop_index(connection, use.table, use.index)
                bare = _warm_plan(sql)
                transaction.set_rollback(True)
            nodes = nodes_using(plan, index_family(connection, use.index))
            if nodes:
                used = _node_text(nodes[0]).replace("|", "\\|")
                rows = sum(n.get("Actual Rows", 0) * n.get("Actual Loops", 1) for n in nodes)
            else:
                others = ", ".join(sorted(indexes_in(plan))) or "no index"
                used = f"not used at this volume (plan uses {others})"
                rows = plan["Plan"].get("Actual Rows", 0)
                if not use.constraint:
                    problems.append(f"{use.index}: {use.code}'s query does not use it")
            with_ms, without_ms = plan["Execution Time"], bare["Execution Time"]
            gains.append(without_ms / max(with_ms, 0.001))
            lines.append(
                f"| `{use.index}` | `{use.code}` | {why} | {used} | {rows:,} | "
                f"{with_ms:.2f} ms | {without_ms:.2f} ms ({_plan_summary(bare)}) |"
            )
        lines.append("")
    geomean = math.exp(sum(math.log(g) for g in gains) / len(gains))
    lines += [
        f"Gain of the indexes (time without / with, same query, same run): geometric mean "
        f"{geomean:,.1f}x, smallest {min(gains):,.2f}x.",
        "",
    ]
    ratio("explain_indexes.without_vs_with_geomean", geomean)
    ratio("explain_indexes.without_vs_with_smallest", min(gains))
    lines += [
        "### Dropped (no product query needs them)",
        "",
        "Each was the single-column index Django makes for a foreign key or a timestamp;",
        "the index in the right column leads with the same column, or nothing filters or",
        "sorts by it; the `_like` twins Django adds to indexed text columns serve only",
        "`LIKE 'prefix%'`, which no product query sends (the audit's exact filters keep",
        "plain indexes: `audit_event_action`, `audit_event_actor`, and the hash's",
        "uniqueness is the constraint `audit_event_unique_hash`). Migrations:",
        "`trading 0006_drop_unused_indexes`, `marketdata 0003_drop_candle_symbol_index`,",
        "`audit 0003_audit_indexes_without_pattern_twins`.",
        "",
        "| dropped | covered by / reason |",
        "|---|---|",
        *(f"| `{name}` | {why} |" for name, why in DROPPED.items()),
        "",
    ]
    return "\n".join(lines), problems


def _prepare_database(reseed: bool, scale: float, now: datetime) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists and reseed:
            c.execute(f"DROP DATABASE {DB_NAME} WITH (FORCE)")
        if not exists or reseed:
            c.execute(f"CREATE DATABASE {DB_NAME}")
    import subprocess

    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from apps.trading.models import Order

    if not Order.objects.exists():
        print(f"seeding {DB_NAME} (scale {scale})", flush=True)
        seed(scale, now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a million orders")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    parser.add_argument("--out", type=Path, help="also write the markdown section here")
    options = parser.parse_args()

    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    _prepare_database(options.reseed, options.scale, now)

    from django.db import connection

    with connection.cursor() as cursor:
        rows = {}
        for table in LARGE_TABLES:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            rows[table] = cursor.fetchone()[0]
    section, problems = report(pick_sample(now), database_rows=rows)
    print(section)
    if options.out:
        options.out.write_text(section + "\n", encoding="utf-8")
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
