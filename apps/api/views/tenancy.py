"""Organizations and memberships: reads scoped, writes through `apps.accounts.services`."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.models import Membership, Organization
from apps.accounts.roles import Role
from apps.core.errors import ValidationError

from ..filters import Filter
from ..serializers.tenancy import (
    MembershipCreateSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    OrganizationRenameSerializer,
    OrganizationSerializer,
)
from .base import ScopedViewSet


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Organizations the caller belongs to (platform staff: all)."""

    model = Organization
    serializer_class = OrganizationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["id", "name", "created_at"]
    filters = {"slug": Filter("slug", description="Exact slug.")}

    @extend_schema(request=OrganizationSerializer, responses={201: OrganizationSerializer})
    def create(self, request):
        """Create an organization (platform staff only)."""
        data = self._valid(OrganizationSerializer, request.data)
        organization = services.create_organization(
            actor=self.actor, name=data["name"], slug=data.get("slug", "")
        )
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganizationRenameSerializer, responses=OrganizationSerializer)
    def partial_update(self, request, pk=None):
        """Rename an organization (its admins)."""
        data = self._valid(OrganizationRenameSerializer, request.data)
        organization = services.rename_organization(
            actor=self.actor, organization=self.get_object(), name=data["name"]
        )
        return Response(OrganizationSerializer(organization).data)

    def _valid(self, serializer_class, data):
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Members of the caller's organizations. Changes need the admin role and step-up."""

    model = Membership
    serializer_class = MembershipSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {
        "organization": Filter("organization_id", "int", description="Organization id."),
        "role": Filter("role", "choice", tuple(Role.values), "Role."),
        "user": Filter("user_id", "int", description="User id."),
    }

    def get_queryset(self):
        return super().get_queryset().select_related("user")

    @extend_schema(request=MembershipCreateSerializer, responses={201: MembershipSerializer})
    def create(self, request):
        """Add an existing user to an organization."""
        serializer = MembershipCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Unknown usernames reach the service as None: it checks the caller's role
        # first, so only admins learn whether a username exists.
        user = get_user_model().objects.filter(username=data["username"]).first()
        try:
            membership = services.add_member(
                actor=self.actor, organization=data["organization"], user=user, role=data["role"]
            )
        except ValidationError as exc:
            if exc.field != "user":
                raise
            raise ValidationError("username", exc.rule) from None
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request, pk=None):
        """Change a member's role."""
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.change_member_role(
            actor=self.actor, membership=self.get_object(), role=serializer.validated_data["role"]
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Remove a member (an organization keeps at least one admin)."""
        services.remove_member(actor=self.actor, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
