"""Risk profiles, the strategy catalogue, audit events and alerts."""

from rest_framework import serializers

from apps.audit.chain import HASHED_FIELDS
from apps.audit.models import AuditEvent
from apps.monitoring.models import Alert
from apps.risk.models import Preset, RiskProfile


class RiskProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskProfile
        fields = "__all__"
        read_only_fields = ["id", "preset", "created_at", "updated_at"]


class RiskProfileCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    preset = serializers.ChoiceField(
        choices=[c for c in Preset.choices if c[0] != Preset.CUSTOM], default=Preset.BALANCED
    )
    overrides = serializers.DictField(
        required=False,
        default=dict,
        help_text="Settings to change from the preset, by field name; decimals as strings.",
    )


class StrategySerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.JSONField(help_text="JSON Schema of the strategy's parameters.")


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", *HASHED_FIELDS, "hash"]
        read_only_fields = fields


def _alert_fields() -> list[str]:
    # Alerts name their organization once monitoring scopes them (null: a platform alert).
    scoped = any(f.name == "organization" for f in Alert._meta.get_fields())
    return ["id", "organization"] if scoped else ["id"]


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            *_alert_fields(),
            "severity",
            "event",
            "message",
            "context",
            "correlation_id",
            "acknowledged_at",
            "created_at",
        ]
        read_only_fields = fields
