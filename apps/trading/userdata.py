"""One user-data event of one account, turned into service calls.

- `executionReport`: the order row (by exchange id or client id, `C` for a cancel's
  original id; adopted as `external` when Spotdesk never placed it) gets the trade as a
  fill (`source="stream"`) and the reported status. Fills are unique by trade id, so
  an event seen twice, or a trade REST booked first, changes nothing.
- `balanceUpdate`: a deposit or withdrawal, recorded as a cash flow at the time's
  rate and kept out of PnL.
- `outboundAccountPosition`: the latest balances per account in Redis, for readers that
  want them without a REST call.
- `listStatus`: nothing to book (each leg reports itself).

After a new fill of an entry, its position's protection is synchronised when the
protective-orders module is installed.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from django.db import transaction

from apps.accounts.models import ExchangeAccount
from apps.audit.services import record_event
from apps.core.redis import get_redis
from apps.marketdata.times import ms_to_datetime

from .adoption import find_or_adopt, find_order
from .execution import book_fill
from .locks import AccountLock
from .models import CashFlow, Fill, Intent, Order, Position
from .protection import sync_protection
from .reconcile_plan import ExchangeOrder
from .services import apply_exchange_status, record_cash_flow
from .valuation import rate

logger = logging.getLogger(__name__)

PLACES = Decimal("1e-18")
BALANCES_KEY = "trading:balances:{account_id}"
_ENTRY_INTENTS = {Intent.ENTRY, Intent.PYRAMID}
_PROTECT_LOCK_WAIT_SECONDS = 2.0


def handle_event(account: ExchangeAccount | int, event: dict, *, gateway=None) -> str:
    """Apply one event; returns a short word for logs and tests (what was done)."""
    if not isinstance(account, ExchangeAccount):
        account = ExchangeAccount.objects.get(pk=account)
    kind = event.get("e")
    if kind == "executionReport":
        return handle_execution_report(account, event, gateway=gateway)
    if kind == "balanceUpdate":
        return handle_balance_update(account, event, gateway=gateway)
    if kind == "outboundAccountPosition":
        return remember_balances(account.pk, event)
    return "ignored"


# --- orders and fills ------------------------------------------------------------------


def handle_execution_report(account: ExchangeAccount, event: dict, *, gateway=None) -> str:
    report = ExchangeOrder.from_execution_report(event)
    if event.get("x") == "REJECTED":
        # A cancel-replace's refused new order never existed on the exchange: only our
        # own row (if any) learns it was rejected; there is nothing to adopt.
        order = find_order(account, report)
        if order is None:
            return "ignored"
    else:
        order = find_or_adopt(account, report, source="stream")
        if order is None:
            return "ignored"
    outcome = "status"
    if event.get("x") == "TRADE":
        gateway = gateway or _gateway(account)
        fill, created = book_fill(order, _trade(event), gateway=gateway, source="stream")
        outcome = "fill" if created else "duplicate"
        if created:
            protect_new_entry(order, fill, gateway=gateway)
    order.refresh_from_db()
    apply_exchange_status(
        order=order,
        exchange_status=report.status,
        update_ms=report.update_ms,
        exchange_order_id=report.exchange_order_id,
    )
    return outcome


def _trade(event: dict) -> dict:
    """An executionReport's own fill, in `myTrades` shape."""
    return {
        "id": event["t"],
        "price": event["L"],
        "qty": event["l"],
        "quoteQty": event.get("Y"),
        "commission": event.get("n") or "0",
        "commissionAsset": event.get("N") or "",
        "time": event.get("T") or event["E"],
        "isMaker": bool(event.get("m")),
    }


def _gateway(account: ExchangeAccount):
    from apps.exchange.for_account import gateway_for_account

    return gateway_for_account(account)


def _exit_config(order: Order):
    from apps.risk.engine import RiskConfig

    profile = order.strategy_config.risk_profile if order.strategy_config_id else None
    return profile.to_engine_config().exits if profile is not None else RiskConfig().exits


