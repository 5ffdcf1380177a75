"""External cash flows and equity snapshots (idempotent by their unique keys)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Sum

from apps.accounts.models import ExchangeAccount
from apps.core.decimals import to_decimal
from apps.core.errors import ValidationError

from .. import events
from ..models import CashFlow, EquitySnapshot

_SIGN = {
    CashFlow.Kind.DEPOSIT: 1,
    CashFlow.Kind.WITHDRAWAL: -1,
}


def _aware(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, "must be an aware UTC datetime")
    return value


@transaction.atomic
def record_cash_flow(
    *,
    account: ExchangeAccount,
    kind: str,
    asset: str,
    amount,
    value,
    occurred_at: datetime,
    external_id: str,
    source: str = "",
) -> tuple[CashFlow, bool]:
    """A deposit (+), withdrawal (-), transfer or reconciliation adjustment. The same
    `external_id` (e.g. a balanceUpdate's asset and event time) is recorded once."""
    if kind not in CashFlow.Kind.values:
        raise ValidationError("kind", f"must be one of {', '.join(CashFlow.Kind.values)}")
    amount = to_decimal(amount, field="amount")
    value = to_decimal(value, field="value")
    if amount == 0:
        raise ValidationError("amount", "must not be 0")
    sign = _SIGN.get(kind)
    if sign is not None and amount * sign < 0:
        raise ValidationError(
            "amount", f"a {kind} must be {'positive' if sign > 0 else 'negative'}"
        )
    if (amount > 0) != (value >= 0) and value != 0:
        raise ValidationError("value", "must have the sign of amount")
    if not external_id or len(external_id) > 80:
        raise ValidationError("external_id", "must be 1-80 characters")
    occurred_at = _aware(occurred_at, "occurred_at")
    existing = CashFlow.objects.filter(account=account, external_id=external_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            flow = CashFlow.objects.create(
                account=account,
                kind=kind,
                asset=asset.upper(),
                amount=amount,
                value=value,
                occurred_at=occurred_at,
                external_id=external_id,
                source=source[:16],
            )
    except IntegrityError:
        return CashFlow.objects.get(account=account, external_id=external_id), False
    return flow, True


@transaction.atomic
def record_equity_snapshot(
    *,
    account: ExchangeAccount,
    taken_at: datetime,
    equity,
    unrealized_pnl="0",
    balances: dict | None = None,
) -> tuple[EquitySnapshot, bool]:
    """Equity at `taken_at`, with the net external flows up to then, so drawdown and
    PnL can take them out. One snapshot per (account, time)."""
    taken_at = _aware(taken_at, "taken_at")
    equity = to_decimal(equity, field="equity")
    unrealized_pnl = to_decimal(unrealized_pnl, field="unrealized_pnl")
    existing = EquitySnapshot.objects.filter(account=account, taken_at=taken_at).first()
    if existing is not None:
        return existing, False
    flows = CashFlow.objects.filter(account=account, occurred_at__lte=taken_at)
    net = flows.aggregate(total=Sum("value"))["total"] or 0
    snapshot = EquitySnapshot.objects.create(
        account=account,
        taken_at=taken_at,
        equity=equity,
        unrealized_pnl=unrealized_pnl,
        net_flows=net,
        balances={asset: str(v) for asset, v in (balances or {}).items()},
    )
    events.publish_equity(snapshot)
    return snapshot, True
