"""Issue 8, end to end against the paper exchange on its test clock: replayed candles →
entry → fill → exchange-side OCOs per tranche → trailing stop moves → a partial
take-profit → exit on the stop, with a deposit in the middle; the realized PnL equals a
hand computation from the fills and commissions, and the deposit is neither PnL nor a
cushion against drawdown."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.marketdata.ingestion import record_closed_kline
from apps.risk.services import create_risk_profile
from apps.strategies.models import StrategyConfig
from apps.trading.cycle.account_state import refresh_state
from apps.trading.cycle.group import run_group
from apps.trading.models import CashFlow, Decision, Fill, Order, Position, Trade
from apps.trading.reconciliation import reconcile_account
from apps.trading.services import record_equity_snapshot
from apps.trading.states import OrderStatus
from tests.trading.cycle.support import BREAKOUT, enabled_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
MINUTE = 60_000
D = Decimal


class Market:
    """The test's view of the paper exchange: script prices, let a minute pass, and
    hand every newly closed candle to the platform as the streams would."""

    def __init__(self, admin, gateway, symbol: str = "BTCUSDT"):
        self.admin, self.gateway, self.symbol = admin, gateway, symbol
        self.stored = -1

    def now(self) -> int:
        return self.admin.session.get(f"{self.admin.url}/admin/clock", timeout=10).json()[
            "marketTime"
        ]

    def script(self, closes, volumes) -> int:
        response = self.admin.session.post(
            f"{self.admin.url}/admin/market",
            json={"symbol": self.symbol, "closes": [str(c) for c in closes],
                  "volumes": [str(v) for v in volumes]},
            timeout=10,
        )  # fmt: skip
        response.raise_for_status()
        return response.json()["firstOpenTime"]

    def align(self) -> None:
        """Move the market to the first second of a minute. A bar's tape visits its high
        and low in between, so where in its minute the clock stands decides which
        prices protection sees (the session's clock can stand anywhere after other
        tests); from the first second on, every price the test sees is a bar's open."""
        now = self.now()
        response = self.admin.session.post(
            f"{self.admin.url}/admin/clock/advance",
            json={"ms": (MINUTE - now % MINUTE) % MINUTE + 1_000},
            timeout=60,
        )
        response.raise_for_status()

    def minute(self) -> list[int]:
        """Advance one minute; store the candles that closed; their open times."""
        response = self.admin.session.post(
            f"{self.admin.url}/admin/clock/advance", json={"ms": MINUTE}, timeout=60
        )
        response.raise_for_status()
        return self.ingest(response.json()["marketTime"])

    def until(self, open_ms: int) -> int:
        """Let minutes pass until the candle opening at `open_ms` has closed."""
        while self.stored < open_ms:
            self.minute()
        return open_ms

    def ingest(self, now: int, history: int = 0) -> list[int]:
        last_closed = (now // MINUTE) * MINUTE - MINUTE
        start = last_closed - history * MINUTE if self.stored < 0 else self.stored + MINUTE
        rows = self.gateway.klines(self.symbol, "1m", startTime=start, endTime=last_closed)
        for row in rows:
            record_closed_kline("paper", self.symbol, "1m", row)
        if rows:
            self.stored = int(rows[-1][0])
        return [int(row[0]) for row in rows]


def _profile():
    return create_risk_profile(
        name="e2e",
        preset="balanced",
        overrides={
            "take_profit_ladder": [{"gain": "0.02", "fraction": "0.5"},
                                   {"gain": "0.10", "fraction": "1"}],
            "pyramid_max_additions": 0,
            "time_exit_hours": None,
            "min_reward_risk": D("0.5"),
        },
    )  # fmt: skip


def _cycle(config, open_ms):
    return run_group(
        environment="paper", symbol="BTCUSDT", interval="1m", open_time_ms=open_ms,
        config_ids=[config.pk],
    )  # fmt: skip


def test_candles_to_entry_protection_trailing_take_profit_and_exit(paper_account, exchange_admin):
    account = paper_account({"USDT": "10000"})
    config = enabled_config(account, params=dict(BREAKOUT))
    StrategyConfig.objects.filter(pk=config.pk).update(risk_profile=_profile())
    config.refresh_from_db()
    gateway = gateway_for_account(account)
    market = Market(exchange_admin, gateway)
    market.align()
    market.ingest(market.now(), history=30)
    record_equity_snapshot(
        account=account, equity=D("10000"), taken_at=_aware(market.now()), balances={}
    )
    price = D(gateway.avg_price("BTCUSDT")["price"]).quantize(D("0.01"))

    # Four quiet minutes, then a breakout on ten times the volume.
    breakout = (price * D("1.01")).quantize(D("0.01"))
    first = market.script([price] * 4 + [breakout], [10] * 4 + [100])
    breakout_open = market.until(first + 4 * MINUTE)
    decision = _cycle(config, breakout_open) and Decision.objects.filter(
        strategy_config=config
    ).latest("created_at")
    assert decision.signal == "enter_long", decision.signal_reason
    entry = Order.objects.get(strategy_config=config, intent="entry")
    assert entry.status == OrderStatus.FILLED
    position = Position.objects.get(strategy_config=config, status="open")
    entry_price = position.average_entry_price

    # Exchange-side protection: one OCO per ladder tranche, every unit under a stop.
    protective = Order.objects.filter(position=position, status=OrderStatus.NEW)
    stops = [o for o in protective if o.intent == "stop"]
    take_profits = [o for o in protective if o.intent == "take_profit"]
    assert len(stops) == len(take_profits) == 2
    assert len({o.order_list_id for o in protective}) == 2
    assert sum(o.quantity for o in stops) <= position.quantity
    assert position.quantity - sum(o.quantity for o in stops) < D("0.00001")
    first_stop = stops[0].stop_price

    # Up 2.5%: the first take-profit fills on the exchange; the trailing stop rises.
    market.script([entry_price * D("1.025"), entry_price * D("1.03")], [10, 10])
    for _ in range(2):
        opened = market.minute()[-1]
        reconcile_account(account, gateway=gateway)
        _cycle(config, opened)
    position.refresh_from_db()
    assert position.ladder_done == 1
    assert position.stop_price > first_stop
    assert position.stop_price > entry_price  # break-even then trailing
    open_stops = Order.objects.filter(position=position, intent="stop", status=OrderStatus.NEW)
    # Cancel-replaced at the trailed stop (on the symbol's 0.01 tick).
    assert [abs(o.stop_price - position.stop_price) < D("0.01") for o in open_stops] == [True]

    # A deposit arrives: a cash flow, not a gain.
    balances = {b["asset"]: b["free"] for b in gateway.account()["balances"]}
    exchange_admin.session.post(
        f"{exchange_admin.url}/admin/balances",
        json={"apiKey": account.paper_key["apiKey"],
              "balances": {"USDT": str(D(balances["USDT"]) + 5000)}},
        timeout=10,
    ).raise_for_status()  # fmt: skip
    reconcile_account(account, gateway=gateway)
    assert sum(f.value for f in CashFlow.objects.filter(account=account)) == D("5000")

    # The market falls through the trailed stop: the exchange sells the rest.
    first = market.script([entry_price * D("1.0"), entry_price * D("0.999")], [10, 10])
    for opened in (first, first + MINUTE):
        market.until(opened)
        reconcile_account(account, gateway=gateway)
        _cycle(config, opened)
    position.refresh_from_db()
    assert position.status == Position.Status.CLOSED
    trade = Trade.objects.get(position=position)

    # Realized PnL by hand from the fills: proceeds less sell fees, less the cost of
    # what was sold (the buy's BTC commission reduced what was received).
    fills = list(Fill.objects.filter(position=position))
    buys = [f for f in fills if f.side == "BUY"]
    sells = [f for f in fills if f.side == "SELL"]
    assert {f.order.intent for f in sells} <= {"take_profit", "stop", "exit"}
    assert any(f.order.intent == "take_profit" for f in sells)
    received = sum(f.quantity - (f.commission if f.commission_asset == "BTC" else 0)
                   for f in buys)  # fmt: skip
    cost = sum(f.quantity * f.price for f in buys)
    sold = sum(f.quantity for f in sells)
    proceeds = sum(f.quantity * f.price for f in sells)
    sell_fees = sum(f.commission_quote for f in sells)
    expected = proceeds - sell_fees - cost * sold / received
    assert abs(trade.realized_pnl - expected) < D("1e-8")
    assert trade.realized_pnl > 0  # sold above the entry all the way

    # The deposit is no PnL and no cushion: today's result is the trade's.
    state = refresh_state(
        account=account, gateway=gateway, marks={}, now_ms=int(time.time() * 1000)
    )
    daily = state.state.equity - state.state.day_start_equity
    assert abs(daily - trade.realized_pnl_value) < D("0.01")
    assert state.state.peak_equity >= D("15000")
    # No resting order is left behind once the position is closed.
    assert not Order.objects.filter(
        account=account, status__in=[OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED]
    ).exists()


def _aware(ms: int):
    from apps.marketdata.times import ms_to_datetime

    return ms_to_datetime(ms)
