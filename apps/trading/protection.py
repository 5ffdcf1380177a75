"""Protective orders on the exchange: every unit of an open position covered by a stop.

`sync_protection` makes the exchange match `plan_protection` (see
`apps.trading.protection_plan`): one OCO per remaining take-profit tranche (LIMIT_MAKER
above the market, STOP_LOSS_LIMIT below), or one STOP_LOSS_LIMIT where OCO is not
allowed or the ladder was canceled. It is idempotent: what already matches the plan is
kept, what no longer matches (the stop moved, a leg partly filled, the ladder was
canceled) is canceled and replaced, and a second call in a row sends nothing.

Orders are written (`create_order`) before they are sent and sent at most once
(`place_order_list`, `execution.submit`). Client ids are derived from (position,
tranche, protection version): `sd-p<leg>-<position>-<tranche>-<version>`, leg `l` the
list, `t` the take-profit, `s` the stop, `m` a take-profit sold at market. The version
goes up whenever a replacement would reuse an id, because Binance accepts a client id
again once its order closed.

`ladder_done` is derived from the take-profit orders themselves (a tranche is done when
one of its take-profit orders FILLED), so a missed fill event is corrected by the next
sync. A stop at or above the market exits at market at once; a symbol that is not
TRADING keeps its protections, gets nothing new and raises one alert.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from apps.audit.services import record_event
from apps.core.decimals import to_wire
from apps.exchange.errors import (
    ExchangeError,
    InvalidOrderError,
    OrderNotFoundError,
    WouldTriggerImmediatelyError,
)
from apps.exchange.filters import floor_to_step
from apps.exchange.orders import UNKNOWN, place_order_list
from apps.marketdata.models import Symbol
from apps.monitoring.alerts import raise_alert
from apps.monitoring.models import Severity
from apps.risk.engine.config import ExitConfig

from . import execution
from .models import Intent, Order, OrderType, Position, Side
from .protection_plan import (
    STOP_ONLY_TRANCHE,
    PlannedProtection,
    ProtectionPlan,
    plan_protection,
)
from .services import client_order_id, create_order, transition_order
from .states import TERMINAL, OrderStatus

logger = logging.getLogger(__name__)

__all__ = [
    "ProtectionPlan",
    "ProtectionReport",
    "cancel_protection",
    "exit_position",
    "plan_protection",
    "sync_protection",
]

ZERO = Decimal(0)
PROTECTIVE = (Intent.STOP, Intent.TAKE_PROFIT)
_SENT = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)
_UNSENT = (OrderStatus.PENDING, OrderStatus.UNKNOWN)
_ID = re.compile(r"^sd-p(?P<leg>[lstm])-(?P<position>\d+)-(?P<tranche>\d+|x)-(?P<version>\d+)$")
_HALT_MEMORY_SECONDS = 7 * 24 * 3600
OCO_PATH = "/api/v3/orderList/oco"


@dataclass
class ProtectionReport:
    """What one `sync_protection` did."""

    position_id: int
    plan: ProtectionPlan | None = None
    placed: list[str] = field(default_factory=list)  # client ids of orders sent
    canceled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "<client id>: <exchange error>"
    exit_order: Order | None = None
    halted: str = ""  # the symbol's status when it is not TRADING
    ladder_done: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.placed or self.canceled or self.exit_order)


# --- client ids ---------------------------------------------------------------------


def _tranche_label(tranche: int) -> str:
    return "x" if tranche == STOP_ONLY_TRANCHE else str(tranche)


def protection_id(leg: str, position_id: int, tranche: int, version: int) -> str:
    return f"sd-p{leg}-{position_id}-{_tranche_label(tranche)}-{version}"


def _parse(order: Order) -> tuple[int, int] | None:
    """(tranche, version) of a protective order placed by this module."""
    match = _ID.match(order.client_order_id)
    if match is None:
        return None
    tranche = match["tranche"]
    return (STOP_ONLY_TRANCHE if tranche == "x" else int(tranche), int(match["version"]))


# --- reads --------------------------------------------------------------------------


def _load(position: Position) -> Position:
    return Position.objects.select_related("account", "strategy_config").get(pk=position.pk)


def _protective(position: Position):
    return Order.objects.filter(position=position, intent__in=PROTECTIVE).select_related("account")


def _open_legs(position: Position) -> list[Order]:
    return list(_protective(position).exclude(status__in=TERMINAL).order_by("pk"))


def _groups(legs: list[Order]) -> dict[tuple[int, int], list[Order]]:
    """Open legs by (tranche, version): the legs of one OCO, or one stop. Orders not
    placed by this module (adopted, manual) are left alone."""
    groups: dict[tuple[int, int], list[Order]] = defaultdict(list)
    for leg in legs:
        key = _parse(leg)
        if key is not None:
            groups[key].append(leg)
    return dict(groups)


def _ladder_progress(position: Position) -> tuple[set[int], dict[int, Decimal]]:
    """Tranches whose take-profit filled, and what the others' take-profits sold."""
    done: set[int] = set()
    sold: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for order in _protective(position).filter(intent=Intent.TAKE_PROFIT):
        key = _parse(order)
        if key is None or key[0] == STOP_ONLY_TRANCHE:
            continue
        if order.status == OrderStatus.FILLED:
            done.add(key[0])
        else:
            sold[key[0]] += order.executed_quantity
    return done, {tranche: qty for tranche, qty in sold.items() if tranche not in done}


