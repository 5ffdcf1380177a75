"""Trading changes as live events: one `publish_*` per kind, called by the services
inside their transaction. The payload is taken now (the state this change produced)
and sent after commit by `apps.dashboard.events`; a rollback sends nothing.

Payloads hold what a live page shows, Decimals as wire strings, never a secret.
"""

from __future__ import annotations

from decimal import Decimal

from apps.core.decimals import to_wire


def _wire(value) -> str | None:
    return None if value is None else to_wire(Decimal(value))


def _time(value) -> str | None:
    return None if value is None else value.isoformat()


def _organization_id(obj) -> int | None:
    from apps.accounts.models import ExchangeAccount

    account = obj._state.fields_cache.get("account")  # loaded already: no query
    if account is not None:
        return account.organization_id
    return (
        ExchangeAccount.objects.filter(pk=obj.account_id)
        .values_list("organization_id", flat=True)
        .first()
    )


def _send(kind: str, obj, data: dict, *, organization_wide: bool = True) -> None:
    # Imported here: dashboard sits above trading; this is the one seam between them.
    from apps.dashboard.events import publish_after_commit

    organization_id = _organization_id(obj) if organization_wide else None
    publish_after_commit(
        kind, account_id=obj.account_id, organization_id=organization_id, data=data
    )


def order_payload(order) -> dict:
    return {
        "id": order.pk,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "intent": order.intent,
        "type": order.order_type,
        "status": order.status,
        "quantity": _wire(order.quantity),
        "executed_quantity": _wire(order.executed_quantity),
        "price": _wire(order.price),
        "stop_price": _wire(order.stop_price),
        "strategy_config": order.strategy_config_id,
        "position": order.position_id,
        "needs_review": order.needs_review,
    }


def fill_payload(fill) -> dict:
    return {
        "id": fill.pk,
        "order": fill.order_id,
        "position": fill.position_id,
        "symbol": fill.symbol,
        "side": fill.side,
        "trade_id": fill.exchange_trade_id,
        "price": _wire(fill.price),
        "quantity": _wire(fill.quantity),
        "quote_quantity": _wire(fill.quote_quantity),
        "commission": _wire(fill.commission),
        "commission_asset": fill.commission_asset,
        "executed_at": _time(fill.executed_at),
        "source": fill.source,
    }


def position_payload(position) -> dict:
    return {
        "id": position.pk,
        "symbol": position.symbol,
        "strategy_config": position.strategy_config_id,
        "status": position.status,
        "quantity": _wire(position.quantity),
        "average_entry_price": _wire(position.average_entry_price),
        "realized_pnl": _wire(position.realized_pnl),
        "fees_paid": _wire(position.fees_paid),
        "stop_price": _wire(position.stop_price),
        "opened_at": _time(position.opened_at),
        "closed_at": _time(position.closed_at),
    }


def publish_order(order) -> None:
    _send("order", order, order_payload(order))


def publish_fill(fill) -> None:
    """A booked fill, followed by its order and its position (both changed with it)."""
    _send("fill", fill, fill_payload(fill))
    if fill.order is not None:
        _send("order", fill.order, order_payload(fill.order))
    if fill.position_id is not None:
        publish_position(fill.position)


def publish_position(position) -> None:
    position.refresh_from_db()  # the rebooked quantities, not the row as first loaded
    _send("position", position, position_payload(position))


def publish_equity(snapshot) -> None:
    _send(
        "equity",
        snapshot,
        {
            "taken_at": _time(snapshot.taken_at),
            "equity": _wire(snapshot.equity),
            "unrealized_pnl": _wire(snapshot.unrealized_pnl),
            "net_flows": _wire(snapshot.net_flows),
        },
    )


def publish_decision(decision) -> None:
    # To the account's group only: every candle writes one per account, and the
    # organization's pages (the overview) show no decisions; halving the sends keeps the
    # fan-out cheap.
    _send(
        "decision",
        decision,
        {
            "id": decision.pk,
            "created_at": _time(decision.created_at),
            "strategy_config": decision.strategy_config_id,
            "symbol": decision.symbol,
            "interval": decision.interval,
            "signal": decision.signal,
            "reason": decision.signal_reason,
            "outcome": decision.outcome,
            "orders": list(decision.orders_placed or []),
            "error": decision.error,
        },
        organization_wide=False,
    )
