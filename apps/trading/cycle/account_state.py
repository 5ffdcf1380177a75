"""One account's state for the risk engine, refreshed at the start of its cycle:
balances from the exchange, equity in the valuation currency, peak and day-start
equity from the snapshots (external cash flows taken out), positions and stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Sum

from apps.risk.engine import AccountState, Balance

from ..models import CashFlow, EquitySnapshot
from ..selectors import account_trade_stats, open_positions
from ..valuation import rate

ZERO = Decimal(0)


@dataclass(frozen=True)
class Refreshed:
    state: AccountState
    balances: dict[str, tuple[Decimal, Decimal]]  # asset -> (free, locked)
    unpriced: tuple[str, ...]  # assets held that no rate could value (left out)

    def as_inputs(self) -> dict:
        state = self.state
        return {
            "equity": state.equity,
            "peak_equity": state.peak_equity,
            "day_start_equity": state.day_start_equity,
            "balances": {a: {"free": f, "locked": lo} for a, (f, lo) in self.balances.items()},
            "unpriced": list(self.unpriced),
            "open_positions": len(state.positions),
        }


def exchange_balances(gateway) -> dict[str, tuple[Decimal, Decimal]]:
    answer = gateway.account()
    balances = {}
    for row in answer.get("balances", []):
        free, locked = Decimal(str(row["free"])), Decimal(str(row["locked"]))
        if free or locked:
            balances[row["asset"]] = (free, locked)
    return balances


def _flows_until(account_id: int, when: datetime | None = None) -> Decimal:
    flows = CashFlow.objects.filter(account_id=account_id)
    if when is not None:
        flows = flows.filter(occurred_at__lte=when)
    return flows.aggregate(total=Sum("value"))["total"] or ZERO


def _reference_equities(account_id: int, equity: Decimal, now: datetime):
    """(peak, day start), each made comparable with today's equity by adding the cash
    flows since its snapshot: a deposit is not a gain, a withdrawal not a drawdown."""
    net_now = _flows_until(account_id)
    snapshots = EquitySnapshot.objects.filter(account_id=account_id)
    peak = equity
    adjusted = (
        snapshots.values_list("equity", "net_flows").order_by("-taken_at")[
            :2000
        ]  # bounded: beat snapshots a few times an hour
    )
    for value, net in adjusted:
        peak = max(peak, value + (net_now - net))
    day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    opening = (
        snapshots.filter(taken_at__lte=day_start).order_by("-taken_at").first()
        or snapshots.filter(taken_at__gt=day_start).order_by("taken_at").first()
    )
    if opening is None:
        return peak, equity
    return peak, opening.equity + (net_now - opening.net_flows)


def refresh_state(*, account, gateway, marks: dict[str, Decimal], now_ms: int) -> Refreshed:
    """Balances from the exchange valued at cached (or ticker) prices."""
    env, valuation = account.environment, account.valuation_currency
    balances = exchange_balances(gateway)
    priced, unpriced, equity = [], [], ZERO
    for asset, (free, locked) in sorted(balances.items()):
        price = rate(env, asset, valuation, gateway=gateway)
        if price is None:
            unpriced.append(asset)
            continue
        priced.append(Balance(asset, free, locked, price))
        equity += (free + locked) * price
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    peak, day_start = _reference_equities(account.pk, equity, now)
    quote_rates = {}
    positions = open_positions(account_id=account.pk, marks=marks)
    if positions:
        for quote in {p.quote_asset for p in account.positions.filter(status="open")}:
            quote_rates[quote] = rate(env, quote, valuation, gateway=gateway) or Decimal(1)
        positions = open_positions(account_id=account.pk, marks=marks, quote_rates=quote_rates)
    state = AccountState(
        equity=equity,
        peak_equity=peak,
        day_start_equity=day_start,
        balances=tuple(priced),
        positions=positions,
        stats=account_trade_stats(account_id=account.pk, now=now),
        now_ms=now_ms,
    )
    return Refreshed(state, balances, tuple(unpriced))