def _gateway(position: Position, gateway):
    if gateway is not None:
        return gateway
    from apps.exchange.for_account import gateway_for_account

    return gateway_for_account(position.account)


def _last_price(gateway, symbol: str) -> Decimal:
    answer = gateway.request("GET", "/api/v3/ticker/price", {"symbol": symbol}, signed=False)
    return Decimal(str(answer["price"]))


# --- writes on the position ---------------------------------------------------------


@transaction.atomic
def _set_position_fields(position: Position, action: str, **values) -> Position:
    row = Position.objects.select_for_update().get(pk=position.pk)
    before = {name: getattr(row, name) for name in values}
    changes = {n: [str(before[n]), str(v)] for n, v in values.items() if before[n] != v}
    if not changes:
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=[*values, "updated_at"])
    record_event(
        action=action,
        organization_id=position.account.organization_id,
        target=row,
        changes=changes,
    )
    return row


def _update_ladder_done(position: Position) -> Position:
    done, _ = _ladder_progress(position)
    if not done:
        return position
    reached = max(max(done) + 1, position.ladder_done)
    if reached == position.ladder_done:
        return position
    row = _set_position_fields(position, "position.ladder_advanced", ladder_done=reached)
    return _load(row)


def _bump_version(position: Position) -> Position:
    # Deterministic ids must not repeat a closed order's id; no audit (bookkeeping).
    Position.objects.filter(pk=position.pk).update(
        protection_version=position.protection_version + 1
    )
    return _load(position)


# --- refreshing what the exchange did -----------------------------------------------


def _refresh_legs(gateway, position: Position, legs: list[Order]) -> None:
    """Book fills and closes of sent legs: one openOrders call, then a query for each
    leg that is no longer open there or has executed more than booked."""
    sent = [leg for leg in legs if leg.status in _SENT]
    if not sent:
        return
    open_now = {o["clientOrderId"]: o for o in gateway.open_orders(position.symbol)}
    for leg in sent:
        report = open_now.get(leg.client_order_id)
        executed = Decimal(str(report["executedQty"])) if report else None
        if report is None or executed != leg.executed_quantity:
            execution.refresh(leg, gateway=gateway)


def _book_list_answer(gateway, legs: list[Order], answer: dict) -> None:
    reports = {
        r.get("origClientOrderId") or r.get("clientOrderId"): r
        for r in answer.get("orderReports") or []
    }
    for leg in legs:
        report = reports.get(leg.client_order_id)
        if report is not None:
            execution.apply_report(leg, report, gateway=gateway)
            leg.refresh_from_db()
            executed = Decimal(str(report.get("executedQty", "0")))
            if executed > leg.executed_quantity:
                execution.sync_fills(leg, gateway=gateway)
        else:  # a query answer lists ids only
            execution.refresh(leg, gateway=gateway)


# --- cancelling ---------------------------------------------------------------------


