"""The exposure heat map of the overview: open exposure by base asset (per account and
summed) and entry activity by UTC hour of day. Aggregated in SQL; the cells carry a
0..1 intensity so the template draws the grid with CSS alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import ExtractHour

from apps.trading.models import Fill, Intent, Position

ACTIVITY_DAYS = 30
_MONEY = DecimalField(max_digits=40, decimal_places=18)


@dataclass(frozen=True)
class Cell:
    value: Decimal
    heat: Decimal  # 0..1, relative to the largest cell of its grid

    @property
    def heat_css(self) -> str:
        return f"{self.heat:.3f}"


@dataclass(frozen=True)
class AssetRow:
    asset: str
    quote_asset: str
    quantity: Decimal
    total: Cell
    by_account: tuple[Cell | None, ...]  # in the order of `Heatmap.accounts`


@dataclass(frozen=True)
class HourCell:
    hour: int
    fills: int
    traded_value: Decimal
    heat: Decimal

    @property
    def heat_css(self) -> str:
        return f"{self.heat:.3f}"


@dataclass(frozen=True)
class Heatmap:
    accounts: tuple  # the ExchangeAccounts, column order of the asset grid
    assets: tuple[AssetRow, ...]
    hours: tuple[HourCell, ...]  # always 24, hour 0..23 UTC
    since: datetime


def _heat(value: Decimal, top: Decimal) -> Decimal:
    return (value / top).quantize(Decimal("0.001")) if top > 0 else Decimal(0)


def exposure_by_asset(accounts) -> dict[tuple[str, str], dict[int, tuple[Decimal, Decimal]]]:
    """{(base, quote): {account_id: (quantity, value at cost)}} of open positions.

    The value is the positions' cost basis in the quote asset: what is at stake, known
    without a price feed (assets of different quotes sit on separate rows)."""
    rows = (
        Position.objects.filter(account__in=accounts, status=Position.Status.OPEN)
        .order_by()
        .values("base_asset", "quote_asset", "account_id")
        .annotate(quantity=Sum("quantity"), value=Sum("cost_basis"))
    )
    exposure: dict[tuple[str, str], dict[int, tuple[Decimal, Decimal]]] = {}
    for row in rows:
        key = (row["base_asset"], row["quote_asset"])
        exposure.setdefault(key, {})[row["account_id"]] = (row["quantity"], row["value"])
    return exposure


def entries_by_hour(accounts, *, since: datetime) -> dict[int, tuple[int, Decimal]]:
    """{UTC hour: (entry fills, traded value in the valuation currency)} since `since`."""
    traded = ExpressionWrapper(F("quote_quantity") * F("quote_rate"), output_field=_MONEY)
    rows = (
        Fill.objects.filter(
            account__in=accounts,
            order__intent__in=(Intent.ENTRY, Intent.PYRAMID),
            executed_at__gte=since,
        )
        .annotate(hour=ExtractHour("executed_at", tzinfo=UTC))
        .order_by()
        .values("hour")
        .annotate(fills=Count("pk"), value=Sum(traded))
    )
    return {row["hour"]: (row["fills"], row["value"] or Decimal(0)) for row in rows}


def build(accounts, *, now: datetime) -> Heatmap:
    """The heat map of `accounts` (already scoped to the user)."""
    accounts = tuple(accounts)
    exposure = exposure_by_asset(accounts)
    totals = {
        key: sum((v for _, v in cells.values()), Decimal(0)) for key, cells in exposure.items()
    }
    top_total = max(totals.values(), default=Decimal(0))
    top_cell = max(
        (v for cells in exposure.values() for _, v in cells.values()), default=Decimal(0)
    )
    assets = tuple(
        AssetRow(
            asset=base,
            quote_asset=quote,
            quantity=sum((q for q, _ in exposure[(base, quote)].values()), Decimal(0)),
            total=Cell(totals[(base, quote)], _heat(totals[(base, quote)], top_total)),
            by_account=tuple(
                Cell(cell[1], _heat(cell[1], top_cell)) if cell else None
                for cell in (exposure[(base, quote)].get(a.pk) for a in accounts)
            ),
        )
        # The largest exposure first.
        for base, quote in sorted(exposure, key=lambda key: (-totals[key], key))
    )
    since = now - timedelta(days=ACTIVITY_DAYS)
    by_hour = entries_by_hour(accounts, since=since)
    top_fills = max((n for n, _ in by_hour.values()), default=0)
    hours = tuple(
        HourCell(
            hour=hour,
            fills=by_hour.get(hour, (0, Decimal(0)))[0],
            traded_value=by_hour.get(hour, (0, Decimal(0)))[1],
            heat=_heat(Decimal(by_hour.get(hour, (0, 0))[0]), Decimal(top_fills)),
        )
        for hour in range(24)
    )
    return Heatmap(accounts=accounts, assets=assets, hours=hours, since=since)
