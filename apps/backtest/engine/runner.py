"""The event loop of a single-symbol backtest.

Each visited bar runs in the order live trading sees it: orders decided at the
previous close fill at this bar's open; in ``intrabar`` mode the resting stop and
target may fill during the bar (stop first); at the close, exit management
(``evaluate_position``) and the strategy's signal decide the next orders, entries
sized by ``evaluate_entry``. Fills are booked with the trading core's pure accounting
(``apply_fill``), so positions, fees and dust follow the same rules as live.

Bars where nothing can happen are skipped: flat with no signal, or holding with
nothing to manage (no exit management, no resting stop or target touched).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

import numpy as np

from apps.risk.engine import (
    AccountState,
    Balance,
    OpenPosition,
    PositionState,
    RiskConfig,
    TradeProposal,
    evaluate_entry,
    evaluate_position,
)
from apps.risk.engine.exits import ExitKind
from apps.strategies.engine.base import Strategy
from apps.strategies.engine.context import MarketContext
from apps.strategies.engine.indicators import batch
from apps.trading.accounting.book import BUY, SELL, FillEvent, PositionBook, apply_fill
from apps.trading.accounting.stats import ClosedResult, trade_stats

from . import plainloop
from .columns import CandleColumns
from .fills import FillModel, to_price
from .market import MarketRules
from .metrics import compute_metrics
from .results import BacktestResult, TradeRecord
from .signals import ENTER, EXIT, SignalSeries, compute_signals, full_context
from .tradelist import columns_of

ZERO = Decimal(0)
ONE = Decimal(1)
_DAY_MS = 86_400_000
_SCAN_CHUNK = 4096


def _interval_ms(open_time: np.ndarray) -> int:
    """The median spacing of the candles (evenly spaced series need no sort)."""
    if open_time.size < 2:
        return 60_000
    gaps = np.diff(open_time)
    if gaps.min() == gaps.max():
        return int(gaps[0])
    return int(np.median(gaps))


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    symbol: str
    interval: str = "5m"
    initial_cash: Decimal = Decimal(10_000)
    fill: FillModel = field(default_factory=FillModel)
    market: MarketRules = field(default_factory=MarketRules)
    # None: every entry buys with all the cash and nothing but the strategy's EXIT
    # (and, intrabar, its stop and target) closes it: the peers' "all-in" model.
    risk: RiskConfig | None = None
    manage_exits: bool = True  # with a risk config: exit management on every bar held
    sectors: frozenset[str] = frozenset()
    atr_period: int = 14


@dataclass(slots=True)
class _Order:
    side: str
    quantity: Decimal | None  # None: all the cash (buy) or the whole position (sell)
    reason: str
    stop: Decimal | None = None
    target: Decimal | None = None
    addition: bool = False


def run_backtest(
    strategy: Strategy,
    candles: np.ndarray,
    settings: BacktestSettings,
    *,
    signals: SignalSeries | None = None,
    context: CandleColumns | MarketContext | None = None,
) -> BacktestResult:
    """Replay ``candles`` (``CANDLE_DTYPE``, oldest first; may be a memory map).
    ``context``: the candles' columns as ``full_context`` gives them, when the caller
    already has them (a sweep shares one)."""
    if context is None:
        context = full_context(candles, settings.symbol, settings.interval)
    if signals is None:
        signals = compute_signals(
            strategy, candles, settings.symbol, settings.interval, context=context
        )
    run = _Run(candles, signals, settings, context)
    run.execute()
    result = run.result()
    result.metrics = compute_metrics(result, interval_ms=run.interval_ms)
    return result


class _Run:
    def __init__(
        self,
        candles: np.ndarray,
        signals: SignalSeries,
        settings: BacktestSettings,
        context: CandleColumns | MarketContext | None = None,
    ):
        self.s = settings
        self.market = settings.market
        self.fill = settings.fill
        self.sig = signals
        # Columns are copied when first read: the plain loop reads opens at fills only.
        self.columns = CandleColumns.of(context, candles, settings.symbol, settings.interval)
        self.open_time, self.c = self.columns.open_time, self.columns.close
        self.n = len(self.c)
        self.interval_ms = _interval_ms(self.open_time)
        self.actionable = signals.actionable()
        self.every_bar_in_position = settings.risk is not None and settings.manage_exits
        self.atr = (
            batch.atr(self.h, self.lo, self.c, settings.atr_period)
            if settings.risk is not None
            else None
        )
        self.cash = settings.initial_cash
        self.book: PositionBook | None = None
        self.state: PositionState | None = None
        self.entry_bar = 0
        self.initial_risk: Decimal | None = None
        self.stop: Decimal | None = None  # resting protective orders (intrabar mode)
        self.target: Decimal | None = None
        self.dust_qty = ZERO
        self.dust_cost = ZERO
        self.pending: list[_Order] = []
        self.trades: list[TradeRecord] = []
        self.closed: list[ClosedResult] = []
        self.entries_by_day: dict[int, int] = {}
        self.refused: list[tuple[int, str]] = []
        self.rejected = 0
        self.fees = ZERO
        self.peak_equity = settings.initial_cash
        self.day: int | None = None
        self.day_start_equity = settings.initial_cash
        self.visited = 0
        self.last_visited = -1
        self._equity_now = settings.initial_cash
        # End-of-bar (cash, base held) after every bar that changed them.
        self.event_bar: list[int] = []
        self.event_cash: list[float] = []
        self.event_qty: list[float] = []

    @cached_property
    def o(self) -> np.ndarray:
        return self.columns.open

    @cached_property
    def h(self) -> np.ndarray:
        return self.columns.high

    @cached_property
    def lo(self) -> np.ndarray:
        return self.columns.low

    @cached_property
    def close_time(self) -> np.ndarray:
        return self.columns.close_time

    # --- the loop ------------------------------------------------------------------

    def execute(self) -> None:
        if plainloop.eligible(self):
            plainloop.execute_plain(self)
        else:
            self.execute_every_rule()

    def execute_every_rule(self) -> None:
        """The general loop (the reference the plain loop is tested against)."""
        i = self._next_actionable(-1)
        while i < self.n:
            self._bar(i)
            i = self._next_bar(i)

    def _next_actionable(self, after: int) -> int:
        k = int(np.searchsorted(self.actionable, after, side="right"))
        return int(self.actionable[k]) if k < self.actionable.size else self.n

    def _next_bar(self, i: int) -> int:
        if self.pending or (self.book is not None and self.every_bar_in_position):
            return i + 1
        following = self._next_actionable(i)
        if self.book is not None and self.fill.intrabar and (self.stop or self.target):
            following = min(following, self._next_touch(i + 1, following))
        return following

    def _next_touch(self, start: int, end: int) -> int:
        """First bar in [start, end) where the resting stop or target is touched."""
        stop = float(self.stop) if self.stop is not None else -np.inf
        target = float(self.target) if self.target is not None else np.inf
        for lo in range(start, end, _SCAN_CHUNK):
            hi = min(end, lo + _SCAN_CHUNK)
            hits = np.flatnonzero((self.lo[lo:hi] <= stop) | (self.h[lo:hi] >= target))
            if hits.size:
                return lo + int(hits[0])
        return end

    def _open_fills(self, i: int) -> bool:
        """Bar ``i``'s open: pending orders fill, then resting stops and targets are
        met; whether anything filled."""
        changed = False
        if self.pending:
            orders, self.pending = self.pending, []
            for order in orders:
                changed |= self._fill_at_open(i, order)
        if self.book is not None and self.fill.intrabar:
            changed |= self._resting_orders(i)
        return changed

    def _bar(self, i: int) -> None:
        self.visited += 1
        changed = False
        self._new_day(i)
        self.skipped_cash = self.cash
        held_before = self._held()
        changed |= self._open_fills(i)
        close = to_price(self.c[i])
        self._track_equity(i, close, held_before)
        if self.book is not None and self.every_bar_in_position:
            self._manage_exits(i, close)
        action = self.sig.actions[i]
        if action == EXIT and self.book is not None:
            if not any(o.side == SELL and o.quantity is None for o in self.pending):
                self.pending.append(_Order(SELL, None, self.sig.signals[i].reason))
        elif action == ENTER and self.book is None and not self.pending:
            self._decide_entry(i, close)
        if changed:
            self._record(i)
        self.last_visited = i

    # --- fills ---------------------------------------------------------------------

    def _fill_at_open(self, i: int, order: _Order) -> bool:
        open_price = to_price(self.o[i])
        if order.side == BUY:
            return self._buy(i, self.fill.market_buy(open_price), order)
        if self.book is None:
            return False
        return self._sell(i, self.fill.market_sell(open_price), order.quantity, order.reason)

    def _resting_orders(self, i: int) -> bool:
        # Stop first: when one candle touches both, the worse outcome is assumed.
        if self.stop is not None:
            price = self.fill.stop_fill(self.stop, to_price(self.o[i]), to_price(self.lo[i]))
            if price is not None:
                return self._sell(i, price, None, f"stop {self.stop} touched")
        if self.target is not None:
            price = self.fill.target_fill(self.target, to_price(self.o[i]), to_price(self.h[i]))
            if price is not None:
                return self._sell(i, price, None, f"target {self.target} touched")
        return False

    def _buy(self, i: int, price: Decimal, order: _Order) -> bool:
        rate = self.fill.commission
        affordable = self.cash / (price * (ONE + rate))
        wanted = affordable if order.quantity is None else min(order.quantity, affordable)
        quantity = self.market.market_quantity(wanted, price)
        if quantity is None:
            self.refused.append((i, f"buy of {wanted} at {price} below the symbol's minimums"))
            return False
        gross = price * quantity
        fee = self.fill.fee(gross)
        self.cash -= gross + fee
        self.fees += fee
        opening = self.book is None
        if opening:
            self.book = PositionBook.opening(
                carried_quantity=self.dust_qty, carried_cost=self.dust_cost
            )
            self.dust_qty = self.dust_cost = ZERO
            self.entry_bar = i
        self.book = apply_fill(self.book, self._event(BUY, price, quantity, fee, i))
        book = self.book
        if opening:
            self.stop, self.target = order.stop, order.target
            self.initial_risk = (
                (price - order.stop) * quantity + fee * 2
                if order.stop is not None and order.stop < price
                else None
            )
            self.state = PositionState(
                entry_price=book.average_price,
                quantity=book.quantity,
                original_quantity=quantity,
                opened_at_ms=int(self.open_time[i]),
                stop_price=order.stop,
                highest_price=price,
            )
        else:
            self.state = replace(
                self.state,
                entry_price=book.average_price,
                quantity=book.quantity,
                additions=self.state.additions + (1 if order.addition else 0),
            )
        if opening:
            day = int(self.open_time[i]) // _DAY_MS
            self.entries_by_day[day] = self.entries_by_day.get(day, 0) + 1
        return True

    def _sell(self, i: int, price: Decimal, quantity: Decimal | None, reason: str) -> bool:
        book = self.book
        held = book.quantity
        wanted = held if quantity is None else min(quantity, held)
        sell = self.market.market_quantity(wanted, price)
        if sell is None:
            if quantity is None:  # all of it is too little to sell: it is dust
                self._close(i, price, reason)
                return True
            self.refused.append((i, f"sell of {wanted} at {price} below the symbol's minimums"))
            return False
        gross = price * sell
        fee = self.fill.fee(gross)
        self.cash += gross - fee
        self.fees += fee
        self.book = apply_fill(book, self._event(SELL, price, sell, fee, i))
        remaining = self.book.quantity
        if remaining == 0 or self.market.is_dust(remaining, price):
            self._close(i, price, reason)
        else:
            self.state = replace(self.state, quantity=remaining)
        return True

    def _close(self, i: int, price: Decimal, reason: str) -> None:
        book = self.book
        exit_price = book.sold_value / book.sold if book.sold else price
        entry_price = book.bought_value / book.bought if book.bought else price
        self.trades.append(
            TradeRecord(
                symbol=self.s.symbol,
                entry_bar=self.entry_bar,
                exit_bar=i,
                entry_ms=int(self.open_time[self.entry_bar]),
                exit_ms=int(self.open_time[i]),
                quantity=book.bought,
                entry_price=entry_price,
                exit_price=exit_price,
                pnl=book.realized_pnl,
                fees=book.fees,
                invested=book.invested,
                initial_risk=self.initial_risk,
                exit_reason=reason,
                dust=book.quantity,
            )
        )
        self.closed.append(ClosedResult(int(self.close_time[i]), book.realized_pnl))
        # Dust stays held and joins the next position (the trading core's rule).
        self.dust_qty, self.dust_cost = book.quantity, book.cost
        self.book = self.state = None
        self.stop = self.target = self.initial_risk = None
        self.pending = [o for o in self.pending if o.side == BUY]

    def _event(self, side: str, price: Decimal, qty: Decimal, fee: Decimal, i: int) -> FillEvent:
        return FillEvent(
            side=side,
            price=price,
            quantity=qty,
            base_asset=self.market.base_asset,
            quote_asset=self.market.quote_asset,
            commission=fee,
            commission_asset=self.market.quote_asset,
            time_ms=int(self.open_time[i]),
        )

    # --- decisions at the close ----------------------------------------------------

    def _held(self) -> Decimal:
        return self.book.quantity if self.book is not None else self.dust_qty

    def _new_day(self, i: int) -> None:
        """Day-start equity for the daily loss limit: the equity at the close before the
        day's first candle. Called before this bar's fills; nothing changed since the
        last visited bar, which is earlier than that close."""
        day = int(self.open_time[i]) // _DAY_MS
        if day == self.day:
            return
        self.day = day
        before = int(np.searchsorted(self.open_time, day * _DAY_MS)) - 1
        self.day_start_equity = (
            self.cash + self._held() * to_price(self.c[before])
            if before >= 0
            else self.s.initial_cash
        )

    def _track_equity(self, i: int, close: Decimal, held_before: Decimal) -> None:
        """Equity at this close and the peak so far, counting the closes of skipped bars
        (the holding did not change on them)."""
        equity = self.cash + self._held() * close
        if held_before > 0 and self.last_visited + 1 < i:
            highest = to_price(float(self.c[self.last_visited + 1 : i].max()))
            equity_then = self.skipped_cash + held_before * highest
            if equity_then > self.peak_equity:
                self.peak_equity = equity_then
        if equity > self.peak_equity:
            self.peak_equity = equity
        self._equity_now = equity

    def _account(self, i: int, close: Decimal) -> AccountState:
        market = self.market
        positions = ()
        if self.book is not None:
            positions = (
                OpenPosition(
                    symbol=self.s.symbol,
                    quantity=self.book.quantity,
                    entry_price=self.book.average_price,
                    mark_price=close,
                    stop_price=self.state.stop_price,
                    sectors=self.s.sectors,
                ),
            )
        now_ms = int(self.close_time[i]) + 1
        day = int(self.open_time[i]) // _DAY_MS
        return AccountState(
            equity=self._equity_now,
            peak_equity=self.peak_equity,
            day_start_equity=self.day_start_equity,
            balances=(
                Balance(market.quote_asset, self.cash, ZERO),
                Balance(market.base_asset, self._held(), ZERO, close),
            ),
            positions=positions,
            stats=trade_stats(self.closed, entries_today=self.entries_by_day.get(day, 0)),
            now_ms=now_ms,
        )

    def _atr(self, i: int, indicators: dict) -> float | None:
        value = indicators.get("atr")
        if value is None and self.atr is not None:
            value = float(self.atr[i])
        return value if value is not None and np.isfinite(value) else None

    def _decide_entry(self, i: int, close: Decimal) -> None:
        signal = self.sig.signals[i]
        if self.s.risk is None:
            self.pending.append(_Order(BUY, None, signal.reason, signal.stop, signal.target))
            return
        market = self.market
        proposal = TradeProposal.from_signal(
            signal,
            entry=close,
            atr=self._atr(i, signal.indicators),
            sectors=self.s.sectors,
            quote_asset=market.quote_asset,
            quantity_step=market.step,
            min_quantity=market.min_qty,
            min_notional=market.min_notional,
        )
        decision = evaluate_entry(self.s.risk, self._account(i, close), proposal)
        if not decision.approved:
            self.rejected += 1
            return
        self.pending.append(
            _Order(BUY, decision.quantity, signal.reason, decision.stop, decision.target)
        )

    def _manage_exits(self, i: int, close: Decimal) -> None:
        atr = self._atr(i, {})
        plan = evaluate_position(
            self.state,
            price=close,
            now_ms=int(self.close_time[i]) + 1,
            config=self.s.risk.exits,
            high=to_price(self.h[i]),
            atr=None if atr is None else Decimal(repr(atr)),
        )
        # The plan's state already counts the sales it asks for; the book catches up
        # when they fill, so keep the held quantity until then.
        self.state = replace(plan.state, quantity=self.book.quantity)
        for action in plan.actions:
            if action.kind is ExitKind.EXIT_ALL:
                self.pending = [_Order(SELL, None, action.reason)]
                return
            if action.kind is ExitKind.SELL:
                self.pending.append(_Order(SELL, action.quantity, action.reason))
            elif action.kind is ExitKind.MOVE_STOP:
                self.stop = action.price
            elif action.kind is ExitKind.ADD:
                self._decide_addition(i, close, action.quantity, action.reason)

    def _decide_addition(self, i: int, close: Decimal, quantity: Decimal, reason: str) -> None:
        market = self.market
        proposal = TradeProposal(
            symbol=self.s.symbol,
            entry=close,
            stop=self.state.stop_price,
            atr=None,
            sectors=self.s.sectors,
            quote_asset=market.quote_asset,
            addition=True,
            quantity=quantity,
            quantity_step=market.step,
            min_quantity=market.min_qty,
            min_notional=market.min_notional,
        )
        decision = evaluate_entry(self.s.risk, self._account(i, close), proposal)
        if decision.approved:
            self.pending.append(_Order(BUY, decision.quantity, reason, addition=True))
        else:
            self.rejected += 1

    # --- output --------------------------------------------------------------------

    def _record(self, i: int) -> None:
        self.event_bar.append(i)
        self.event_cash.append(float(self.cash))
        self.event_qty.append(float(self._held()))

    def result(self) -> BacktestResult:
        n = self.n
        equity = _equity_curve(
            self.c, self.event_bar, self.event_cash, self.event_qty, self.s.initial_cash
        )
        trades = columns_of(self.trades)
        exposure = _exposure(
            n, trades.entry_bar, trades.exit_bar, self.entry_bar if self.book is not None else None
        )
        last_close = to_price(self.c[-1]) if n else ZERO
        return BacktestResult(
            symbol=self.s.symbol,
            initial_cash=self.s.initial_cash,
            final_cash=self.cash,
            final_equity=self.cash + self._held() * last_close,
            final_quantity=self._held(),
            open_time=self.open_time,
            equity=equity,
            exposure=exposure,
            trades=self.trades,
            fees=self.fees,
            evaluated_bars=self.sig.evaluated,
            visited_bars=self.visited,
            refused=self.refused,
            rejected=self.rejected,
        )


def _equity_curve(close, event_bar, event_cash, event_qty, initial_cash) -> np.ndarray:
    """Equity at every close: the (cash, base held) of the last event at or before
    the bar (the initial cash and nothing before the first) valued at the close."""
    bounds = np.asarray([0, *event_bar, close.size], dtype=np.int64)
    lengths = np.diff(bounds)  # bars each state lasts; events are in increasing bars
    # In place: every fresh 100,000-float array costs more than the arithmetic.
    equity = np.repeat(np.asarray([0.0, *event_qty]), lengths)
    equity *= close
    equity += np.repeat(np.asarray([float(initial_cash), *event_cash]), lengths)
    return equity


def _exposure(n: int, entry_bar, exit_bar, open_entry: int | None) -> np.ndarray:
    """True on the bars from each trade's entry to before its exit, and from the open
    position's entry to the end: one symbol's positions follow each other, so the
    bounds alternate entry, exit, entry, ..."""
    if open_entry is not None:
        entry_bar, exit_bar = np.append(entry_bar, open_entry), np.append(exit_bar, n)
    bounds = np.empty(2 * entry_bar.size + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, n
    bounds[1:-1:2], bounds[2:-1:2] = entry_bar, exit_bar
    holding = np.zeros(bounds.size - 1, dtype=bool)
    holding[1::2] = True
    return np.repeat(holding, np.diff(bounds))