def _cancel_group(gateway, position: Position, legs: list[Order], reason: str) -> list[str]:
    sent = [leg for leg in legs if leg.status not in _UNSENT]
    unsent = [leg for leg in legs if leg.status in _UNSENT]
    canceled = []
    list_id = next((leg.order_list_id for leg in sent if leg.order_list_id is not None), None)
    if list_id is not None:
        try:
            answer = gateway.request(
                "DELETE",
                "/api/v3/orderList",
                {"symbol": position.symbol, "orderListId": list_id},
                signed=True,
                group="trading",
            )
        except (OrderNotFoundError, InvalidOrderError):
            # Already closed on the exchange (filled, expired): learn how.
            for leg in sent:
                execution.refresh(leg, gateway=gateway)
        else:
            _book_list_answer(gateway, sent, answer)
    else:
        for leg in sent:
            execution.cancel(leg, gateway=gateway, reason=reason)
    for leg in sent:
        leg.refresh_from_db()
        if leg.status == OrderStatus.CANCELED:
            canceled.append(leg.client_order_id)
    canceled.extend(_settle_unsent(gateway, position, unsent))
    return canceled


def _settle_unsent(gateway, position: Position, legs: list[Order]) -> list[str]:
    """Pending or unknown legs no longer wanted: learn whether they reached the
    exchange (cancel them there) or not (reject the rows)."""
    settled = []
    for leg in legs:
        leg = execution.refresh(leg, gateway=gateway)
        if leg.status in _UNSENT:
            transition_order(
                order=leg, status=OrderStatus.REJECTED, reason="superseded; not on the exchange"
            )
            settled.append(leg.client_order_id)
        elif leg.status not in TERMINAL:
            leg = execution.cancel(leg, gateway=gateway, reason="superseded")
            if leg.status == OrderStatus.CANCELED:
                settled.append(leg.client_order_id)
    return settled


def cancel_protection(
    *, position: Position, gateway=None, only_take_profits: bool = False
) -> list[str]:
    """Cancel the position's open protective orders; returns the canceled client ids.

    `only_take_profits` cancels the groups holding a take-profit leg. On Binance
    cancelling one leg of an OCO cancels the list, so those tranches lose their stop
    too: follow with `sync_protection` (with `ladder_canceled` set, it places one stop).
    """
    position = _load(position)
    gateway = _gateway(position, gateway)
    canceled: list[str] = []
    for legs in _groups(_open_legs(position)).values():
        if only_take_profits and not any(leg.intent == Intent.TAKE_PROFIT for leg in legs):
            continue
        canceled.extend(_cancel_group(gateway, position, legs, "protection canceled"))
    return canceled


# --- placing ------------------------------------------------------------------------


def _matches(key: tuple[int, int], legs: list[Order], planned: PlannedProtection) -> bool:
    """The open group is exactly the planned order and still whole on the exchange."""
    if key[0] != planned.tranche:
        return False
    stops = [leg for leg in legs if leg.intent == Intent.STOP]
    takes = [leg for leg in legs if leg.intent == Intent.TAKE_PROFIT]
    if len(stops) != 1 or len(takes) != (1 if planned.is_oco else 0):
        return False
    if any(leg.status not in (OrderStatus.NEW, *_UNSENT) for leg in legs):
        return False  # partly filled, or a leg went live and the other expired
    stop = stops[0]
    if not (
        stop.quantity == planned.quantity
        and stop.stop_price == planned.stop_price
        and stop.price == planned.stop_limit_price
    ):
        return False
    return not takes or (
        takes[0].quantity == planned.quantity and takes[0].price == planned.take_profit_price
    )


def _ids_for(position: Position, planned: PlannedProtection, version: int) -> dict[str, str]:
    return {
        leg: protection_id(leg, position.pk, planned.tranche, version) for leg in ("l", "t", "s")
    }


