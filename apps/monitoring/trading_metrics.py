"""What the trading core reports as it works: one call from each of its seams.

- `record_submission` (apps/trading/execution.submit): the order counter by account,
  side, type and outcome, and the round trip from the order row to the exchange's
  answer (histogram and the latency anomaly window).
- `record_fill` (apps/trading/services/fills.apply_fill, new fills only): the fill
  counter, slippage and return-per-trade anomaly windows and the opt-in fill
  notification, all after the fill's transaction commits (a rolled-back fill is
  booked again later and must not count twice).
- `record_request_weight` (apps/exchange/gateway): weight per scope, account and
  endpoint, and the scope's budget.

None of these may break trading: each failure is logged and swallowed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.core.logging import get_logger

from .metrics import (
    EXCHANGE_REQUEST_WEIGHT,
    EXCHANGE_WEIGHT_BUDGET,
    FILLS,
    ORDER_ROUNDTRIP_SECONDS,
    ORDERS,
)

logger = get_logger(__name__)
_STOPPED_TYPES = {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}


def submission_outcome(submission) -> str:
    """The label of a submission: `rejected` when the exchange refused it, `unknown`
    when its fate is not known yet, else the order's status after the answer."""
    if submission.refused is not None:
        return "rejected"
    return str(submission.order.status)


def record_submission(submission):
    """Count one answered (or unanswered) submission; returns it unchanged."""
    try:
        order = submission.order
        ORDERS.labels(
            account=str(order.account_id),
            side=order.side,
            type=order.order_type,
            outcome=submission_outcome(submission),
        ).inc()
        if not submission.unknown:
            environment = order.account.environment
            seconds = max(0.0, (timezone.now() - order.created_at).total_seconds())
            ORDER_ROUNDTRIP_SECONDS.labels(environment=environment).observe(seconds)
            from .anomaly_watch import observe

            observe("order_latency", environment, seconds, account_id=order.account_id)
    except Exception:
        logger.exception("could not record an order submission")
    return submission


def slippage_bps(side: str, reference: Decimal, price: Decimal) -> float:
    """How much worse than `reference` the fill was, in basis points (negative: better)."""
    if reference <= 0:
        return 0.0
    worse = price - reference if side == "BUY" else reference - price
    return float(worse / reference * 10000)


def _reference_price(order) -> Decimal | None:
    """What the order expected to pay: its stop for stop orders, its limit price for
    limit orders, the last streamed price for market orders (None when unknown)."""
    if order.order_type in _STOPPED_TYPES and order.stop_price:
        return order.stop_price
    if order.price:
        return order.price
    from apps.core.redis import get_redis
    from apps.marketdata.cache import MarketCache

    cached = MarketCache(get_redis(), order.account.environment).price(order.symbol)
    return cached[0] if cached else None


def record_fill(fill) -> None:
    """A new fill was booked (inside apply_fill's transaction): report it once that
    transaction commits."""
    fill_id = fill.pk
    transaction.on_commit(lambda: _report_fill(fill_id))


def _report_fill(fill_id: int) -> None:
    from apps.trading.models import Fill

    try:
        fill = Fill.objects.select_related("order__account", "position").get(pk=fill_id)
        account = fill.order.account
        FILLS.labels(account=str(account.pk), side=fill.side).inc()
        _observe_fill(fill, account)
        from .trading_alerts import notify_fill

        notify_fill(fill, account)
    except Exception:
        logger.exception("could not report a fill", fill_id=fill_id)


def _observe_fill(fill, account) -> None:
    from apps.trading.models import Trade

    from .anomaly_watch import observe

    reference = _reference_price(fill.order)
    if reference:
        observe(
            "slippage",
            f"{account.environment}:{fill.symbol}",
            slippage_bps(fill.side, reference, fill.price),
            organization=account.organization_id,
            account_id=account.pk,
            fill_id=fill.pk,
        )
    position = fill.position
    if position is None or position.status != position.Status.CLOSED:
        return
    trade = Trade.objects.filter(position=position, closed_at=fill.executed_at).first()
    if trade is not None:
        observe(
            "trade_pnl",
            str(account.pk),
            float(trade.return_pct),
            organization=account.organization_id,
            account_id=account.pk,
            trade_id=trade.pk,
        )


def record_request_weight(gateway, endpoint: str, weight: int) -> None:
    """Weight reserved for one request, and the budget of its scope."""
    try:
        account = gateway.account_id or "public"
        EXCHANGE_REQUEST_WEIGHT.labels(scope=gateway.scope, account=account, endpoint=endpoint).inc(
            weight
        )
        if gateway.limiter.limits.weight:
            budget = gateway.limiter.limits.weight[0].limit
            EXCHANGE_WEIGHT_BUDGET.labels(scope=gateway.scope).set(budget)
    except Exception:
        logger.exception("could not record request weight")
