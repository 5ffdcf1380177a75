"""Controls: pause and resume, kill switches, manual position actions, automatic halts.

- Pause/resume of an account or a strategy config are the existing audited services
  (re-exported here so the controls have one address).
- A kill switch (account, organization or global) blocks new entries at once
  (`kill_switch_reason`, called by the cycle's entry gate), cancels resting entry and
  pyramid orders on the exchange and keeps protective orders, unless `flatten` sells
  every open position at market. Pressing needs no step-up (an emergency); releasing
  does, and needs the risk role.
- Manual actions per position: close now, move the stop, cancel the take-profit ladder.
- `halt_account` is the automatic halt (drawdown breaker, daily loss, trade count): the
  account becomes HALTED with an alert; only the risk role resumes it, with a fresh code.

Every change is permission-checked through the role model and audited in the same
transaction; exchange calls happen after the transaction that decided them committed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts import otp
from apps.accounts import services as account_services
from apps.accounts.actors import Actor, require_step_up
from apps.accounts.models import AccountStatus, ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.accounts.scoping import has_cross_organization_access
from apps.audit.services import record_event
from apps.core.decimals import to_decimal
from apps.core.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    SpotdeskError,
    ValidationError,
)
from apps.strategies import services as strategy_services

from . import execution
from .models import Intent, KillSwitch, Order, Position
from .states import OrderStatus

logger = logging.getLogger(__name__)

# Pause and resume already exist as audited services; these are the same functions.
pause_account = account_services.pause_account
resume_account = account_services.resume_account
pause_strategy_config = strategy_services.pause_strategy_config
resume_strategy_config = strategy_services.resume_strategy_config

# What a kill switch cancels: orders that would open or grow a position.
_ENTRY_INTENTS = (Intent.ENTRY, Intent.PYRAMID)
_OPEN_STATUSES = (
    OrderStatus.PENDING,
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
)


# --- permissions and step-up --------------------------------------------------------


def require_role(actor: Actor, obj, action: str):
    """Reload `obj` through the actor's scope; NotFound hides other tenants."""
    model = type(obj)
    if actor.system:
        return model.objects.get(pk=obj.pk)
    if not model.objects.for_user(actor.user, Action.VIEW).filter(pk=obj.pk).exists():
        raise NotFound(f"{model._meta.verbose_name} {obj.pk} does not exist")
    found = model.objects.for_user(actor.user, action).filter(pk=obj.pk).first()
    if found is None:
        raise PermissionDenied(
            f"your role does not allow '{action}' on {model._meta.verbose_name} {obj.pk}"
        )
    return found


def _require_platform(actor: Actor, action: str, what: str) -> None:
    if not (actor.system or has_cross_organization_access(actor.user, action)):
        raise PermissionDenied(f"only platform staff may {what}")


def actor_with_code(actor: Actor, code: str | None) -> Actor:
    """The actor with a step-up that is this instant's: `code` must be a valid TOTP (or
    backup) code of the user. Without a code the actor is returned unchanged, so a
    session's recent step-up still counts."""
    if actor.system or not code:
        return actor
    if otp.verify_code(actor.user, code) is None:
        record_event(action="auth.step_up_failed", actor=actor.user, changes={"via": "controls"})
        raise ValidationError("otp_code", "is not a valid code of your authenticator")
    return Actor(user=actor.user, otp_verified_at=time.time())


def _reason(value) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError("reason", "must be text")
    return (value or "").strip()[:500]


# --- kill switch ---------------------------------------------------------------------


def kill_switch_reason(account: ExchangeAccount) -> str | None:
    """Why an engaged kill switch blocks new entries of `account`, or None (one query)."""
    switch = (
        KillSwitch.objects.filter(released_at__isnull=True)
        .filter(
            Q(scope=KillSwitch.Scope.GLOBAL)
            | Q(scope=KillSwitch.Scope.ORGANIZATION, organization_id=account.organization_id)
            | Q(scope=KillSwitch.Scope.ACCOUNT, account_id=account.pk)
        )
        .order_by("engaged_at")
        .first()
    )
    if switch is None:
        return None
    text = f"{switch.scope} kill switch engaged by {switch.engaged_by}"
    return f"{text}: {switch.reason}" if switch.reason else text


@dataclass
class KillReport:
    """What enforcing a switch did on the exchange, per account."""

    switch: KillSwitch
    canceled: list[str] = field(default_factory=list)  # client order ids
    exits: list[str] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)  # account id -> message


