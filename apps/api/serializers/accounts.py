"""Exchange accounts and key pairs: masks and the verification result out, secrets in only.

Builds on `apps.accounts.api.serializers`, which holds the write-only rule."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.accounts.api.serializers import ApiKeyPairSerializer, ExchangeAccountSerializer
from apps.accounts.models import ApiKeyPair, KeyType, Organization
from apps.accounts.roles import Action


@extend_schema_serializer(component_name="ExchangeAccount")
class ExchangeAccountDetailSerializer(ExchangeAccountSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())

    class Meta(ExchangeAccountSerializer.Meta):
        fields = [
            *ExchangeAccountSerializer.Meta.fields,
            "live_approved_at",
            "live_approved_by",
            "updated_at",
        ]
        read_only_fields = [
            *ExchangeAccountSerializer.Meta.read_only_fields,
            "live_approved_at",
            "live_approved_by",
            "updated_at",
        ]
        extra_kwargs = {"name": {"validators": []}}
        validators = []  # the service names the field of a duplicate name

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                request.user, Action.VIEW
            )


class ExchangeAccountUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    valuation_currency = serializers.CharField(max_length=12, required=False)


class HaltSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class KillSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text=_("Must be true: the kill switch halts the account at once.")
    )


class KeyPairCreateSerializer(serializers.Serializer):
    key_type = serializers.ChoiceField(choices=KeyType.choices, default=KeyType.HMAC)
    api_key = serializers.CharField(write_only=True, max_length=128)
    secret = serializers.CharField(
        write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class KeyPairSerializer(ApiKeyPairSerializer):
    class Meta(ApiKeyPairSerializer.Meta):
        model = ApiKeyPair
        fields = ["id", "account", *ApiKeyPairSerializer.Meta.fields[1:]]
        read_only_fields = fields
