"""Portfolio backtests: several symbols trading from one account's cash.

Each symbol is a sleeve: the single-symbol event loop's own fill, exit and entry steps
(``runner._Run``) with its cash replaced by the shared wallet, and with the risk
engine seeing the whole account: total equity, its peak and day-start value, every
balance and every open position (so portfolio heat, exposure caps and the drawdown
breaker act across symbols), and the correlation of this symbol's returns with each
held symbol over a trailing window (the correlation cap). Time advances on the union
of the symbols' bar times; at each time every sleeve first fills at the open, then
every sleeve decides at the close, as a live account would across its symbols.

``run`` visits only the times where something can happen (``portfolioskip`` says
which): some sleeve has an order pending, a position whose exits are managed on every
bar, a resting stop or target touched, or a signal it can act on; and at such a time
only the sleeves that need it. Elsewhere neither the cash nor any holding changes.
What does change, the account's mark-to-market equity, reaches the risk engine as the
equity peak and the day-start equity, which are caught up before each visit from the
unchanged holdings and the closes of the skipped times (the peak over a span with
numpy, confirmed in Decimal near its top). The equity curve and the exposure are built
at the end from the state after each change, repeated over the times it lasted.
``run_every_time`` visits every time: the reference that
``tests/backtest/test_portfolio_fast_path.py`` holds ``run`` to (identical trades,
cash, fees, curves, metrics, refusals, and every account state the risk engine saw).
The result's ``visited_bars`` counts the times visited, of ``len(open_time)`` (the
union).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from apps.risk.engine import AccountState, Balance, OpenPosition, TradeProposal, evaluate_entry
from apps.strategies.engine.base import Strategy

from .accountstats import AccountTradeStats
from .fills import to_price
from .metrics import compute_metrics
from .portfolioskip import next_bar_needed, peak_over_span
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
        cash = wallet.cash
        super().__init__(candles, signals, settings)
        wallet.cash = cash  # _Run starts from its settings' cash: the account's stands
        # Where its signal can act, flat and holding (the fast path looks them up).
        self.enter_bars = np.flatnonzero(signals.actions == ENTER).tolist()
        self.exit_bars = np.flatnonzero(signals.actions == EXIT).tolist()

    @property
    def cash(self) -> Decimal:
        return self.wallet.cash

    @cash.setter
    def cash(self, value: Decimal) -> None:
        self.wallet.cash = value

    def _account(self, i: int, close: Decimal) -> AccountState:
        return self.portfolio.account_state(i=i, sleeve=self, close=close)

    def _decide_entry(self, i: int, close: Decimal) -> None:
        if self.s.risk is None and self.sig.plain:
            # No stop or target to carry: the reason alone, without evaluating.
            self.pending.append(_Order(BUY, None, self.sig.reason(i)))
            return
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
        # Per sleeve: its bar at each time, or -1; its latest bar at or before it; the
        # close of that bar (0 before its first, when nothing can be held); the time
        # of each of its bars.
        self.at = []
        self.latest = []
        self.marks = []
        self.slot = []
        for s in self.sleeves:
            pos = np.searchsorted(s.open_time, self.times)
            pos_c = np.minimum(pos, s.n - 1)
            exact = s.open_time[pos_c] == self.times
            self.at.append(np.where(exact, pos_c, -1))
            latest = np.searchsorted(s.open_time, self.times, side="right") - 1
            self.latest.append(latest)
            self.marks.append(np.where(latest >= 0, s.c[np.maximum(latest, 0)], 0.0))
            self.slot.append(np.searchsorted(self.times, s.open_time))
        self.k = 0  # the time being visited
        self.day: int | None = None  # the day of the last time visited
        self.visited = 0  # times visited
        self.last_visited = -1
        # The equity peak and day start are read by the risk engine only.
        self.reads_account = any(s.s.risk is not None for s in self.sleeves)
        self.trade_stats = AccountTradeStats([s.closed for s in self.sleeves])
        # After every time whose fills changed them: cash, each sleeve's holding, and
        # whether any position is open (the curves are built from these).
        self.event_time: list[int] = []
        self.event_cash: list[float] = []
        self.event_held: list[list[float]] = []
        self.event_open: list[bool] = []

    # --- what the risk engine sees -------------------------------------------------

    def _mark(self, index: int, k: int | None = None) -> Decimal | None:
        """Sleeve ``index``'s latest close at time ``k`` (the current time by default)."""
        j = self.latest[index][self.k if k is None else k]
        return to_price(self.sleeves[index].c[j]) if j >= 0 else None

    def _equity_at(self, k: int) -> Decimal:
        """The account's equity at time ``k``'s close with the present holdings."""
        total = self.wallet.cash
        for index, s in enumerate(self.sleeves):
            held = s._held()
            if held > 0:
                total += held * self._mark(index, k)
        return total

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
        day = int(sleeve.open_time[i]) // _DAY_MS
        entries = sum(s.entries_by_day.get(day, 0) for s in self.sleeves)
        return AccountState(
            equity=self.wallet.equity,
            peak_equity=self.wallet.peak,
            day_start_equity=self.wallet.day_start,
            balances=tuple(balances),
            positions=tuple(positions),
            stats=self.trade_stats.stats(entries),
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

    def run(self) -> BacktestResult:
        """Visit only the times where some sleeve can act (``portfolioskip``); the
        wallet state the skipped times would leave is caught up before each visit."""
        n = self.times.size
        need = [self._next_time(x, -1) for x in range(len(self.sleeves))]
        k = min(need, default=n)
        while k < n:
            self._catch_up(k)
            # Only the sleeves that need this time: at the others' bars, filling and
            # deciding would do nothing (that is what their later need says).
            bars = [(x, int(self.at[x][k])) for x, t in enumerate(need) if t == k]
            self._visit(k, bars)
            for x, i in bars:
                need[x] = self._next_time(x, i)
            k = min(need)
        self._catch_up(n)
        return self._result()

    def run_every_time(self) -> BacktestResult:
        """Visit every time of the union: the reference ``run`` is tested against."""
        for k in range(self.times.size):
            day = int(self.times[k]) // _DAY_MS
            if day != self.day:
                self.day = day
                self.wallet.day_start = self.wallet.equity  # the last close before it
            self._visit(k, [(x, int(at[k])) for x, at in enumerate(self.at) if at[k] >= 0])
        return self._result()

    def _visit(self, k: int, bars: list[tuple[int, int]]) -> None:
        """Time ``k``: each (sleeve, bar) of ``bars`` fills at the open, then each
        decides at the close."""
        self.k = k
        self.visited += 1
        changed = False
        for x, i in bars:  # every fill at the open first
            s = self.sleeves[x]
            s.visited += 1
            changed |= s._open_fills(i)
        value = self._equity_at(k)
        self.wallet.equity = value
        self.wallet.peak = max(self.wallet.peak, value)
        if changed:
            self._record(k)
        for x, i in bars:  # then every decision at the close
            self._close(self.sleeves[x], i)
        self.last_visited = k

    def _next_time(self, x: int, after: int) -> int:
        """The next time sleeve ``x`` needs visiting after its bar ``after``."""
        s = self.sleeves[x]
        bar = next_bar_needed(s, after, s.enter_bars, s.exit_bars)
        return int(self.slot[x][bar]) if bar < s.n else self.times.size

    def _catch_up(self, k: int) -> None:
        """Before visiting time ``k`` (or at the end, ``k == len(times)``), give the
        wallet what visiting the skipped times would have left in it for its readers:
        the cash and the holdings did not change on those times, their marks did."""
        w = self.wallet
        start = self.last_visited + 1
        if k == self.times.size:
            if start < k:
                w.equity = self._equity_at(k - 1)  # the final equity
            return
        if start < k and self.reads_account:
            holdings = [
                (s._held(), self.marks[x]) for x, s in enumerate(self.sleeves) if s._held() > 0
            ]
            w.peak = peak_over_span(w.peak, w.cash, holdings, self._equity_at, start, k)
        day = int(self.times[k]) // _DAY_MS
        if day != self.day:
            self.day = day
            # The equity at the close before the day's first time, skipped or not
            # (before the first time: the initial equity).
            first = int(np.searchsorted(self.times, day * _DAY_MS))
            w.day_start = self._equity_at(first - 1) if first > 0 else w.equity

    @staticmethod
    def _close(s: _Sleeve, i: int) -> None:
        if s.book is not None and s.every_bar_in_position:
            s._manage_exits(i, to_price(s.c[i]))
        action = s.sig.actions[i]
        if action == EXIT and s.book is not None:
            if not any(o.side == SELL and o.quantity is None for o in s.pending):
                # The reason without evaluating the signal when it is known exactly.
                s.pending.append(_Order(SELL, None, s.sig.reason(i)))
        elif action == ENTER and s.book is None and not s.pending:
            s._decide_entry(i, to_price(s.c[i]))
        s.last_visited = i

    # --- output --------------------------------------------------------------------

    def _record(self, k: int) -> None:
        """The (cash, holdings, open positions) that last from time ``k`` on."""
        self.event_time.append(k)
        self.event_cash.append(float(self.wallet.cash))
        self.event_held.append([float(s._held()) for s in self.sleeves])
        self.event_open.append(any(s.book is not None for s in self.sleeves))

    def _curves(self) -> tuple[np.ndarray, np.ndarray]:
        """Equity at every close and whether a position is open, each state repeated
        over the times it lasts (as ``runner._equity_curve`` does for one symbol)."""
        n = self.times.size
        lengths = np.diff(np.asarray([0, *self.event_time, n], dtype=np.int64))
        equity = np.zeros(n)
        for x, marks in enumerate(self.marks):
            held = np.repeat(np.asarray([0.0, *(h[x] for h in self.event_held)]), lengths)
            held *= marks
            equity += held
        equity += np.repeat(np.asarray([float(self.initial_cash), *self.event_cash]), lengths)
        exposure = np.repeat(np.asarray([False, *self.event_open]), lengths)
        return equity, exposure

    def _result(self) -> BacktestResult:
        equity, exposure = self._curves()
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
            visited_bars=self.visited,
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