def _create_legs(position: Position, planned: PlannedProtection, ids: dict[str, str]):
    common = {
        "account": position.account,
        "strategy_config": position.strategy_config,
        "position": position,
        "symbol": position.symbol,
        "side": Side.SELL,
        "quantity": planned.quantity,
    }
    with transaction.atomic():
        stop, _ = create_order(
            client_order_id=ids["s"],
            intent=Intent.STOP,
            order_type=OrderType.STOP_LOSS_LIMIT,
            price=planned.stop_limit_price,
            stop_price=planned.stop_price,
            time_in_force="GTC",
            **common,
        )
        take = None
        if planned.is_oco:
            take, _ = create_order(
                client_order_id=ids["t"],
                intent=Intent.TAKE_PROFIT,
                order_type=OrderType.LIMIT_MAKER,
                price=planned.take_profit_price,
                **common,
            )
    return stop, take


def _oco_params(position: Position, stop: Order, take: Order) -> dict[str, str]:
    return {
        "symbol": position.symbol,
        "side": Side.SELL,
        "quantity": to_wire(stop.quantity),
        "aboveType": "LIMIT_MAKER",
        "abovePrice": to_wire(take.price),
        "aboveClientOrderId": take.client_order_id,
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": to_wire(stop.stop_price),
        "belowPrice": to_wire(stop.price),
        "belowTimeInForce": "GTC",
        "belowClientOrderId": stop.client_order_id,
        "newOrderRespType": "RESULT",
    }


def _place_oco(gateway, position, stop: Order, take: Order, list_id: str):
    """Send one OCO at most once; returns the exchange's refusal, if any."""
    try:
        outcome = place_order_list(
            gateway, OCO_PATH, _oco_params(position, stop, take), list_id, query_first=True
        )
    except InvalidOrderError as error:
        for leg in (stop, take):
            transition_order(
                order=leg, status=OrderStatus.REJECTED, reason=f"{error.exchange_code}: {error}"
            )
        return error
    if outcome.status == UNKNOWN:
        for leg in (stop, take):
            leg.refresh_from_db()
            if leg.status != OrderStatus.UNKNOWN:
                transition_order(
                    order=leg, status=OrderStatus.UNKNOWN, reason="; ".join(outcome.notes)
                )
        return None
    _book_list_answer(gateway, [stop, take], outcome.order or {})
    return None


def _send(gateway, position: Position, stop: Order, take: Order | None, report):
    """Send written legs (an OCO, or a lone stop); returns the refusal, if any."""
    if take is not None:
        list_id = protection_id("l", position.pk, *_parse(stop))
        refusal = _place_oco(gateway, position, stop, take, list_id)
    else:
        refusal = execution.submit(stop, gateway=gateway).refused
    target = report.refused if refusal is not None else report.placed
    for leg in (stop, take):
        if leg is not None:
            target.append(f"{leg.client_order_id}: {refusal}" if refusal else leg.client_order_id)
    return refusal


def _sell_tranche_at_market(gateway, position: Position, planned, report) -> None:
    """The tranche's take-profit level is already below the market: take it now."""
    cid = protection_id("m", position.pk, planned.tranche, position.protection_version)
    order, _ = create_order(
        account=position.account,
        strategy_config=position.strategy_config,
        position=position,
        client_order_id=cid,
        symbol=position.symbol,
        intent=Intent.TAKE_PROFIT,
        order_type=OrderType.MARKET,
        side=Side.SELL,
        quantity=planned.quantity,
    )
    result = execution.submit(order, gateway=gateway)
    if result.refused is not None:
        report.refused.append(f"{cid}: {result.refused}")
    else:
        report.placed.append(cid)


def _needs_new_version(position: Position, missing: list[PlannedProtection]) -> bool:
    ids = {
        cid
        for planned in missing
        for cid in (
            *_ids_for(position, planned, position.protection_version).values(),
            protection_id("m", position.pk, planned.tranche, position.protection_version),
        )
    }
    return Order.objects.filter(account=position.account, client_order_id__in=ids).exists()


def _stop_reached(error: ExchangeError, gateway, symbol: str, stop: Decimal) -> bool:
    if isinstance(error, WouldTriggerImmediatelyError) and "trigger" in str(error).lower():
        return True
    try:
        return _last_price(gateway, symbol) <= stop
    except ExchangeError:
        return False


# --- the halted symbol alert -------------------------------------------------------


