"""Risk profiles, the strategy catalogue, audit events and alerts."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from apps.monitoring.models import Severity
from apps.risk.models import Preset
from apps.strategies.engine import registry

from .. import selectors
from .. import services as api_services
from ..filters import Filter
from ..serializers.misc import (
    AlertSerializer,
    AuditEventSerializer,
    RiskProfileCreateSerializer,
    RiskProfileSerializer,
    StrategySerializer,
)
from .base import ApiViewMixin, ScopedViewSet


class RiskProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Risk profiles in use by the caller's organizations (platform staff: all)."""

    serializer_class = RiskProfileSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {"preset": Filter("preset", "choice", tuple(Preset.values), "Preset.")}

    def get_queryset(self):
        return selectors.risk_profiles_for(self.request.user)

    @extend_schema(request=RiskProfileCreateSerializer, responses={201: RiskProfileSerializer})
    def create(self, request):
        """Create a profile from a preset with overrides (platform staff with risk rights)."""
        serializer = RiskProfileCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = api_services.create_risk_profile(actor=self.actor, **serializer.validated_data)
        return Response(RiskProfileSerializer(profile).data, status=status.HTTP_201_CREATED)


class StrategyViewSet(ApiViewMixin, viewsets.ViewSet):
    """Registered strategies with the JSON Schema of their parameters."""

    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"

    @extend_schema(responses=StrategySerializer(many=True))
    def list(self, request):
        """Every registered strategy (not paginated: the catalogue is short)."""
        return Response(StrategySerializer(registry.describe(), many=True).data)

    @extend_schema(
        responses=StrategySerializer,
        parameters=[
            OpenApiParameter("key", str, OpenApiParameter.PATH, description="Strategy key.")
        ],
    )
    def retrieve(self, request, key=None):
        for strategy in registry.describe():
            if strategy["key"] == key:
                return Response(StrategySerializer(strategy).data)
        raise NotFound(_("No strategy has this key."))


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The audit trail: admins and risk officers of an organization read its events;
    compliance staff (cross-organization access and audit view permission) read all."""

    serializer_class = AuditEventSerializer
    ordering_fields = ["id", "occurred_at"]
    filters = {
        "organization": Filter("organization_id", "int", description="Organization id."),
        "action": Filter("action", description="Action, e.g. exchange_account.killed."),
        "actor": Filter("actor_username", description="Username of the actor."),
        "object_type": Filter("object_type", description="e.g. accounts.exchangeaccount."),
        "object_id": Filter("object_id", description="Id of the object."),
        "since": Filter("occurred_at__gte", "datetime", description="At or after."),
        "until": Filter("occurred_at__lt", "datetime", description="Before."),
    }

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.may_read_audit(request.user):
            raise PermissionDenied(
                _("Only admins and risk officers of an organization read its audit trail.")
            )

    def get_queryset(self):
        return selectors.audit_events_for(self.request.user)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Alerts raised by the platform."""

    serializer_class = AlertSerializer
    ordering_fields = ["id", "created_at"]
    filters = {
        "severity": Filter("severity", "choice", tuple(Severity.values), "Severity."),
        "event": Filter("event", description="Event name."),
        "unacknowledged": Filter(
            "acknowledged_at__isnull", "bool", description="true: only alerts nobody acknowledged."
        ),
    }

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.may_read_alerts(request.user):
            raise PermissionDenied(_("Your permissions do not include platform alerts."))

    def get_queryset(self):
        return selectors.alerts_for(self.request.user)
