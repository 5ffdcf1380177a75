"""Organizations and memberships."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Membership, Organization
from apps.accounts.roles import Action, Role


class OrganizationSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the service's rule (it names the field); no duplicate check here.
        extra_kwargs = {"name": {"validators": []}}


class OrganizationRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "username", "role", "created_at", "updated_at"]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())
    username = serializers.CharField(max_length=150, label=_("username"))
    role = serializers.ChoiceField(choices=Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only organizations the caller sees: another tenant's id is "not found".
            self.fields["organization"].queryset = Organization.objects.for_user(
                request.user, Action.VIEW
            )


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
