"""REST representations of exchange accounts and keys: masks out, secrets in only.

The API issue routes these; the write-only rule lives here so that every view that
uses them inherits it. Writes go through the services (`create` below).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts import services
from apps.accounts.actors import Actor
from apps.accounts.models import ApiKeyPair, Environment, ExchangeAccount, KeyType


class ApiKeyPairSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKeyPair
        fields = [
            "id",
            "key_type",
            "api_key_mask",
            "secret_mask",
            "state",
            "created_at",
            "activated_at",
            "retired_at",
        ]
        read_only_fields = fields


class ExchangeAccountSerializer(serializers.ModelSerializer):
    key_pairs = ApiKeyPairSerializer(many=True, read_only=True)
    environment = serializers.ChoiceField(choices=Environment.choices)
    # Write-only: accepted on creation, never rendered.
    key_type = serializers.ChoiceField(
        choices=KeyType.choices, write_only=True, default=KeyType.HMAC, label=_("key type")
    )
    api_key = serializers.CharField(write_only=True, label=_("API key"))
    secret = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}, label=_("secret")
    )

    class Meta:
        model = ExchangeAccount
        fields = [
            "id",
            "organization",
            "name",
            "environment",
            "valuation_currency",
            "status",
            "permissions",
            "permissions_verified_at",
            "keys_rotated_at",
            "created_at",
            "key_pairs",
            "key_type",
            "api_key",
            "secret",
        ]
        read_only_fields = [
            "status",
            "permissions",
            "permissions_verified_at",
            "keys_rotated_at",
            "created_at",
        ]

    def create(self, validated_data):
        actor = self.context.get("actor") or Actor.from_request(self.context["request"])
        return services.create_exchange_account(actor=actor, **validated_data)