def _target(
    scope: str, organization, account
) -> tuple[Organization | None, ExchangeAccount | None]:
    if scope not in KillSwitch.Scope.values:
        raise ValidationError("scope", f"must be one of {', '.join(KillSwitch.Scope.values)}")
    if scope == KillSwitch.Scope.ACCOUNT:
        if not isinstance(account, ExchangeAccount):
            raise ValidationError("account", "is required for an account kill switch")
        return account.organization, account
    if scope == KillSwitch.Scope.ORGANIZATION:
        if not isinstance(organization, Organization):
            raise ValidationError("organization", "is required for an organization kill switch")
        return organization, None
    return None, None


def _check_kill_permission(actor: Actor, scope, organization, account, action: str) -> None:
    verb = "press" if action == Action.KILL else "release"
    if scope == KillSwitch.Scope.GLOBAL:
        _require_platform(actor, action, f"{verb} the global kill switch")
    elif scope == KillSwitch.Scope.ORGANIZATION:
        require_role(actor, organization, action)
    else:
        require_role(actor, account, action)


def _engaged(scope, organization, account):
    found = KillSwitch.objects.select_for_update().filter(scope=scope, released_at__isnull=True)
    if scope == KillSwitch.Scope.ORGANIZATION:
        found = found.filter(organization=organization)
    elif scope == KillSwitch.Scope.ACCOUNT:
        found = found.filter(account=account)
    return found.first()


def _switch_audit(switch: KillSwitch) -> dict:
    return {
        "scope": switch.scope,
        "account_id": switch.account_id,
        "reason": switch.reason,
        "flatten": switch.flatten,
    }


def _press(actor, scope, organization, account, reason, flatten) -> KillSwitch:
    with transaction.atomic():
        switch = _engaged(scope, organization, account)
        if switch is not None:
            if flatten and not switch.flatten:
                switch.flatten = True
                switch.save(update_fields=["flatten", "updated_at"])
                record_event(
                    action="kill_switch.flatten_added",
                    actor=actor.user,
                    organization_id=switch.organization_id,
                    target=switch,
                    changes={"flatten": {"before": False, "after": True}},
                )
            return switch
        switch = KillSwitch.objects.create(
            scope=scope,
            organization=organization,
            account=account,
            reason=reason,
            flatten=flatten,
            engaged_by=actor.username,
        )
        record_event(
            action="kill_switch.engaged",
            actor=actor.user,
            organization_id=switch.organization_id,
            target=switch,
            changes=_switch_audit(switch),
        )
        from apps.monitoring.alerts import raise_alert

        raise_alert(
            "critical",
            "kill_switch_engaged",
            f"{switch.get_scope_display()} kill switch engaged by {switch.engaged_by}"
            + (f": {reason}" if reason else "")
            + (" (flatten: selling open positions)" if flatten else ""),
            organization=switch.organization_id,
            kill_switch_id=switch.pk,
            scope=scope,
            flatten=flatten,
        )
        return switch


def engage_kill_switch(
    *,
    actor: Actor,
    scope: str,
    organization: Organization | None = None,
    account: ExchangeAccount | None = None,
    reason: str = "",
    flatten: bool = False,
    enforce: bool = True,
    gateway_for=None,
) -> KillReport:
    """Press the kill switch (no step-up: it is an emergency). Pressing an engaged switch
    again changes nothing but may add `flatten`; enforcement runs again (idempotent).

    `enforce=False` only records the switch (entries are blocked at once) and leaves the
    exchange work to `enforce_kill_switch` (e.g. a task for a global switch)."""
    organization, account = _target(scope, organization, account)
    reason = _reason(reason)
    if not isinstance(flatten, bool):
        raise ValidationError("flatten", "must be true or false")
    _check_kill_permission(actor, scope, organization, account, Action.KILL)
    try:
        switch = _press(actor, scope, organization, account, reason, flatten)
    except IntegrityError:  # pressed concurrently by someone else: theirs is the switch
        switch = _press(actor, scope, organization, account, reason, flatten)
    if not enforce:
        return KillReport(switch)
    return enforce_kill_switch(switch, gateway_for=gateway_for)


