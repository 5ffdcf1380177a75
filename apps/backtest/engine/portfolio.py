"""Portfolio backtests: several symbols trading from one account's cash.

Each symbol is a sleeve: the single-symbol event loop's own fill, exit and entry steps
(``runner._Run``) with its cash replaced by the shared wallet, and with the risk
engine seeing the whole account: total equity, its peak and day-start value, every
balance and every open position (so portfolio heat, exposure caps and the drawdown
breaker act across symbols), and the correlation of this symbol's returns with each
held symbol over a trailing window (the correlation cap). Time advances on the union
of the symbols' bar times; at each time every sleeve first fills at the open, then
every sleeve decides at the close, as a live account would across its symbols.

Every bar of every symbol is visited (no fast-path skipping): the account's state at
each close depends on all symbols.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from apps.risk.engine import AccountState, Balance, OpenPosition, TradeProposal, evaluate_entry
from apps.strategies.engine.base import Strategy
from apps.trading.accounting.stats import trade_stats

from .fills import to_price
from .metrics import compute_metrics
from .results import BacktestResult
from .runner import _DAY_MS, BUY, ENTER, EXIT, SELL, BacktestSettings, _Order, _Run
from .signals import compute_signals

ZERO = Decimal(0)
CORRELATION_WINDOW = 100


@dataclass
class _Wallet:
    cash: Decimal
    equity: Decimal
    peak: Decimal
    day_start: Decimal


class _Sleeve(_Run):
    """One symbol's loop whose cash is the shared wallet's."""

    def __init__(self, candles, signals, settings, wallet: _Wallet, book: Portfolio):
        self.wallet = wallet
        self.portfolio = book
        super().__init__(candles, signals, settings)

    @property
    def cash(self) -> Decimal:
        return self.wallet.cash

    @cash.setter
    def cash(self, value: Decimal) -> None:
        self.wallet.cash = value

    def _account(self, i: int, close: Decimal) -> AccountState:
        return self.portfolio.account_state(i=i, sleeve=self, close=close)

    def _decide_entry(self, i: int, close: Decimal) -> None:
        if self.s.risk is None:
            super()._decide_entry(i, close)
            return
        signal = self.sig.signals[i]
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
            correlations=self.portfolio.correlations(self),
        )
        decision = evaluate_entry(self.s.risk, self._account(i, close), proposal)
        if not decision.approved:
            self.rejected += 1
            return
        self.pending.append(
            _Order(BUY, decision.quantity, signal.reason, decision.stop, decision.target)
        )


def _pending_entry(sleeve: _Sleeve) -> _Order | None:
    return next(
        (o for o in sleeve.pending if o.side == BUY and o.quantity and not o.addition), None
    )


class Portfolio:
    def __init__(
        self,
        strategy: Strategy,
        candles: dict[str, np.ndarray],
        settings: dict[str, BacktestSettings],
        *,
        initial_cash: Decimal,
        correlation_window: int = CORRELATION_WINDOW,
    ):
        self.initial_cash = initial_cash
        self.window = correlation_window
        self.wallet = _Wallet(initial_cash, initial_cash, initial_cash, initial_cash)
        self.sleeves: list[_Sleeve] = []
        for symbol, bars in candles.items():
            s = settings[symbol]
            signals = compute_signals(strategy, bars, s.symbol, s.interval)
            self.sleeves.append(_Sleeve(bars, signals, s, self.wallet, self))
        self.times = np.unique(np.concatenate([s.open_time for s in self.sleeves]))
        # Per sleeve: its bar at each time, or -1; and its latest bar at or before it.
        self.at = []
        self.latest = []
        for s in self.sleeves:
            pos = np.searchsorted(s.open_time, self.times)
            pos_c = np.minimum(pos, s.n - 1)
            exact = s.open_time[pos_c] == self.times
            self.at.append(np.where(exact, pos_c, -1))
            self.latest.append(np.searchsorted(s.open_time, self.times, side="right") - 1)
        self.k = 0
        self.day: int | None = None

    # --- what the risk engine sees -------------------------------------------------

    def _mark(self, index: int) -> Decimal | None:
        j = self.latest[index][self.k]
        return to_price(self.sleeves[index].c[j]) if j >= 0 else None

    def account_state(self, *, i: int, sleeve: _Sleeve, close: Decimal) -> AccountState:
        balances = [Balance(sleeve.market.quote_asset, self.wallet.cash, ZERO)]
        positions = []
        for index, s in enumerate(self.sleeves):
            mark = close if s is sleeve else self._mark(index)
            held = s._held()
            if mark is not None and held > 0:
                balances.append(Balance(s.market.base_asset, held, ZERO, mark))
            if mark is None:
                continue
            if s.book is not None:
                positions.append(
                    OpenPosition(
                        symbol=s.s.symbol,
                        quantity=s.book.quantity,
                        entry_price=s.book.average_price,
                        mark_price=mark,
                        stop_price=s.state.stop_price,
                        sectors=s.s.sectors,
                    )
                )
            elif (entry := _pending_entry(s)) is not None:
                # Decided at this close, filling at the next open: it counts already,
                # as an order placed live would by the time the next symbol is sized.
                positions.append(
                    OpenPosition(
                        symbol=s.s.symbol,
                        quantity=entry.quantity,
                        entry_price=mark,
                        mark_price=mark,
                        stop_price=entry.stop,
                        sectors=s.s.sectors,
                    )
                )
        closed = sorted((c for s in self.sleeves for c in s.closed), key=lambda c: c[0])
        day = int(sleeve.open_time[i]) // _DAY_MS
        entries = sum(s.entries_by_day.get(day, 0) for s in self.sleeves)
        return AccountState(
            equity=self.wallet.equity,
            peak_equity=self.wallet.peak,
            day_start_equity=self.wallet.day_start,
            balances=tuple(balances),
            positions=tuple(positions),
            stats=trade_stats(closed, entries_today=entries),
            now_ms=int(sleeve.close_time[i]) + 1,
        )

    def correlations(self, sleeve: _Sleeve) -> dict[str, float]:
        """Correlation of log returns with each other held symbol over the trailing
        window of common times, ending at the current close (no look-ahead)."""
        out = {}
        start = max(0, self.k - self.window)
        mine = self._closes(self.sleeves.index(sleeve), start)
        for index, other in enumerate(self.sleeves):
            if other is sleeve or (other.book is None and _pending_entry(other) is None):
                continue
            theirs = self._closes(index, start)
            both = ~(np.isnan(mine) | np.isnan(theirs))
            if both.sum() < 3:
                continue
            a, b = np.diff(np.log(mine[both])), np.diff(np.log(theirs[both]))
            if a.std() > 0 and b.std() > 0:
                out[other.s.symbol] = float(np.corrcoef(a, b)[0, 1])
        return out

    def _closes(self, index: int, start: int) -> np.ndarray:
        rows = self.at[index][start : self.k + 1]
        closes = np.full(rows.size, np.nan)
        present = rows >= 0
        closes[present] = self.sleeves[index].c[rows[present]]
        return closes

    # --- the loop ------------------------------------------------------------------

    def _equity(self) -> Decimal:
        total = self.wallet.cash
        for index, s in enumerate(self.sleeves):
            held = s._held()
            if held > 0:
                total += held * self._mark(index)
        return total

    def run(self) -> BacktestResult:
        n = self.times.size
        equity = np.empty(n)
        exposure = np.zeros(n, dtype=bool)
        for k in range(n):
            self.k = k
            day = int(self.times[k]) // _DAY_MS
            if day != self.day:
                self.day = day
                self.wallet.day_start = self.wallet.equity  # the last close before it
            bars = [(s, int(self.at[x][k])) for x, s in enumerate(self.sleeves)]
            bars = [(s, i) for s, i in bars if i >= 0]
            for s, i in bars:  # every fill at the open first
                s.visited += 1
                if s.pending:
                    orders, s.pending = s.pending, []
                    for order in orders:
                        s._fill_at_open(i, order)
                if s.book is not None and s.fill.intrabar:
                    s._resting_orders(i)
            value = self._equity()
            self.wallet.equity = value
            self.wallet.peak = max(self.wallet.peak, value)
            equity[k] = float(value)
            exposure[k] = any(s.book is not None for s in self.sleeves)
            for s, i in bars:  # then every decision at the close
                self._close(s, i)
        return self._result(equity, exposure)

    @staticmethod
    def _close(s: _Sleeve, i: int) -> None:
        close = to_price(s.c[i])
        if s.book is not None and s.every_bar_in_position:
            s._manage_exits(i, close)
        action = s.sig.actions[i]
        if action == EXIT and s.book is not None:
            if not any(o.side == SELL and o.quantity is None for o in s.pending):
                s.pending.append(_Order(SELL, None, s.sig.signals[i].reason))
        elif action == ENTER and s.book is None and not s.pending:
            s._decide_entry(i, close)
        s.last_visited = i

    def _result(self, equity: np.ndarray, exposure: np.ndarray) -> BacktestResult:
        trades = sorted(
            (t for s in self.sleeves for t in s.trades), key=lambda t: (t.exit_ms, t.symbol)
        )
        result = BacktestResult(
            symbol=",".join(s.s.symbol for s in self.sleeves),
            initial_cash=self.initial_cash,
            final_cash=self.wallet.cash,
            final_equity=self.wallet.equity,
            final_quantity=ZERO,
            open_time=self.times,
            equity=equity,
            exposure=exposure,
            trades=trades,
            fees=sum((s.fees for s in self.sleeves), ZERO),
            evaluated_bars=sum(s.sig.evaluated for s in self.sleeves),
            visited_bars=sum(s.visited for s in self.sleeves),
            refused=[r for s in self.sleeves for r in s.refused],
            rejected=sum(s.rejected for s in self.sleeves),
        )
        interval = int(np.median(np.diff(self.times))) if self.times.size > 1 else 60_000
        result.metrics = compute_metrics(result, interval_ms=interval)
        return result


def run_portfolio(
    strategy: Strategy,
    candles: dict[str, np.ndarray],
    settings: dict[str, BacktestSettings],
    *,
    initial_cash: Decimal,
    correlation_window: int = CORRELATION_WINDOW,
) -> BacktestResult:
    """One account's cash over several symbols (``settings[symbol]`` gives each its
    market rules and fill model; the risk config should be the same for all)."""
    return Portfolio(
        strategy, candles, settings, initial_cash=initial_cash,
        correlation_window=correlation_window,
    ).run()  # fmt: skip
