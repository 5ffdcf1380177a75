"""Per-account risk figures read from the database: equity, drawdown, today's result,
open risk (heat) and state. The scrape-time collector exports them from every process
(the same query gives the same values wherever Prometheus scrapes), and /status lists
the largest drawdowns.

Equity comes from the latest equity snapshot; peak and day-start equity are made
comparable with it by the cash flows since their own snapshot, as the cycle does
(apps/trading/cycle/account_state.py): a deposit is not a gain, a withdrawal is not a
drawdown. Open risk is the risk engine's heat: per open position, (mark - stop) times
quantity, or the whole value when it has no stop, at the cached market price (the
average entry price when none is cached), in the valuation currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Max, OuterRef, Subquery
from django.utils import timezone

ZERO = Decimal(0)


@dataclass(frozen=True)
class AccountRisk:
    account_id: int
    organization_id: int
    name: str
    status: str
    equity: Decimal | None  # None: no equity snapshot yet
    peak_equity: Decimal | None
    day_start_equity: Decimal | None
    open_positions: int = 0
    open_risk: Decimal = ZERO

    @property
    def drawdown(self) -> Decimal:
        """(peak - equity) / peak, as the risk engine's drawdown breaker sees it."""
        if self.equity is None or not self.peak_equity or self.peak_equity <= 0:
            return ZERO
        return max(ZERO, (self.peak_equity - self.equity) / self.peak_equity)

    @property
    def drawdown_percent(self) -> str:
        return f"{self.drawdown * 100:.2f}"

    @property
    def daily_pnl(self) -> Decimal:
        if self.equity is None or self.day_start_equity is None:
            return ZERO
        return self.equity - self.day_start_equity

    @property
    def heat(self) -> Decimal:
        """Open risk as a share of equity."""
        if not self.equity or self.equity <= 0:
            return ZERO
        return self.open_risk / self.equity

    @property
    def halted(self) -> bool:
        from apps.accounts.models import AccountStatus

        return self.status == AccountStatus.HALTED


def position_risk(quantity: Decimal, mark: Decimal, stop: Decimal | None, rate: Decimal):
    """What one open position loses if its stop fills (all of it without a stop)."""
    if stop is None:
        return quantity * mark * rate
    return max(ZERO, mark - stop) * quantity * rate


def _snapshot_fields(now: datetime) -> dict:
    from apps.trading.models import EquitySnapshot

    mine = EquitySnapshot.objects.filter(account_id=OuterRef("pk"))
    latest = mine.order_by("-taken_at")
    day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    # The day's opening: the last snapshot before midnight UTC, else the day's first.
    before = mine.filter(taken_at__lte=day_start).order_by("-taken_at")
    after = mine.filter(taken_at__gt=day_start).order_by("taken_at")
    unit = ExpressionWrapper(F("equity") - F("net_flows"), output_field=DecimalField())
    # Each snapshot's equity net of the flows so far: the peak, flow-adjusted.
    peak = mine.order_by().values("account_id").annotate(m=Max(unit)).values("m")
    return {
        "equity": Subquery(latest.values("equity")[:1]),
        "net_flows": Subquery(latest.values("net_flows")[:1]),
        "peak_net": Subquery(peak[:1]),
        "open_before": Subquery(before.values("equity")[:1]),
        "open_before_net": Subquery(before.values("net_flows")[:1]),
        "open_after": Subquery(after.values("equity")[:1]),
        "open_after_net": Subquery(after.values("net_flows")[:1]),
    }


def _open_risk(account_ids: list[int], valuation: dict[int, tuple[str, str]]) -> dict:
    """account id -> (open positions, open risk in the valuation currency)."""
    from apps.core.redis import get_redis
    from apps.marketdata.cache import MarketCache
    from apps.trading.models import Position
    from apps.trading.valuation import rate

    rows = Position.objects.filter(account_id__in=account_ids, status=Position.Status.OPEN)
    found: dict[int, tuple[int, Decimal]] = {}
    caches: dict[str, MarketCache] = {}
    for p in rows.only("account_id", "symbol", "quote_asset", "quantity", "stop_price",
                       "average_entry_price"):  # fmt: skip
        environment, currency = valuation[p.account_id]
        cache = caches.setdefault(environment, MarketCache(get_redis(), environment))
        cached = cache.price(p.symbol)
        mark = cached[0] if cached else p.average_entry_price
        quote_rate = rate(environment, p.quote_asset, currency) or Decimal(1)
        count, risk = found.get(p.account_id, (0, ZERO))
        found[p.account_id] = (
            count + 1,
            risk + position_risk(p.quantity, mark, p.stop_price, quote_rate),
        )
    return found


def account_risks(accounts=None, *, now: datetime | None = None) -> list[AccountRisk]:
    """Risk figures of `accounts` (a queryset of ExchangeAccount; all by default)."""
    from apps.accounts.models import ExchangeAccount

    now = now or timezone.now()
    queryset = accounts if accounts is not None else ExchangeAccount.objects.all()
    rows = list(
        queryset.order_by("pk")
        .annotate(**_snapshot_fields(now))
        .values(
            "pk",
            "organization_id",
            "name",
            "status",
            "environment",
            "valuation_currency",
            "equity",
            "net_flows",
            "peak_net",
            "open_before",
            "open_before_net",
            "open_after",
            "open_after_net",
        )
    )
    valuation = {r["pk"]: (r["environment"], r["valuation_currency"]) for r in rows}
    risks = _open_risk(list(valuation), valuation) if rows else {}
    result = []
    for row in rows:
        equity, net = row["equity"], row["net_flows"]
        peak = day_start = None
        if equity is not None:
            peak = max(equity, row["peak_net"] + net)
            if row["open_before"] is not None:
                day_start = row["open_before"] + (net - row["open_before_net"])
            else:
                day_start = row["open_after"] + (net - row["open_after_net"])
        count, risk = risks.get(row["pk"], (0, ZERO))
        result.append(
            AccountRisk(
                account_id=row["pk"],
                organization_id=row["organization_id"],
                name=row["name"],
                status=row["status"],
                equity=equity,
                peak_equity=peak,
                day_start_equity=day_start,
                open_positions=count,
                open_risk=risk,
            )
        )
    return result


def largest_drawdowns(accounts, limit: int = 10) -> list[AccountRisk]:
    """The accounts furthest below their peak (only those with equity)."""
    found = [r for r in account_risks(accounts) if r.equity is not None]
    found.sort(key=lambda r: (-r.drawdown, r.account_id))
    return [r for r in found if r.drawdown > 0][:limit]
