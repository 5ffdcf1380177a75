"""Inputs of a risk decision: the account, its positions and the proposed trade.

NamedTuples rather than frozen dataclasses: they are just as immutable and several
times cheaper to build, and a live cycle builds them for every account and candle.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from .money import ONE, ZERO, float_to_decimal

if TYPE_CHECKING:
    from apps.strategies.engine.signals import Signal

    from .liquidity import BookView

_NO_CORRELATIONS: Mapping[str, float] = MappingProxyType({})


class Balance(NamedTuple):
    """One asset's balance; ``price`` converts one unit into the valuation currency."""

    asset: str
    free: Decimal
    locked: Decimal
    price: Decimal = ONE

    @property
    def total_value(self) -> Decimal:
        return (self.free + self.locked) * self.price

    @property
    def locked_value(self) -> Decimal:
        return self.locked * self.price


class OpenPosition(NamedTuple):
    """A position as the risk engine sees it. Prices are in the quote asset;
    ``quote_rate`` converts quote into the valuation currency."""

    symbol: str
    quantity: Decimal
    entry_price: Decimal
    mark_price: Decimal
    stop_price: Decimal | None
    sectors: frozenset[str] = frozenset()
    quote_rate: Decimal = ONE

    @property
    def value(self) -> Decimal:
        return self.quantity * self.quote_rate * self.mark_price

    @property
    def open_risk(self) -> Decimal:
        """What is lost from here if the stop fills (nothing once the stop is above
        the mark); a position without a stop risks its whole value."""
        if self.stop_price is None:
            return self.value
        gap = self.mark_price - self.stop_price
        return gap * (self.quantity * self.quote_rate) if gap > 0 else ZERO


class TradeStats(NamedTuple):
    """The account's own recent results, for Kelly sizing and loss controls."""

    trades: int = 0
    wins: int = 0
    average_win: Decimal = ZERO  # mean profit of winning trades (valuation currency)
    average_loss: Decimal = ZERO  # mean loss of losing trades, as a positive number
    consecutive_losses: int = 0
    last_loss_at_ms: int | None = None
    trades_today: int = 0


class AccountState(NamedTuple):
    equity: Decimal  # current, unrealized PnL included, in the valuation currency
    peak_equity: Decimal
    day_start_equity: Decimal  # at 00:00 UTC
    balances: tuple[Balance, ...] = ()
    positions: tuple[OpenPosition, ...] = ()
    stats: TradeStats = TradeStats()
    now_ms: int = 0

    @property
    def drawdown(self) -> Decimal:
        if self.peak_equity <= 0:
            return ZERO
        return max(ZERO, (self.peak_equity - self.equity) / self.peak_equity)

    @property
    def heat(self) -> Decimal:
        return sum((p.open_risk for p in self.positions), ZERO)

    def sector_exposure(self, tag: str) -> Decimal:
        return sum((p.value for p in self.positions if tag in p.sectors), ZERO)

    @property
    def reserved_usage(self) -> Decimal:
        total = sum((b.total_value for b in self.balances), ZERO)
        if total <= 0:
            return ZERO
        return sum((b.locked_value for b in self.balances), ZERO) / total


class TradeProposal(NamedTuple):
    """A long entry (or a pyramid addition) to size and check.

    ``stop`` None means "use the profile's ATR stop". ``correlations`` maps other
    symbols to the correlation of their returns with this one's (floats from the
    indicator engine). ``quantity`` is the requested size of a pyramid addition.
    ``book`` is the symbol's order book for the liquidity limits: None where there is
    none to have (backtests: the limits are not applied); the live cycle passes an
    empty ``BookView`` when no fresh summary exists, which the limits refuse.
    """

    symbol: str
    entry: Decimal
    stop: Decimal | None = None
    target: Decimal | None = None
    atr: Decimal | None = None
    sectors: frozenset[str] = frozenset()
    quote_asset: str | None = None
    quote_rate: Decimal = ONE
    correlations: Mapping[str, float] = _NO_CORRELATIONS
    accumulate: bool = False
    addition: bool = False
    quantity: Decimal | None = None
    quantity_step: Decimal | None = None
    min_quantity: Decimal = ZERO
    min_notional: Decimal = ZERO
    book: BookView | None = None

    @classmethod
    def from_signal(
        cls, signal: Signal, *, entry: Decimal, atr: float | None = None, **extra
    ) -> TradeProposal:
        """A proposal for an ENTER_LONG signal at ``entry``; ``atr`` comes from the
        indicator engine as a float and is converted here. ``extra`` sets the other
        fields (sectors, quote asset and rate, correlations, step and minimums)."""
        return cls(
            symbol=signal.symbol,
            entry=entry,
            stop=signal.stop,
            target=signal.target,
            atr=None if atr is None else float_to_decimal(atr),
            accumulate=signal.accumulate,
            **extra,
        )


class AccountTotals(NamedTuple):
    """Account aggregates the rules need, computed in one pass per decision."""

    heat: Decimal
    value_by_symbol: dict[str, Decimal]
    exposure_by_tag: dict[str, Decimal]
    reserved_usage: Decimal
    free_by_asset: dict[str, Decimal]


def account_totals(account: AccountState) -> AccountTotals:
    heat = ZERO
    by_symbol: dict[str, Decimal] = {}
    by_tag: dict[str, Decimal] = {}
    for position in account.positions:
        # The same arithmetic as OpenPosition.value / .open_risk, inlined: this loop
        # runs for every decision.
        qty_rate = position.quantity * position.quote_rate
        mark, stop = position.mark_price, position.stop_price
        value = qty_rate * mark
        if stop is None:
            heat += value
        elif mark > stop:
            heat += (mark - stop) * qty_rate
        by_symbol[position.symbol] = by_symbol.get(position.symbol, ZERO) + value
        for tag in position.sectors:
            by_tag[tag] = by_tag.get(tag, ZERO) + value
    total = locked = ZERO
    free: dict[str, Decimal] = {}
    for balance in account.balances:
        total += balance.total_value
        locked += balance.locked_value
        free[balance.asset] = balance.free
    usage = locked / total if total > 0 else ZERO
    return AccountTotals(heat, by_symbol, by_tag, usage, free)


def correlations_for(symbol: str, matrix: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """The row of a pairwise correlation matrix ({(a, b): corr}, as produced by
    ``indicators.batch.correlation_matrix``) that a TradeProposal for ``symbol`` needs."""
    return {b: corr for (a, b), corr in matrix.items() if a == symbol and b != symbol}