def _symbol_status(position: Position, cached: str) -> str:
    """Not TRADING if either the gateway's exchangeInfo or the synced `Symbol` row says
    so: whichever heard of the halt first."""
    if cached != "TRADING":
        return cached
    synced = (
        Symbol.objects.filter(environment=position.account.environment, name=position.symbol)
        .values_list("status", flat=True)
        .first()
    )
    return synced if synced not in (None, "UNKNOWN") else cached


def _halt_key(position: Position) -> str:
    return f"spotdesk:protection:halted:{position.account.environment}:{position.pk}"


def _note_halted(gateway, position: Position, status: str) -> None:
    redis = getattr(gateway, "redis", None)
    if redis is not None and not redis.set(
        _halt_key(position), status, nx=True, ex=_HALT_MEMORY_SECONDS
    ):
        return
    raise_alert(
        Severity.WARNING,
        "protection_symbol_not_trading",
        f"{position.symbol} is {status}: protective orders kept, none placed until it trades",
        account_id=position.account_id,
        position_id=position.pk,
        symbol=position.symbol,
        status=status,
    )


def _note_trading(gateway, position: Position) -> None:
    redis = getattr(gateway, "redis", None)
    if redis is not None:
        redis.delete(_halt_key(position))


# --- the sync -----------------------------------------------------------------------


def sync_protection(
    *, position: Position, exit_config: ExitConfig, gateway=None, now_ms: int | None = None
) -> ProtectionReport:
    """Make the exchange's protective orders for `position` match its plan (see the
    module docstring). `now_ms` is accepted for the cycle's bookkeeping (the exchange's
    own clock decides every trigger). Call it under the account's `AccountLock`, as the
    cycle does. Raises only for gateway errors worth retrying."""
    position = _load(position)
    report = ProtectionReport(position.pk, ladder_done=position.ladder_done)
    gateway = _gateway(position, gateway)
    _refresh_legs(gateway, position, _open_legs(position))
    position = _update_ladder_done(_load(position))
    report.ladder_done = position.ladder_done
    if position.status != Position.Status.OPEN or position.quantity <= 0:
        report.canceled = cancel_protection(position=position, gateway=gateway)
        return report
    if position.stop_price is None:
        # Booked outside the cycle (stream, reconciliation): never left without a stop.
        from .stops import ensure_stop

        position = _load(ensure_stop(position))
    rules = gateway.symbol_rules(position.symbol)
    status = _symbol_status(position, rules.status)
    if status != "TRADING":
        report.halted = status
        report.kept = [leg.client_order_id for leg in _open_legs(position)]
        _note_halted(gateway, position, status)
        return report
    _note_trading(gateway, position)

    # Cancelling a stale group can book fills (a leg traded meanwhile), which changes
    # the plan: plan again once after cancelling.
    for _ in range(2):
        _, sold = _ladder_progress(position)
        plan = plan_protection(
            position=position, exit_config=exit_config, rules=rules, sold_by_tranche=sold
        )
        report.plan = plan
        groups = _groups(_open_legs(position))
        matched: set[tuple[int, int]] = set()
        missing: list[PlannedProtection] = []
        for planned in plan.orders:
            key = next(
                (
                    k
                    for k, legs in groups.items()
                    if k not in matched and _matches(k, legs, planned)
                ),
                None,
            )
            if key is None:
                missing.append(planned)
            else:
                matched.add(key)
        stale = {k: legs for k, legs in groups.items() if k not in matched}
        if not stale:
            break
        if plan.problem:  # keep what protects the position rather than leave it bare
            break
        quantity = position.quantity
        for legs in stale.values():
            report.canceled.extend(_cancel_group(gateway, position, legs, "replaced"))
        position = _update_ladder_done(_load(position))
        report.ladder_done = position.ladder_done
        if position.status != Position.Status.OPEN or position.quantity <= 0:
            return report
        if position.quantity == quantity:
            break

    if plan.problem:
        logger.warning(
            "position cannot be protected",
            extra={"position_id": position.pk, "problem": plan.problem},
        )
    # Legs of a matching group still unsent (a crash between writing and sending).
    to_send = []
    for key in matched:
        legs = groups[key]
        if any(leg.status in _UNSENT for leg in legs):
            stop = next(leg for leg in legs if leg.intent == Intent.STOP)
            take = next((leg for leg in legs if leg.intent == Intent.TAKE_PROFIT), None)
            to_send.append((stop, take))
        else:
            report.kept.extend(leg.client_order_id for leg in legs)
    if not missing and not to_send:
        return report

    last = _last_price(gateway, position.symbol)
    stop_price = plan.orders[0].stop_price
    if last <= stop_price:
        report.exit_order = exit_position(
            position=position, reason=f"stop {stop_price} at or above the market {last}",
            gateway=gateway,
        )  # fmt: skip
        return report
    if missing and _needs_new_version(position, missing):
        position = _bump_version(position)
    for planned in missing:
        if planned.is_oco and planned.take_profit_price <= last:
            _sell_tranche_at_market(gateway, position, planned, report)
            continue
        ids = _ids_for(position, planned, position.protection_version)
        to_send.append(_create_legs(position, planned, ids))
    for stop, take in to_send:
        refusal = _send(gateway, position, stop, take, report)
        if refusal is None:
            continue
        if _stop_reached(refusal, gateway, position.symbol, stop_price):
            report.exit_order = exit_position(
                position=position, reason=f"stop would trigger immediately: {refusal}",
                gateway=gateway,
            )  # fmt: skip
            return report
        raise_alert(
            Severity.ERROR,
            "protection_refused",
            f"a protective order for {position.symbol} was refused: {refusal}",
            account_id=position.account_id,
            position_id=position.pk,
        )
    report.ladder_done = _load(position).ladder_done
    return report