@transaction.atomic
def release_kill_switch(*, actor: Actor, switch: KillSwitch, otp_code: str | None = None):
    """Release an engaged switch: the risk role and a fresh second factor. Entries may
    open again; nothing canceled or sold comes back."""
    switch = KillSwitch.objects.select_for_update().get(pk=switch.pk)
    _check_kill_permission(actor, switch.scope, switch.organization, switch.account, Action.RISK)
    actor = actor_with_code(actor, otp_code)
    require_step_up(actor, what="Releasing a kill switch")
    if switch.released_at is not None:
        raise ConflictError("this kill switch is already released")
    switch.released_at = timezone.now()
    switch.released_by = actor.username
    switch.save(update_fields=["released_at", "released_by", "updated_at"])
    record_event(
        action="kill_switch.released",
        actor=actor.user,
        organization_id=switch.organization_id,
        target=switch,
        changes={**_switch_audit(switch), "released_by": switch.released_by},
    )
    return switch


def affected_accounts(switch: KillSwitch):
    if switch.scope == KillSwitch.Scope.ACCOUNT:
        accounts = ExchangeAccount.objects.filter(pk=switch.account_id)
    elif switch.scope == KillSwitch.Scope.ORGANIZATION:
        accounts = ExchangeAccount.objects.filter(organization_id=switch.organization_id)
    else:
        accounts = ExchangeAccount.objects.all()
    # Only accounts with something to cancel or sell need the exchange.
    busy = Q(orders__intent__in=_ENTRY_INTENTS, orders__status__in=_OPEN_STATUSES)
    if switch.flatten:
        busy |= Q(positions__status=Position.Status.OPEN)
    return accounts.filter(busy).distinct().order_by("pk")


def enforce_kill_switch(switch: KillSwitch, *, gateway_for=None) -> KillReport:
    """Cancel resting entries (and sell positions if `flatten`) of every account under
    the switch. Each account is worked under its cycle lock, so no cycle is between its
    gate and its send; one account's failure does not stop the others."""
    from apps.core.redis import get_redis
    from apps.exchange.for_account import gateway_for_account

    from .locks import AccountLock

    gateway_for = gateway_for or gateway_for_account
    report = KillReport(switch)
    for account in affected_accounts(switch):
        lock = AccountLock(get_redis(), account.pk)
        held = lock.acquire()
        try:
            _enforce_on_account(account, switch, gateway_for(account), report, locked=held)
        except SpotdeskError as error:
            report.failures[account.pk] = error.message
            logger.warning(
                "kill switch enforcement failed",
                extra={"account_id": account.pk, "kill_switch_id": switch.pk},
            )
        finally:
            if held:
                lock.release()
    if report.failures:
        from apps.monitoring.alerts import raise_alert

        raise_alert(
            "critical",
            "kill_switch_incomplete",
            f"The kill switch could not cancel or sell everything on "
            f"{len(report.failures)} account(s); check them now.",
            organization=switch.organization_id,
            kill_switch_id=switch.pk,
            failures=report.failures,
        )
    return report


def _enforce_on_account(account, switch, gateway, report: KillReport, *, locked: bool) -> None:
    entries = Order.objects.filter(
        account=account, intent__in=_ENTRY_INTENTS, status__in=_OPEN_STATUSES
    ).order_by("pk")
    for order in entries:
        order = execution.cancel(order, gateway=gateway, reason="kill switch")
        if order.status == OrderStatus.PENDING and locked:
            # Written but unknown to the exchange, and no cycle is sending it (we hold
            # the lock): make sure it never leaves.
            from .services import transition_order

            order = transition_order(
                order=order, status=OrderStatus.REJECTED, reason="kill switch: never sent"
            )
        report.canceled.append(order.client_order_id)
    if not switch.flatten:
        return
    from . import protection

    for position in Position.objects.filter(account=account, status=Position.Status.OPEN):
        exit_order = protection.exit_position(
            position=position, reason="kill switch: flatten", gateway=gateway
        )
        if exit_order is not None:  # None: only dust was left
            report.exits.append(exit_order.client_order_id)


# --- manual actions on a position -------------------------------------------------


def _open_position(actor: Actor, position: Position) -> Position:
    position = require_role(actor, position, Action.TRADE)
    if position.status != Position.Status.OPEN:
        raise ConflictError(f"position {position.pk} is closed")
    return position


def _exit_config(position: Position):
    from apps.risk.engine import ExitConfig

    profile = position.strategy_config.risk_profile
    return profile.to_engine_config().exits if profile is not None else ExitConfig()


def _current_price(gateway, symbol: str) -> Decimal:
    ticker = gateway.request("GET", "/api/v3/ticker/price", {"symbol": symbol}, signed=False)
    return Decimal(str(ticker["price"]))


