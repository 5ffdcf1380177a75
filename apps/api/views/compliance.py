"""Compliance reports (issue 10): generate one for an organization and period, list
them, and download each as XLSX or PDF. Generation and every download are audited by
the services; the risk officer and admin roles may generate and download."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Organization
from apps.accounts.roles import Action
from apps.core.errors import NotFound
from apps.monitoring.compliance.exports import EXPORTERS, filename
from apps.monitoring.compliance.services import generate_report, report_content
from apps.monitoring.models import ComplianceReport

from ..filters import Filter
from .base import ScopedViewSet


class ComplianceReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplianceReport
        fields = [
            "id", "organization", "period_start", "period_end", "requested_by", "totals",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ComplianceReportCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="Organization id.")
    period_start = serializers.DateField(help_text="First UTC day included.")
    period_end = serializers.DateField(help_text="Last UTC day included.")


class ComplianceReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Compliance reports of the caller's organizations."""

    model = ComplianceReport
    serializer_class = ComplianceReportSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {"organization": Filter("organization_id", "int", description="Organization id.")}
    write_scope = "admin"

    @extend_schema(
        request=ComplianceReportCreateSerializer, responses={201: ComplianceReportSerializer}
    )
    def create(self, request):
        """Generate a report (risk officer or admin of the organization)."""
        data = ComplianceReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = (
            Organization.objects.for_user(request.user, Action.VIEW)
            .filter(pk=data.validated_data["organization"])
            .first()
        )
        if organization is None:
            raise NotFound(f"organization {data.validated_data['organization']} does not exist")
        report = generate_report(
            actor=self.actor,
            organization=organization,
            period_start=data.validated_data["period_start"],
            period_end=data.validated_data["period_end"],
        )
        return Response(ComplianceReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, EXPORTERS["xlsx"][1]): OpenApiTypes.BINARY,
            (200, EXPORTERS["pdf"][1]): OpenApiTypes.BINARY,
        }
    )
    @action(detail=True, methods=["get"], url_path=r"download/(?P<fmt>xlsx|pdf)")
    def download(self, request, pk=None, fmt="xlsx"):
        """The report's content, recomputed from the records, as XLSX or PDF (audited)."""
        report = self.get_object()
        content = report_content(actor=self.actor, report=report, fmt=fmt)
        render, content_type = EXPORTERS[fmt]
        response = HttpResponse(render(report, content), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
        return response
