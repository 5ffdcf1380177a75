"""Alerts about trading the rest of the code does not raise itself.

- `trading_fill` (info): every fill, opt-in: only routes that name the event get it
  (routing.OPT_IN_EVENTS), and no alert is recorded while no route wants it.
- `risk_daily_loss_limit` and `risk_drawdown_limit` (error): the risk engine refused
  entries because the daily-loss limit or the drawdown breaker tripped, once per
  episode (a day for the daily loss; until the breaker passes again for drawdown).
  The drawdown breaker in halt mode is already alerted by the cycle, which halts the
  account (`account_halted_drawdown`), so only the reduce-only mode is alerted here.
- `order_error_rate_high` (error): more than ORDER_ERROR_RATE_THRESHOLD of an
  account's orders of the last hour were rejected or are of unknown outcome
  (beat: `check_order_error_rates`), once per account and hour.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from apps.core.logging import get_logger

from . import conf
from .alerts import raise_alert

logger = get_logger(__name__)
FILL_EVENT = "trading_fill"
MARKER_PREFIX = "spotdesk:alerted:"


def fill_alert_wanted(organization_id: int | None) -> bool:
    """True when an enabled route of the organization (or a platform route) names the
    fill event: otherwise fills record no alert at all."""
    from .models import NotificationRoute

    events = NotificationRoute.objects.filter(enabled=True).filter(
        Q(organization__isnull=True) | Q(organization_id=organization_id)
    )
    return any(FILL_EVENT in (e or []) for e in events.values_list("events", flat=True))


def _plain(value: Decimal) -> str:
    """A stored Decimal without its trailing zeros (0.200000000000000000 -> 0.2)."""
    return format(value.normalize(), "f")


def notify_fill(fill, account) -> bool:
    if not fill_alert_wanted(account.organization_id):
        return False
    price, quantity = _plain(fill.price), _plain(fill.quantity)
    raise_alert(
        "info",
        FILL_EVENT,
        f"{fill.side} {quantity} {fill.symbol} at {price} on {account.name} "
        f"(order {fill.order.client_order_id}).",
        organization=account.organization_id,
        account_id=account.pk,
        symbol=fill.symbol,
        side=fill.side,
        price=price,
        quantity=quantity,
        client_order_id=fill.order.client_order_id,
        trade_id=fill.exchange_trade_id,
    )
    return True


# --- risk triggers from the decision record ------------------------------------------
def _failed(verdict: dict, rule: str) -> dict | None:
    for item in verdict.get("verdicts") or []:
        if item.get("rule") == rule:
            return None if item.get("passed") else item
    return None


def _checked(verdict: dict, rule: str) -> bool:
    return any(item.get("rule") == rule for item in verdict.get("verdicts") or [])


def alert_risk_triggers(decision) -> list[str]:
    """Alert the daily-loss and drawdown triggers of one decision record (once per
    episode); returns the events raised. Never raises."""
    try:
        return _alert_risk_triggers(decision)
    except Exception:
        logger.exception("could not alert the risk triggers", decision_id=decision.pk)
        return []


def _alert_risk_triggers(decision) -> list[str]:
    from apps.core.redis import get_redis

    verdict = decision.risk_verdict or {}
    if not verdict:
        return []
    client = get_redis()
    account_id = decision.account_id
    raised = []
    today = timezone.now().date().isoformat()
    daily = _failed(verdict, "daily_loss")
    daily_marker = f"{MARKER_PREFIX}daily-loss:{account_id}:{today}"
    if daily is not None and client.set(daily_marker, "1", nx=True, ex=2 * 86400):
        raise_alert(
            "error",
            "risk_daily_loss_limit",
            f"Account {account_id} reached its daily loss limit: {daily['reason']}. "
            "No new entries until 00:00 UTC.",
            account_id=account_id,
            decision_id=decision.pk,
            reason=daily["reason"],
        )
        raised.append("risk_daily_loss_limit")
    drawdown = _failed(verdict, "max_drawdown")
    drawdown_marker = f"{MARKER_PREFIX}drawdown:{account_id}"
    if drawdown is None:
        if _checked(verdict, "max_drawdown"):
            client.delete(drawdown_marker)  # the breaker passes again: a new episode may start
    elif not verdict.get("halt") and client.set(drawdown_marker, "1", nx=True, ex=30 * 86400):
        raise_alert(
            "error",
            "risk_drawdown_limit",
            f"Account {account_id} reached its maximum drawdown: {drawdown['reason']}.",
            account_id=account_id,
            decision_id=decision.pk,
            reason=drawdown["reason"],
        )
        raised.append("risk_drawdown_limit")
    return raised


# --- order error rate ------------------------------------------------------------------
def order_error_rates(*, since) -> dict[int, tuple[int, int]]:
    """account id -> (orders created since `since`, of which rejected or unknown)."""
    from apps.trading.models import Order
    from apps.trading.states import OrderStatus

    bad = Q(status__in=[OrderStatus.REJECTED, OrderStatus.UNKNOWN])
    rows = (
        Order.objects.filter(created_at__gte=since)
        .order_by()
        .values("account_id")
        .annotate(total=Count("pk"), failed=Count("pk", filter=bad))
    )
    return {r["account_id"]: (r["total"], r["failed"]) for r in rows}


def check_order_error_rates(now=None) -> list[int]:
    """Alert every account whose order error rate over the last hour is too high (once
    per account and hour); returns their ids."""
    from apps.core.redis import get_redis

    now = now or timezone.now()
    threshold, minimum = conf.order_error_rate_threshold(), conf.order_error_rate_min_orders()
    client = get_redis()
    alerted = []
    for account_id, (total, failed) in order_error_rates(since=now - timedelta(hours=1)).items():
        if total < minimum or failed / total <= threshold:
            continue
        if not client.set(f"{MARKER_PREFIX}error-rate:{account_id}", "1", nx=True, ex=3600):
            continue
        raise_alert(
            "error",
            "order_error_rate_high",
            f"{failed} of {total} orders of account {account_id} in the last hour were "
            f"rejected or are of unknown outcome ({failed / total:.1%}, above "
            f"{threshold:.0%}).",
            account_id=account_id,
            orders=total,
            failed=failed,
        )
        alerted.append(account_id)
    return alerted
