"""One function per risk rule. Gates pass or fail; caps also return the largest
quantity they allow. Each returns a RuleVerdict naming the rule and the reason.

Rules read account aggregates from ``AccountTotals`` (one pass per decision) rather
than walking the positions each time.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from .config import RiskConfig
from .decision import RuleVerdict
from .liquidity import BUY, market_fill
from .money import ZERO, div_floor, float_to_decimal, mul_floor
from .state import AccountState, AccountTotals, TradeProposal

_MINUTE_MS = 60_000


@lru_cache(maxsize=4096)
def _pct(share: Decimal, places: int = 2) -> str:
    # Cached: most shares formatted here are configuration values, the same every call.
    return f"{share:.{places}%}"


# --- gates: reject the trade outright -------------------------------------------------


def drawdown_breaker(config: RiskConfig, account: AccountState) -> RuleVerdict:
    dd = account.drawdown
    if dd >= config.max_drawdown:
        return RuleVerdict(
            "max_drawdown",
            False,
            f"drawdown {_pct(dd)} reached the {_pct(config.max_drawdown)} limit "
            f"({config.drawdown_mode}): no new entries",
        )
    return RuleVerdict("max_drawdown", True, f"drawdown {_pct(dd)} < {_pct(config.max_drawdown)}")


def daily_loss(config: RiskConfig, account: AccountState) -> RuleVerdict:
    loss = account.day_start_equity - account.equity
    if config.daily_loss_limit_abs is not None and loss >= config.daily_loss_limit_abs:
        return RuleVerdict(
            "daily_loss",
            False,
            f"today's loss {loss} reached the limit {config.daily_loss_limit_abs}",
        )
    if config.daily_loss_limit_pct is not None and account.day_start_equity > 0:
        share = loss / account.day_start_equity
        if share >= config.daily_loss_limit_pct:
            return RuleVerdict(
                "daily_loss",
                False,
                f"today's loss {_pct(share)} reached the limit {_pct(config.daily_loss_limit_pct)}",
            )
    return RuleVerdict("daily_loss", True, f"today's result {-loss}")


def trades_per_day(config: RiskConfig, account: AccountState) -> RuleVerdict:
    limit = config.max_trades_per_day
    done = account.stats.trades_today
    if limit is not None and done >= limit:
        return RuleVerdict("trades_per_day", False, f"{done} trades today, limit {limit}")
    return RuleVerdict("trades_per_day", True, f"{done} trades today")


def loss_cooldown(config: RiskConfig, account: AccountState) -> RuleVerdict:
    stats, n = account.stats, config.cooldown_after_losses
    if n is None or stats.consecutive_losses < n:
        return RuleVerdict("loss_cooldown", True, f"{stats.consecutive_losses} losses in a row")
    if stats.last_loss_at_ms is None:
        return RuleVerdict("loss_cooldown", False, f"{stats.consecutive_losses} losses in a row")
    ends = stats.last_loss_at_ms + config.cooldown_minutes * _MINUTE_MS
    if account.now_ms < ends:
        minutes = (ends - account.now_ms + _MINUTE_MS - 1) // _MINUTE_MS
        return RuleVerdict(
            "loss_cooldown",
            False,
            f"{stats.consecutive_losses} losses in a row: cooling down {minutes} more min",
        )
    return RuleVerdict("loss_cooldown", True, "cooldown over")


def reserved_balance(config: RiskConfig, totals: AccountTotals) -> RuleVerdict:
    usage = totals.reserved_usage
    if usage > config.reserved_balance_threshold:
        return RuleVerdict(
            "reserved_balance",
            False,
            f"{_pct(usage, 1)} of the balance is locked in orders "
            f"(limit {_pct(config.reserved_balance_threshold, 0)})",
        )
    return RuleVerdict("reserved_balance", True, f"{_pct(usage, 1)} of the balance locked")


def open_positions(config: RiskConfig, totals: AccountTotals, symbol: str) -> RuleVerdict:
    held = totals.value_by_symbol
    if symbol in held:
        return RuleVerdict("max_open_positions", True, f"adds to the open {symbol} position")
    if len(held) >= config.max_open_positions:
        return RuleVerdict(
            "max_open_positions",
            False,
            f"{len(held)} positions open, limit {config.max_open_positions}",
        )
    return RuleVerdict("max_open_positions", True, f"{len(held)} of {config.max_open_positions}")


def reward_risk(config: RiskConfig, proposal: TradeProposal, stop: Decimal) -> RuleVerdict:
    if proposal.accumulate or proposal.addition:
        return RuleVerdict("min_reward_risk", True, "not applicable to accumulation/additions")
    if proposal.target is None:
        return RuleVerdict("min_reward_risk", False, "the signal has no target")
    risk = proposal.entry - stop
    reward = proposal.target - proposal.entry
    if risk <= 0 or reward <= 0:
        return RuleVerdict("min_reward_risk", False, "target or stop on the wrong side")
    ratio = reward / risk
    if ratio < config.min_reward_risk:
        return RuleVerdict(
            "min_reward_risk",
            False,
            f"reward:risk {ratio:.2f} < {config.min_reward_risk}",
        )
    return RuleVerdict("min_reward_risk", True, f"reward:risk {ratio:.2f}")


# --- caps: shrink the size ------------------------------------------------------------


def position_caps(
    config: RiskConfig,
    account: AccountState,
    totals: AccountTotals,
    symbol: str,
    unit_value: Decimal,
) -> RuleVerdict:
    """Notional cap and share-of-equity cap, net of what the symbol already holds."""
    limit = account.equity * config.max_position_pct
    why = f"{_pct(config.max_position_pct, 0)} of equity"
    if config.max_position_notional is not None and config.max_position_notional < limit:
        limit, why = config.max_position_notional, f"notional cap {config.max_position_notional}"
    held = totals.value_by_symbol.get(symbol, ZERO)
    qty = max(ZERO, div_floor(limit - held, unit_value))
    return RuleVerdict("position_size", qty > 0, f"at most {why}", qty)


def cash(totals: AccountTotals, proposal: TradeProposal) -> RuleVerdict:
    """Spot buys need free quote balance (known only when balances are given)."""
    free = totals.free_by_asset.get(proposal.quote_asset)
    if free is None:
        return RuleVerdict("free_balance", True, "quote balance not given: not checked")
    qty = max(ZERO, div_floor(free, proposal.entry))
    return RuleVerdict("free_balance", qty > 0, f"{free} {proposal.quote_asset} free", qty)


def correlation(
    config: RiskConfig, totals: AccountTotals, proposal: TradeProposal, qty: Decimal
) -> RuleVerdict:
    """Correlations are float statistics from the indicator engine, so they are compared
    as floats; only the one that scales a size becomes a Decimal."""
    if proposal.addition:
        return RuleVerdict("correlation", True, "addition to the same symbol")
    cap = float(config.correlation_cap)
    worst, worst_symbol = None, None
    correlations = proposal.correlations
    for symbol in totals.value_by_symbol:
        if symbol == proposal.symbol:
            continue
        value = correlations.get(symbol)
        # NaN (undefined correlation) fails every comparison and is skipped.
        if value is not None and value == value and (worst is None or value > worst):
            worst, worst_symbol = value, symbol
    if worst is None or worst <= cap:
        return RuleVerdict("correlation", True, f"highest correlation {worst}")
    reason = f"returns correlate {worst:.2f} with {worst_symbol} (cap {config.correlation_cap})"
    exact = float_to_decimal(worst)
    if config.correlation_action == "reject" or exact is None or exact >= 1:
        return RuleVerdict("correlation", False, reason, ZERO)
    # Scale linearly from full size at the cap to nothing at a correlation of 1.
    factor = div_floor(1 - exact, 1 - config.correlation_cap)
    return RuleVerdict(
        "correlation", True, reason + f": size x{factor:.2f}", mul_floor(qty, factor)
    )


def sector_exposure(
    config: RiskConfig,
    account: AccountState,
    totals: AccountTotals,
    proposal: TradeProposal,
    unit_value: Decimal,
) -> RuleVerdict:
    tightest, why = None, "no capped sector"
    for tag in sorted(proposal.sectors):
        cap = config.sector_caps.get(tag)
        if cap is None:
            continue
        room = account.equity * cap - totals.exposure_by_tag.get(tag, ZERO)
        qty = max(ZERO, div_floor(room, unit_value))
        if tightest is None or qty < tightest:
            tightest, why = qty, f"{tag} exposure cap {_pct(cap, 0)} of equity"
    return RuleVerdict("sector_exposure", tightest is None or tightest > 0, why, tightest)


def portfolio_heat(
    config: RiskConfig, account: AccountState, totals: AccountTotals, unit_risk: Decimal
) -> RuleVerdict:
    heat = totals.heat
    room = account.equity * config.max_portfolio_heat - heat
    qty = max(ZERO, div_floor(room, unit_risk)) if unit_risk > 0 else None
    reason = (
        f"open risk {_pct(heat / account.equity)} of equity, cap {_pct(config.max_portfolio_heat)}"
    )
    return RuleVerdict("portfolio_heat", qty is None or qty > 0, reason, qty)


# --- liquidity: the live order book ----------------------------------------------------

_NOT_CHECKED = "no order book here (backtest): not checked"


def _bps(value: Decimal) -> str:
    return f"{value:.2f} bps"


def _settled_without_book(rule: str, proposal: TradeProposal) -> RuleVerdict | None:
    """The verdict when the book decides nothing: none here (a backtest) passes, an
    empty one (no fresh book live) refuses; None when the book must be read."""
    if proposal.book is None:
        return RuleVerdict(rule, True, _NOT_CHECKED)
    if proposal.book.empty:
        return RuleVerdict(rule, False, f"no fresh order book for {proposal.symbol}")
    return None


def spread(config: RiskConfig, proposal: TradeProposal) -> RuleVerdict | None:
    """Gate: the bid-ask spread of the symbol's book against ``max_spread_bps``."""
    limit = config.max_spread_bps
    if limit is None:
        return None
    if (settled := _settled_without_book("max_spread_bps", proposal)) is not None:
        return settled
    book = proposal.book
    width = book.spread_bps
    if width > limit:
        return RuleVerdict(
            "max_spread_bps",
            False,
            f"spread {_bps(width)} (bid {book.best_bid}, ask {book.best_ask}) is wider than "
            f"the {limit} bps limit",
        )
    return RuleVerdict("max_spread_bps", True, f"spread {_bps(width)} within {limit} bps")


