"""Trading actions through `apps.trading.controls` and `apps.trading.golive`: manual
position actions, kill switches and flatten, resuming a halted account, going live.

The services check roles and step-up and write the audit events; these views only
parse input and render results. Step-up codes come in the body (`otp_code`) or, for
tokens, in the `X-OTP-Code` header; a session's recent second factor also counts.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import ExchangeAccount
from apps.core.errors import ValidationError
from apps.trading import controls, golive
from apps.trading.models import GoLiveRequest, KillSwitch, Position

from ..filters import Filter
from ..serializers.accounts import ExchangeAccountDetailSerializer
from ..serializers.trading import (
    FlattenSerializer,
    GoLiveCreateSerializer,
    GoLiveRequestSerializer,
    KillSwitchEngageSerializer,
    KillSwitchSerializer,
    MoveStopSerializer,
    OrderSerializer,
    OtpCodeSerializer,
    PositionSerializer,
    RequiredOtpCodeSerializer,
)
from .base import ScopedViewSet
from .trading import ACCOUNT, CONFIG, SYMBOL, ReadOnlyScopedViewSet, valid

TRADE = "trade"
ADMIN = "admin"

CloseResult = inline_serializer(
    "PositionCloseResult",
    {
        "position": PositionSerializer(),
        "order": OrderSerializer(allow_null=True, help_text="The market sell; null: only dust."),
    },
)
KillResult = inline_serializer(
    "KillSwitchResult",
    {
        "switch": KillSwitchSerializer(),
        "canceled": serializers.ListField(
            child=serializers.CharField(), help_text="Client ids of the entry orders canceled."
        ),
        "exits": serializers.ListField(
            child=serializers.CharField(), help_text="Client ids of the market sells placed."
        ),
        "failures": serializers.DictField(
            child=serializers.CharField(), help_text="Account id: what could not be done."
        ),
        "enforcement": serializers.ChoiceField(choices=["done", "queued"]),
    },
)


class PositionViewSet(ReadOnlyScopedViewSet):
    """Positions with their stop and ladder state; manual actions need the trader role."""

    model = Position
    serializer_class = PositionSerializer
    ordering_fields = ["id", "opened_at", "closed_at"]
    filters = {
        "account": ACCOUNT,
        "strategy_config": CONFIG,
        "symbol": SYMBOL,
        "status": Filter("status", "choice", tuple(Position.Status.values), "Open or closed."),
        **{
            "since": Filter("opened_at__gte", "datetime", description="Opened at or after."),
            "until": Filter("opened_at__lt", "datetime", description="Opened before."),
        },
    }
    action_scopes = {"close": TRADE, "move_stop": TRADE, "cancel_ladder": TRADE}

    def _position(self, position):
        return PositionSerializer(Position.objects.get(pk=position.pk)).data

    @extend_schema(request=None, responses=CloseResult)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Sell the position now at market (its protective orders are canceled first)."""
        position = self.get_object()
        order = controls.close_position(actor=self.actor, position=position)
        return Response(
            {
                "position": self._position(position),
                "order": OrderSerializer(order).data if order is not None else None,
            }
        )

    @extend_schema(request=MoveStopSerializer, responses=PositionSerializer)
    @action(detail=True, methods=["post"], url_path="move-stop")
    def move_stop(self, request, pk=None):
        """Set the stop (above 0, below the current price); the protective orders follow."""
        position = self.get_object()
        stop = valid(MoveStopSerializer, request, self)["stop_price"]
        controls.move_stop(actor=self.actor, position=position, stop_price=stop)
        return Response(self._position(position))

    @extend_schema(request=None, responses=PositionSerializer)
    @action(detail=True, methods=["post"], url_path="cancel-ladder")
    def cancel_ladder(self, request, pk=None):
        """Drop the take-profit orders; the position keeps only its stop."""
        position = self.get_object()
        controls.cancel_ladder(actor=self.actor, position=position)
        return Response(self._position(position))


def _kill_result(report, enforcement: str) -> dict:
    return {
        "switch": KillSwitchSerializer(KillSwitch.objects.get(pk=report.switch.pk)).data,
        "canceled": report.canceled,
        "exits": report.exits,
        "failures": {str(k): v for k, v in report.failures.items()},
        "enforcement": enforcement,
    }


def engage(actor, *, scope, account=None, organization=None, reason="", flatten=False) -> dict:
    """Press the switch. An account's switch is enforced in the request (the answer says
    what was canceled); an organization's is enforced by a task after commit, so a large
    organization does not hold the request open."""
    if scope == KillSwitch.Scope.ACCOUNT:
        report = controls.engage_kill_switch(
            actor=actor, scope=scope, account=account, reason=reason, flatten=flatten
        )
        return _kill_result(report, "done")
    report = controls.engage_kill_switch(
        actor=actor,
        scope=scope,
        organization=organization,
        reason=reason,
        flatten=flatten,
        enforce=False,
    )
    from apps.trading.controls_tasks import enforce_kill_switch_task

    switch_id = report.switch.pk
    transaction.on_commit(lambda: enforce_kill_switch_task.delay(switch_id))
    return _kill_result(report, "queued")


class KillSwitchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Kill switches of the caller's organizations and accounts. Pressing needs no
    step-up (any member who sees the target); releasing needs the risk role and a
    fresh second factor. The global switch is for platform staff, in the admin."""

    model = KillSwitch
    serializer_class = KillSwitchSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "engaged_at"]
    filters = {
        "account": ACCOUNT,
        "organization": Filter("organization_id", "int", description="Organization id."),
        "scope": Filter("scope", "choice", tuple(KillSwitch.Scope.values), "Scope."),
        "engaged": Filter("released_at__isnull", "bool", description="true: not released."),
    }
    action_scopes = {"create": TRADE, "release": TRADE, "flatten": TRADE}

    @extend_schema(request=KillSwitchEngageSerializer, responses={201: KillResult})
    def create(self, request):
        """Press a kill switch for an account or an organization; pressing an engaged
        one again changes nothing but may add `flatten`."""
        data = valid(KillSwitchEngageSerializer, request, self)
        result = engage(self.actor, **data)
        return Response(result, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=KillResult)
    @action(detail=True, methods=["post"])
    def flatten(self, request, pk=None):
        """Add `flatten` to an engaged switch: sell every open position at market."""
        switch = self.get_object()
        if not switch.engaged:
            raise ValidationError("flatten", "needs an engaged kill switch")
        result = engage(
            self.actor,
            scope=switch.scope,
            account=switch.account,
            organization=switch.organization,
            flatten=True,
        )
        return Response(result)

    @extend_schema(request=OtpCodeSerializer, responses=KillSwitchSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Let entries open again (risk role, step-up); nothing canceled comes back."""
        code = valid(OtpCodeSerializer, request, self)["otp_code"]
        switch = controls.release_kill_switch(
            actor=self.actor, switch=self.get_object(), otp_code=code or None
        )
        return Response(KillSwitchSerializer(switch).data)


class ExchangeAccountControlViewSet(ScopedViewSet):
    """Controls of an account beside `exchange-accounts/{id}/`'s status actions."""

    model = ExchangeAccount
    serializer_class = ExchangeAccountDetailSerializer
    pagination_class = None
    action_scopes = {"flatten": TRADE, "resume_halted": TRADE}

    @extend_schema(request=FlattenSerializer, responses={201: KillResult})
    @action(detail=True, methods=["post"])
    def flatten(self, request, pk=None):
        """Press the account's kill switch with flatten: entries canceled, every open
        position sold at market, the unmanaged reserve untouched (`confirm: true`)."""
        account = self.get_object()
        data = valid(FlattenSerializer, request, self)
        if data["confirm"] is not True:
            raise ValidationError("confirm", "must be true to sell every open position")
        result = engage(
            self.actor, scope="account", account=account, reason=data["reason"], flatten=True
        )
        return Response(result, status=status.HTTP_201_CREATED)

    @extend_schema(request=RequiredOtpCodeSerializer, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"], url_path="resume-halted")
    def resume_halted(self, request, pk=None):
        """Resume a halted account: the risk role and a current authenticator code."""
        code = valid(RequiredOtpCodeSerializer, request, self)["otp_code"]
        account = controls.resume_halted_account(
            actor=self.actor, account=self.get_object(), otp_code=code
        )
        account = ExchangeAccount.objects.prefetch_related("key_pairs").get(pk=account.pk)
        return Response(ExchangeAccountDetailSerializer(account).data)


class GoLiveRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Proposals to run a paper configuration on a live account. A trader requests; a
    risk officer approves with a current code once every checklist item is met."""

    model = GoLiveRequest
    serializer_class = GoLiveRequestSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {
        "live_account": Filter("live_account_id", "int", description="Live account id."),
        "paper_config": Filter("paper_config_id", "int", description="Paper configuration id."),
        "status": Filter("status", "choice", tuple(GoLiveRequest.Status.values), "Request status."),
    }
    # Approval lets real money trade: like approving a live account, `admin` scope.
    action_scopes = {"create": TRADE, "withdraw": TRADE, "approve": ADMIN}

    @extend_schema(request=GoLiveCreateSerializer, responses={201: GoLiveRequestSerializer})
    def create(self, request):
        """Propose the paper configuration, as it is now, for the live account."""
        data = valid(GoLiveCreateSerializer, request, self)
        go_live = golive.request_go_live(
            actor=self.actor,
            paper_config=data["paper_config"],
            live_account=data["live_account"],
            name=data["name"] or None,
            risk_profile=data["risk_profile"],
        )
        return Response(GoLiveRequestSerializer(go_live).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "GoLiveChecklist",
            {
                "items": serializers.ListField(child=serializers.DictField()),
                "met": serializers.BooleanField(),
            },
        ),
    )
    @action(detail=True, methods=["get"])
    def checklist(self, request, pk=None):
        """Every checklist item with its value, target and whether it is met, now."""
        items = golive.evaluate_checklist(self.get_object())
        return Response(
            {"items": [item.as_dict() for item in items], "met": all(i.met for i in items)}
        )

    @extend_schema(request=RequiredOtpCodeSerializer, responses=GoLiveRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (risk role, a current code): the live configuration is created and
        enabled. Refused with 409 naming every unmet checklist item."""
        code = valid(RequiredOtpCodeSerializer, request, self)["otp_code"]
        go_live = golive.approve_go_live(actor=self.actor, request=self.get_object(), otp_code=code)
        return Response(GoLiveRequestSerializer(go_live).data)

    @extend_schema(request=None, responses=GoLiveRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw a pending request (trader role)."""
        go_live = golive.withdraw_go_live(actor=self.actor, request=self.get_object())
        return Response(GoLiveRequestSerializer(go_live).data)
