"""Exchange accounts, their status actions and key pairs (`apps.accounts.services`).

Keys are write-only; responses carry masks and the exchange's verification result
(`permissions`, `permissions_verified_at`). The kill switch needs no step-up.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.models import AccountStatus, ApiKeyPair, Environment, ExchangeAccount, KeyState

from ..filters import Filter
from ..serializers.accounts import (
    ExchangeAccountDetailSerializer,
    ExchangeAccountUpdateSerializer,
    HaltSerializer,
    KeyPairCreateSerializer,
    KeyPairSerializer,
    KillSerializer,
)
from .base import ScopedViewSet

TRADE = "trade"


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ExchangeAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = ExchangeAccount
    serializer_class = ExchangeAccountDetailSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {
        "organization": Filter("organization_id", "int", description="Organization id."),
        "status": Filter("status", "choice", tuple(AccountStatus.values), "Account status."),
        "environment": Filter(
            "environment", "choice", tuple(Environment.values), "Exchange environment."
        ),
    }
    # Operating an account is trading; creating, keys, disabling and approving is admin.
    action_scopes = {"pause": TRADE, "resume": TRADE, "halt": TRADE, "unhalt": TRADE, "kill": TRADE}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("key_pairs")

    @extend_schema(
        request=ExchangeAccountDetailSerializer, responses={201: ExchangeAccountDetailSerializer}
    )
    def create(self, request):
        """Add an account with its first key pair (admin role, step-up)."""
        context = {**self.get_serializer_context(), "actor": self.actor}
        serializer = self.get_serializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        account = serializer.save()
        return Response(self._out(account), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ExchangeAccountUpdateSerializer, responses=ExchangeAccountDetailSerializer
    )
    def partial_update(self, request, pk=None):
        """Rename or change the valuation currency (the environment is fixed)."""
        account = services.update_exchange_account(
            actor=self.actor,
            account=self.get_object(),
            **_valid(ExchangeAccountUpdateSerializer, request),
        )
        return Response(self._out(account))

    def _out(self, account):
        account = ExchangeAccount.objects.prefetch_related("key_pairs").get(pk=account.pk)
        return ExchangeAccountDetailSerializer(account, context=self.get_serializer_context()).data

    def _status_action(self, service, **kwargs):
        account = service(actor=self.actor, account=self.get_object(), **kwargs)
        return Response(self._out(account))

    @extend_schema(request=None, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Active → paused (trader)."""
        return self._status_action(services.pause_account)

    @extend_schema(request=None, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Paused → active (trader); halted → active needs the risk role and step-up."""
        return self._status_action(services.resume_account)

    @extend_schema(request=HaltSerializer, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def halt(self, request, pk=None):
        """Stop trading (risk role)."""
        return self._status_action(services.halt_account, **_valid(HaltSerializer, request))

    @extend_schema(request=None, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def unhalt(self, request, pk=None):
        """Halted → paused (risk role, step-up)."""
        return self._status_action(services.unhalt_account)

    @extend_schema(request=KillSerializer, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def kill(self, request, pk=None):
        """The kill switch: any member who sees the account, no step-up, `confirm: true`."""
        return self._status_action(services.kill_account, **_valid(KillSerializer, request))

    @extend_schema(request=None, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """Retire the account for good (admin role, step-up)."""
        return self._status_action(services.disable_account)

    @extend_schema(request=None, responses=ExchangeAccountDetailSerializer)
    @action(detail=True, methods=["post"], url_path="approve-live")
    def approve_live(self, request, pk=None):
        """Let a live account trade real money (risk role, step-up)."""
        return self._status_action(services.approve_live)

    @extend_schema(request=KeyPairCreateSerializer, responses={201: KeyPairSerializer})
    @action(detail=True, methods=["post"], url_path="keys")
    def add_key(self, request, pk=None):
        """Add a key pair: pending beside the active one, or active if there is none
        (admin role, step-up). The exchange verifies it before it is stored."""
        key_pair = services.add_key_pair(
            actor=self.actor, account=self.get_object(), **_valid(KeyPairCreateSerializer, request)
        )
        return Response(KeyPairSerializer(key_pair).data, status=status.HTTP_201_CREATED)


class KeyPairViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Key pairs as masks. Rotation: add a pending pair, then promote it."""

    model = ApiKeyPair
    serializer_class = KeyPairSerializer
    ordering_fields = ["id", "created_at"]
    filters = {
        "account": Filter("account_id", "int", description="Exchange account id."),
        "state": Filter("state", "choice", tuple(KeyState.values), "Key state."),
    }

    @extend_schema(request=None, responses=KeyPairSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        """Make a pending pair active and erase the old one (admin role, step-up)."""
        key_pair = services.promote_key_pair(actor=self.actor, key_pair=self.get_object())
        return Response(KeyPairSerializer(key_pair).data)

    @extend_schema(request=None, responses=KeyPairSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Erase a pending pair (admin role, step-up)."""
        key_pair = services.discard_key_pair(actor=self.actor, key_pair=self.get_object())
        return Response(KeyPairSerializer(key_pair).data)