def protect_new_entry(order: Order, fill: Fill, *, gateway=None, lock: bool = True) -> bool:
    """Place or resize the protection of the position an entry fill just grew. Under
    the account's lock (unless the caller holds it); when a cycle holds it, that
    cycle's own protection step covers the position. True when synchronised."""
    if order.intent not in _ENTRY_INTENTS or order.external or fill.position_id is None:
        return False
    position = Position.objects.filter(pk=fill.position_id, status=Position.Status.OPEN).first()
    if position is None:
        return False
    held = AccountLock(get_redis(), order.account_id, wait=_PROTECT_LOCK_WAIT_SECONDS)
    if lock and not held.acquire():
        logger.info(
            "account %s busy; its cycle protects position %s", order.account_id, position.pk
        )
        return False
    try:
        sync_protection(position=position, exit_config=_exit_config(order), gateway=gateway)
        return True
    except Exception:
        # The fill is booked whatever happens here; the next cycle retries protection.
        logger.exception("protection of position %s failed", position.pk)
        return False
    finally:
        if lock:
            held.release()


# --- balances ---------------------------------------------------------------------------


def handle_balance_update(account: ExchangeAccount, event: dict, *, gateway=None) -> str:
    """A deposit (positive) or withdrawal (negative) of one asset."""
    asset = event["a"]
    amount = Decimal(str(event["d"]))
    if amount == 0:
        return "ignored"
    time_ms = int(event.get("T") or event["E"])
    price = rate(
        account.environment, asset, account.valuation_currency, gateway=gateway or _gateway(account)
    )
    if price is None:
        logger.warning(
            "no rate for %s in %s: cash flow valued at 0", asset, account.valuation_currency
        )
    value = (amount * price).quantize(PLACES) if price is not None else Decimal(0)
    created = _record_flow(
        account=account,
        kind=CashFlow.Kind.DEPOSIT if amount > 0 else CashFlow.Kind.WITHDRAWAL,
        asset=asset,
        amount=amount,
        value=value,
        time_ms=time_ms,
        external_id=f"bu:{asset}:{event['E']}:{time_ms}:{event['d']}"[:80],
    )
    return "cash_flow" if created else "duplicate"


@transaction.atomic
def _record_flow(*, account, kind, asset, amount, value, time_ms, external_id) -> bool:
    flow, created = record_cash_flow(
        account=account,
        kind=kind,
        asset=asset,
        amount=amount,
        value=value,
        occurred_at=ms_to_datetime(time_ms),
        external_id=external_id,
        source="stream",
    )
    if created:
        record_event(
            action="trading.cash_flow.recorded",
            organization_id=account.organization_id,
            target=flow,
            changes={"kind": kind, "asset": asset, "amount": str(amount), "value": str(value)},
        )
    return created


def remember_balances(account_id: int, event: dict) -> str:
    """Keep each asset's newest free/locked amounts (an older event never wins)."""
    redis = get_redis()
    key = BALANCES_KEY.format(account_id=account_id)
    updated_ms = int(event.get("u") or event.get("E") or 0)
    stored = redis.hgetall(key)
    changes = {}
    for entry in event.get("B", []):
        asset = entry["a"]
        previous = stored.get(asset.encode()) or stored.get(asset)
        if previous is not None and json.loads(previous)["u"] > updated_ms:
            continue
        changes[asset] = json.dumps({"free": entry["f"], "locked": entry["l"], "u": updated_ms})
    if changes:
        redis.hset(key, mapping=changes)
    return "balances"


def latest_balances(account_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    """The stream's latest (free, locked) per asset; empty when nothing arrived yet."""
    stored = get_redis().hgetall(BALANCES_KEY.format(account_id=account_id))
    result = {}
    for asset, raw in stored.items():
        entry = json.loads(raw)
        name = asset.decode() if isinstance(asset, bytes) else asset
        result[name] = (Decimal(entry["free"]), Decimal(entry["locked"]))
    return result