def close_position(*, actor: Actor, position: Position, gateway=None) -> Order | None:
    """Sell the position now at market (its protective orders are canceled first).
    None when what is left is below one lot or the minimum notional (dust)."""
    from . import protection

    position = _open_position(actor, position)
    with transaction.atomic():
        record_event(
            action="position.close_requested",
            actor=actor.user,
            organization_id=position.account.organization_id,
            target=position,
            changes={"symbol": position.symbol, "quantity": position.quantity},
        )
    order = protection.exit_position(position=position, reason="manual close", gateway=gateway)
    with transaction.atomic():
        record_event(
            action="position.closed_manually",
            actor=actor.user,
            organization_id=position.account.organization_id,
            target=position,
            changes={
                "exit_order": order.client_order_id if order else None,
                "order_status": order.status if order else "nothing to sell (dust)",
            },
        )
    return order


def move_stop(*, actor: Actor, position: Position, stop_price, gateway=None):
    """Set the position's stop (above 0, below the current price) and replace its
    protective orders to match."""
    from apps.exchange.for_account import gateway_for_account

    from . import protection

    position = _open_position(actor, position)
    stop = to_decimal(stop_price, field="stop_price")
    if not stop.is_finite() or stop <= 0:
        raise ValidationError("stop_price", "must be greater than 0")
    gateway = gateway or gateway_for_account(position.account)
    price = _current_price(gateway, position.symbol)
    if stop >= price:
        raise ValidationError(
            "stop_price", f"must be below the current price ({price} {position.quote_asset})"
        )
    with transaction.atomic():
        locked = Position.objects.select_for_update().get(pk=position.pk)
        before = locked.stop_price
        locked.stop_price = stop
        locked.save(update_fields=["stop_price", "updated_at"])
        record_event(
            action="position.stop_moved",
            actor=actor.user,
            organization_id=locked.account.organization_id,
            target=locked,
            changes={"stop_price": {"before": before, "after": stop}, "market_price": price},
        )
    return protection.sync_protection(
        position=locked, exit_config=_exit_config(locked), gateway=gateway
    )


def cancel_ladder(*, actor: Actor, position: Position, gateway=None):
    """Drop the take-profit orders: the position keeps only its stop (placed again as a
    plain stop order by the next protection sync, done here at once)."""
    from apps.exchange.for_account import gateway_for_account

    from . import protection

    position = _open_position(actor, position)
    gateway = gateway or gateway_for_account(position.account)
    with transaction.atomic():
        locked = Position.objects.select_for_update().get(pk=position.pk)
        if locked.ladder_canceled:
            return None
        locked.ladder_canceled = True
        locked.save(update_fields=["ladder_canceled", "updated_at"])
        record_event(
            action="position.ladder_canceled",
            actor=actor.user,
            organization_id=locked.account.organization_id,
            target=locked,
            changes={"ladder_canceled": {"before": False, "after": True}},
        )
    protection.cancel_protection(position=locked, gateway=gateway, only_take_profits=True)
    return protection.sync_protection(
        position=locked, exit_config=_exit_config(locked), gateway=gateway
    )


# --- automatic halt and its resumption -------------------------------------------


def halt_account(
    *, account: ExchangeAccount, reason: str, actor: Actor | None = None, source: str = ""
) -> bool:
    """Set the account HALTED with an alert (the drawdown breaker, the daily loss limit
    or the trade-count limit tripped). False when it was already halted or disabled."""
    actor = actor or Actor.for_system()
    reason = _reason(reason) or "halted"
    with transaction.atomic():
        current = ExchangeAccount.objects.select_for_update().get(pk=account.pk)
        if current.status in (AccountStatus.HALTED, AccountStatus.DISABLED):
            return False
        account_services.halt_account(actor=actor, account=current, reason=reason)
        from apps.monitoring.alerts import raise_alert

        raise_alert(
            "critical",
            "account_halted",
            f"{current} was halted: {reason}. A risk officer must resume it.",
            organization=current.organization_id,
            account_id=current.pk,
            reason=reason,
            source=source,
        )
    return True


def resume_halted_account(*, actor: Actor, account: ExchangeAccount, otp_code: str | None):
    """Resume a HALTED account: the risk role and a fresh code of the user's
    authenticator (the service checks the role and the step-up)."""
    account = require_role(actor, account, Action.VIEW)
    if account.status != AccountStatus.HALTED:
        raise ConflictError(f"the account is {account.status}, not halted")
    require_role(actor, account, Action.RISK)
    return account_services.resume_account(actor=actor_with_code(actor, otp_code), account=account)