# --- exit at market -----------------------------------------------------------------


def _exit_client_id(position: Position, trigger: str | None, n: int) -> str:
    if trigger:
        return client_order_id(
            account_id=position.account_id,
            config_id=position.strategy_config_id,
            trigger=f"{trigger}:{position.pk}",
            intent=Intent.EXIT,
            n=n,
        )
    return f"sd-px-{position.pk}-{n}"


def exit_position(
    *, position: Position, reason: str, gateway=None, trigger: str | None = None
) -> Order | None:
    """Cancel the position's protective orders, then sell its quantity at market.

    Never sells more than the position holds (the unmanaged reserve stays). Returns the
    exit order, or None when nothing is left to sell (closed, or below one lot / the
    minimum notional: dust). Safe to repeat: an exit already under way is resumed.
    """
    position = _load(position)
    gateway = _gateway(position, gateway)
    exits = Order.objects.filter(position=position, intent=Intent.EXIT).order_by("pk")
    under_way = exits.exclude(status__in=TERMINAL).last()
    if under_way is not None:
        return execution.submit(under_way, gateway=gateway).order
    cancel_protection(position=position, gateway=gateway)
    position = _load(position)
    if position.status != Position.Status.OPEN or position.quantity <= 0:
        return exits.last()
    rules = gateway.symbol_rules(position.symbol)
    lot = rules.market_lot or rules.lot
    step = lot.step_size or rules.lot.step_size
    quantity = floor_to_step(position.quantity, step) if step > 0 else position.quantity
    if quantity <= 0 or quantity < (lot.min_qty or rules.lot.min_qty):
        logger.warning("exit: position below one lot", extra={"position_id": position.pk})
        return None
    notional = rules.notional
    if (
        notional is not None
        and notional.apply_min_to_market
        and quantity * _last_price(gateway, position.symbol) < notional.min_notional
    ):
        logger.warning("exit: position below min notional", extra={"position_id": position.pk})
        return None
    with transaction.atomic():
        order, created = create_order(
            account=position.account,
            strategy_config=position.strategy_config,
            position=position,
            client_order_id=_exit_client_id(position, trigger, exits.count()),
            symbol=position.symbol,
            intent=Intent.EXIT,
            order_type=OrderType.MARKET,
            side=Side.SELL,
            quantity=quantity,
        )
        if created:
            record_event(
                action="position.exit",
                organization_id=position.account.organization_id,
                target=position,
                changes={"reason": reason[:200], "quantity": str(quantity)},
            )
        if reason and created:
            order = transition_order(order=order, status=None, reason=reason)
    return execution.submit(order, gateway=gateway).order
