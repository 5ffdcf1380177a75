"""The signed-in user's personal API tokens (session only: a token never mints another)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.otp import session_device

from .. import tokens
from ..models import ApiToken
from ..serializers.tokens import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
)
from .base import ScopedViewSet


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = ApiTokenSerializer
    session_only = True
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return ApiToken.objects.owned_by(self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        """Create a token from a session verified with a second factor and a code from the
        last few minutes (step-up). The token is in this response only."""
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verified = session_device(request.user, request._request.session) is not None
        token, raw = tokens.create_token(
            actor=self.actor, session_verified=verified, **serializer.validated_data
        )
        data = ApiTokenCreatedSerializer(token).data
        data["token"] = raw
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke a token at once; revoking twice changes nothing."""
        token = tokens.revoke_token(actor=self.actor, token_id=self.get_object().pk)
        return Response(ApiTokenSerializer(token).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """The same as revoke (the token stays listed, revoked)."""
        tokens.revoke_token(actor=self.actor, token_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
