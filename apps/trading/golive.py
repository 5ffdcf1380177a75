"""Going live: a strategy configuration that ran on a paper account is promoted to a live
account (a live account is its own account: environments never change).

A `GoLiveRequest` snapshots the paper config's strategy, version, parameters, symbols
and interval. `evaluate_checklist` computes every item with its value and target (the
admin shows them one by one); `approve_go_live` lets a risk officer approve with a fresh
code of their authenticator, refuses naming every unmet item, and on success creates
and enables the live configuration and records the live account's approval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import services as account_services
from apps.accounts.actors import Actor
from apps.accounts.models import Environment, ExchangeAccount, KeyState
from apps.accounts.roles import Action
from apps.audit.services import record_event
from apps.core.errors import ConflictError, PermissionDenied, ValidationError
from apps.risk.models import RiskProfile
from apps.strategies import services as strategy_services
from apps.strategies.engine import registry
from apps.strategies.models import StrategyConfig

from .controls import actor_with_code, require_role
from .kpis import PeriodKpis, paper_kpis
from .models import Decision, GoLiveRequest

D = Decimal


# --- settings (targets are the seed's testnet targets) --------------------------------


def _setting(name: str, default: str) -> Decimal:
    return D(str(getattr(settings, name, default)))


def min_paper_days() -> int:
    return int(getattr(settings, "TRADING_GOLIVE_MIN_PAPER_DAYS", 7))


def targets() -> dict[str, Decimal]:
    return {
        "win_rate": _setting("TRADING_GOLIVE_MIN_WIN_RATE", "0.5"),
        "profit_factor": _setting("TRADING_GOLIVE_MIN_PROFIT_FACTOR", "1.3"),
        "max_drawdown": _setting("TRADING_GOLIVE_MAX_DRAWDOWN", "0.2"),
        "sharpe": _setting("TRADING_GOLIVE_MIN_SHARPE", "1.0"),
        "error_rate": _setting("TRADING_GOLIVE_MAX_ERROR_RATE", "0.05"),
    }


# --- the checklist ------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    met: bool
    value: str
    target: str

    def as_dict(self) -> dict:
        return asdict(self)


class ChecklistNotMet(ConflictError):
    """Approval refused: `unmet` lists every item that is not met."""

    code = "go_live_checklist_not_met"

    def __init__(self, unmet: list[ChecklistItem]):
        names = "; ".join(f"{i.key} ({i.value}; needs {i.target})" for i in unmet)
        super().__init__(f"the go-live checklist is not met: {names}")
        self.unmet = unmet

    def as_dict(self) -> dict:
        return {**super().as_dict(), "unmet": [item.as_dict() for item in self.unmet]}


def _live_key_item(account: ExchangeAccount) -> ChecklistItem:
    label = _("live key verified without withdrawal or transfer rights")
    target = _("a verified live key that cannot withdraw or transfer")
    permissions = account.permissions or {}
    problems = []
    if account.environment != Environment.LIVE:
        problems.append(f"the account is {account.environment}, not live")
    if not account.key_pairs.filter(state=KeyState.ACTIVE).exists():
        problems.append("no active key")
    if account.permissions_verified_at is None:
        problems.append("the key was never verified")
    else:
        if permissions.get("accepted") is not True:
            problems.append("the exchange refused the key")
        # Only an explicit False counts: None means the exchange could not tell.
        for right, name in (
            ("can_withdraw", "withdrawals"),
            ("can_internal_transfer", "internal transfers"),
            ("can_universal_transfer", "universal transfers"),
        ):
            if permissions.get(right) is not False:
                problems.append(f"{name} not verified disabled")
    if problems:
        return ChecklistItem("live_key", label, False, ", ".join(problems), target)
    verified = account.permissions_verified_at.isoformat(timespec="seconds")
    return ChecklistItem("live_key", label, True, f"verified {verified}", target)


def _risk_profile_item(profile: RiskProfile | None) -> ChecklistItem:
    label = _("risk profile with a maximum drawdown and a daily loss limit")
    target = _("max drawdown and daily loss limit set")
    if profile is None:
        return ChecklistItem("risk_profile", label, False, "no risk profile", target)
    daily = profile.daily_loss_limit_pct or profile.daily_loss_limit_abs
    drawdown = profile.max_drawdown
    value = f"{profile.name}: max drawdown {drawdown or '-'}, daily loss limit {daily or '-'}"
    return ChecklistItem("risk_profile", label, bool(drawdown and daily), value, target)


def _alerts_item(organization_id: int) -> ChecklistItem:
    from apps.monitoring.models import NotificationRoute

    routes = NotificationRoute.objects.filter(organization_id=organization_id, enabled=True)
    count = routes.count()
    return ChecklistItem(
        "alerts",
        _("alerts configured for the organization"),
        count > 0,
        f"{count} enabled notification route(s)",
        _("at least 1 enabled notification route"),
    )


def _version_item(request: GoLiveRequest) -> ChecklistItem:
    try:
        current = registry.get(request.strategy).version
    except Exception:  # an unknown strategy key: the plug-in was removed
        current = "missing"
    return ChecklistItem(
        "strategy_version",
        _("the paper-tested version is the strategy's current version"),
        current == request.strategy_version,
        f"tested {request.strategy_version}, current {current}",
        _("the same version"),
    )


def paper_period_start(request: GoLiveRequest) -> datetime | None:
    """When the paper config first evaluated this version with these parameters."""
    decisions = Decision.objects.filter(
        strategy_config_id=request.paper_config_id, strategy_version=request.strategy_version
    )
    fingerprint = _fingerprint(request)
    if fingerprint:
        decisions = decisions.filter(params_fingerprint=fingerprint)
    return decisions.aggregate(start=Min("created_at"))["start"]


def _fingerprint(request: GoLiveRequest) -> str | None:
    try:
        return registry.create(request.strategy, request.params).fingerprint
    except Exception:  # parameters the current schema refuses: match on version only
        return None


def _paper_days_item(start: datetime | None, now: datetime) -> ChecklistItem:
    needed = min_paper_days()
    label = _("days of paper trading of this version")
    target = _("at least %(days)d days") % {"days": needed}
    if start is None:
        return ChecklistItem("paper_days", label, False, "no paper decisions yet", target)
    days = D(repr((now - start) / timedelta(days=1))).quantize(D("0.1"))
    return ChecklistItem("paper_days", label, days >= needed, f"{days} days", target)


def _kpi_items(kpis: PeriodKpis | None) -> list[ChecklistItem]:
    goals = targets()

    def item(key, label, value, goal, higher_is_better):
        if value is None:
            shown, met = "no data", False
        else:
            shown = str(value)
            met = value > goal if higher_is_better else value < goal
        sign = ">" if higher_is_better else "<"
        return ChecklistItem(key, label, met, shown, f"{sign} {goal}")

    rows = (
        ("win_rate", _("paper win rate"), True),
        ("profit_factor", _("paper profit factor"), True),
        ("max_drawdown", _("paper maximum drawdown"), False),
        ("sharpe", _("paper Sharpe ratio"), True),
        ("error_rate", _("paper order error rate"), False),
    )
    return [
        item(key, label, getattr(kpis, key) if kpis else None, goals[key], higher)
        for key, label, higher in rows
    ]


def evaluate_checklist(
    request: GoLiveRequest, *, now: datetime | None = None
) -> list[ChecklistItem]:
    """Every item, met or not, with the value found and the target."""
    now = now or timezone.now()
    live = ExchangeAccount.objects.get(pk=request.live_account_id)
    start = paper_period_start(request)
    kpis = None
    if start is not None:
        kpis = paper_kpis(
            account_id=request.paper_config.account_id,
            config_id=request.paper_config_id,
            since=start,
            until=now,
        )
    return [
        _live_key_item(live),
        _risk_profile_item(request.risk_profile),
        _alerts_item(live.organization_id),
        _version_item(request),
        _paper_days_item(start, now),
        *_kpi_items(kpis),
        *(item for provider in EXTRA_CHECKLIST_ITEMS for item in provider(request)),
    ]


# Apps above trading add checklist items (backtest criteria) without trading importing
# them: each provider takes the GoLiveRequest and returns its items.
EXTRA_CHECKLIST_ITEMS: list = []


def register_checklist_items(provider) -> None:
    if provider not in EXTRA_CHECKLIST_ITEMS:
        EXTRA_CHECKLIST_ITEMS.append(provider)


# --- services -------------------------------------------------------------------------


def _snapshot(request: GoLiveRequest) -> dict:
    return {
        "paper_config": request.paper_config_id,
        "live_account": request.live_account_id,
        "name": request.name,
        "strategy": request.strategy,
        "strategy_version": request.strategy_version,
        "params": request.params,
        "symbols": request.symbols,
        "interval": request.interval,
        "risk_profile": request.risk_profile_id,
    }


@transaction.atomic
def request_go_live(
    *,
    actor: Actor,
    paper_config: StrategyConfig,
    live_account: ExchangeAccount,
    name: str | None = None,
    risk_profile: RiskProfile | None = None,
) -> GoLiveRequest:
    """Propose the paper config, as it is now, for the live account (trade role on both)."""
    paper_config = require_role(actor, paper_config, Action.TRADE)
    live_account = require_role(actor, live_account, Action.TRADE)
    if paper_config.account.environment == Environment.LIVE:
        raise ValidationError("paper_config", "must run on a paper account, not a live one")
    if live_account.environment != Environment.LIVE:
        raise ValidationError("live_account", "must be a live account")
    if live_account.organization_id != paper_config.account.organization_id:
        raise ValidationError("live_account", "must belong to the paper account's organization")
    if risk_profile is not None and not isinstance(risk_profile, RiskProfile):
        raise ValidationError("risk_profile", "must be an existing risk profile")
    name = (name or paper_config.name).strip()
    if not name or len(name) > 120:
        raise ValidationError("name", "must be 1-120 characters")
    if StrategyConfig.objects.filter(account=live_account, name=name).exists():
        raise ValidationError("name", "must be unique within the live account")
    if GoLiveRequest.objects.filter(
        paper_config=paper_config, live_account=live_account, status=GoLiveRequest.Status.PENDING
    ).exists():
        raise ConflictError("a go-live request for this config and account is already pending")
    request = GoLiveRequest.objects.create(
        paper_config=paper_config,
        live_account=live_account,
        risk_profile=risk_profile or paper_config.risk_profile,
        name=name,
        strategy=paper_config.strategy,
        strategy_version=paper_config.strategy_version,
        params=dict(paper_config.params),
        symbols=list(paper_config.symbols),
        interval=paper_config.interval,
        requested_by=actor.username,
    )
    record_event(
        action="go_live.requested",
        actor=actor.user,
        organization_id=live_account.organization_id,
        target=request,
        changes={k: {"before": None, "after": v} for k, v in _snapshot(request).items()},
    )
    return request


def approve_go_live(*, actor: Actor, request: GoLiveRequest, otp_code: str) -> GoLiveRequest:
    """A risk officer approves with a fresh authenticator code. Refused with every unmet
    item named (nothing changes); accepted: the live config is created and enabled and
    the live account's approval recorded, all audited in one transaction."""
    if actor.system:
        raise PermissionDenied("going live is approved by a person with the risk role")
    request = require_role(actor, request, Action.RISK)
    require_role(actor, request.live_account, Action.RISK)
    if not otp_code:
        raise ValidationError("otp_code", "is required: enter a current code of your authenticator")
    actor = actor_with_code(actor, otp_code)
    with transaction.atomic():
        request = GoLiveRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != GoLiveRequest.Status.PENDING:
            raise ConflictError(f"this request is {request.status}, not pending")
        items = evaluate_checklist(request)
        unmet = [item for item in items if not item.met]
        if unmet:
            raise ChecklistNotMet(unmet)
        system = Actor.for_system()  # the officer lacks the trade role; the event names them
        config = strategy_services.create_strategy_config(
            actor=system,
            account=request.live_account,
            name=request.name,
            strategy=request.strategy,
            symbols=list(request.symbols),
            interval=request.interval,
            params=dict(request.params),
            risk_profile=request.risk_profile,
        )
        strategy_services.resume_strategy_config(actor=system, config=config)
        config.refresh_from_db()
        account_services.approve_live(actor=actor, account=request.live_account)
        request.status = GoLiveRequest.Status.APPROVED
        request.approved_at = timezone.now()
        request.approved_by = actor.username
        request.checklist = [item.as_dict() for item in items]
        request.live_config = config
        request.save(
            update_fields=[
                "status", "approved_at", "approved_by", "checklist", "live_config", "updated_at",
            ]
        )  # fmt: skip
        record_event(
            action="go_live.approved",
            actor=actor.user,
            organization_id=request.live_account.organization_id,
            target=request,
            changes={
                "status": {"before": "pending", "after": "approved"},
                "live_config": config.pk,
                "checklist": request.checklist,
            },
        )
    return request


@transaction.atomic
def withdraw_go_live(*, actor: Actor, request: GoLiveRequest) -> GoLiveRequest:
    request = require_role(actor, request, Action.TRADE)
    request = GoLiveRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != GoLiveRequest.Status.PENDING:
        raise ConflictError(f"this request is {request.status}, not pending")
    request.status = GoLiveRequest.Status.WITHDRAWN
    request.save(update_fields=["status", "updated_at"])
    record_event(
        action="go_live.withdrawn",
        actor=actor.user,
        organization_id=request.live_account.organization_id,
        target=request,
        changes={"status": {"before": "pending", "after": "withdrawn"}},
    )
    return request
