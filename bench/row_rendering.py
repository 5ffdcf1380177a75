"""List rendering: a page of orders and one of decisions through the API's row
serializers (apps/api/serializers/rows.py) against a plain DRF ModelSerializer over the
same fields, built anew for each page as a view does, in the same process.

Run: .venv/bin/python bench/row_rendering.py [--rows 50] [--repeat 400]

The rows are built in memory with the values a real page carries (decimals at their
columns' scale, aware datetimes, foreign key ids, nulls where a market order has no
price); rendering never touches the database, so the figure is the serialisation alone,
the share of a list request that docs/performance.md ("Load") attributes to DRF.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from report import ratio  # noqa: E402
from rest_framework import serializers  # noqa: E402

from apps.api.serializers.trading import DecisionSerializer, OrderSerializer  # noqa: E402
from apps.trading.models import Decision, Order  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)


def orders(count: int) -> list[Order]:
    return [
        Order(
            id=1_000_000 - i,
            account_id=7,
            strategy_config_id=11,
            position_id=None if i % 3 else i,
            decision_id=i,
            symbol="BTCUSDT",
            client_order_id=f"sd-{i:012d}",
            exchange_order_id=str(90_000 + i),
            order_list_id=None,
            intent="entry",
            order_type="MARKET" if i % 2 else "LIMIT",
            side="BUY",
            time_in_force="GTC",
            quantity=Decimal("0.01230000"),
            price=None if i % 2 else Decimal("64123.45000000"),
            stop_price=None,
            executed_quantity=Decimal("0.01230000"),
            cumulative_quote_quantity=Decimal("788.71843500"),
            status="filled",
            status_reason="",
            external=False,
            needs_review=False,
            review_reason="",
            created_at=START + timedelta(minutes=i),
            updated_at=START + timedelta(minutes=i, seconds=2),
        )
        for i in range(count)
    ]


def decisions(count: int) -> list[Decision]:
    return [
        Decision(
            id=500_000 - i,
            account_id=7,
            strategy_config_id=11,
            created_at=START,
            symbol="BTCUSDT",
            interval="1m",
            candle_open_time=START + timedelta(minutes=i),
            strategy="trend_following",
            strategy_version="1.0",
            params_fingerprint="f" * 16,
            inputs={"close": "64123.45"},
            indicators={"adx": 23.5, "atr": 41.2},
            signal="hold",
            signal_reason="no cross",
            outcome="",
            risk_verdict={"verdicts": []},
            exits=[],
            orders_placed=[],
            error="",
        )
        for i in range(count)
    ]


def timed(render, repeat: int) -> float:
    render()  # warm: plans and caches
    started = time.perf_counter()
    for _ in range(repeat):
        render()
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=400)
    args = parser.parse_args()
    for label, serializer_class, rows in (
        ("orders", OrderSerializer, orders(args.rows)),
        ("decisions", DecisionSerializer, decisions(args.rows)),
    ):
        # The reference is what a request did before: a plain ModelSerializer over the
        # same fields, built anew for each page (as a view does per request).
        plain = type("Plain", (serializers.ModelSerializer,), {"Meta": serializer_class.Meta})

        def generic(rows=rows, plain=plain):
            return plain(rows, many=True).data

        def fast(rows=rows, serializer_class=serializer_class):
            return serializer_class(rows, many=True).data

        assert [dict(row) for row in fast()] == [dict(row) for row in generic()], "must agree"
        ours, theirs = timed(fast, args.repeat), timed(generic, args.repeat)
        print(
            f"{label}: {args.rows} rows, row serializer {ours * 1000:.2f} ms, "
            f"DRF generic {theirs * 1000:.2f} ms per page"
        )
        ratio(f"row_rendering.{label}_speedup_vs_drf", theirs / ours)


if __name__ == "__main__":
    main()