def slippage(config: RiskConfig, proposal: TradeProposal, quantity: Decimal) -> RuleVerdict | None:
    """Gate on the final size: a market buy of ``quantity * entry`` walked through the
    book's asks must fill, at an average within ``max_slippage_bps`` of the mid."""
    limit = config.max_slippage_bps
    if limit is None:
        return None
    if (settled := _settled_without_book("max_slippage_bps", proposal)) is not None:
        return settled
    book = proposal.book
    quote = quantity * proposal.entry
    asset = proposal.quote_asset or "quote"
    fill = market_fill(book, BUY, quote)
    if not fill.complete:
        return RuleVerdict(
            "max_slippage_bps",
            False,
            f"not enough depth: the book's {len(book.asks)} best ask levels hold "
            f"{quote - fill.unfilled_quote:.2f} {asset}, this entry needs {quote:.2f}",
        )
    moved = fill.slippage_bps
    figures = (
        f"buying {quote:.2f} {asset} at market fills at {fill.average_price:.8g} on average, "
        f"{_bps(moved)} from the mid {book.mid}"
    )
    if moved > limit:
        return RuleVerdict("max_slippage_bps", False, f"{figures}: above the {limit} bps limit")
    return RuleVerdict("max_slippage_bps", True, f"{figures}: within {limit} bps")
