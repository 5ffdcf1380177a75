"""What every API view shares: the address limit before authentication, the actor."""

from django.db import models
from rest_framework import viewsets

from apps.accounts.roles import Action

from ..actors import actor_for
from ..throttling import PerAddressThrottle


class ApiViewMixin:
    # Writes need this token scope unless `action_scopes` names the action.
    write_scope = "admin"
    action_scopes: dict[str, str] = {}
    session_only = False

    def perform_authentication(self, request):
        # Count the client address before authenticating, so failed logins count too.
        throttle = PerAddressThrottle()
        if not throttle.allow_request(request, self):
            self.throttled(request, throttle.wait())
        super().perform_authentication(request)

    @property
    def actor(self):
        if not hasattr(self, "_actor"):
            self._actor = actor_for(self.request)
        return self._actor


class ScopedViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Rows the user may see (`Model.objects.for_user(user, view)`); services decide
    everything else."""

    model: type[models.Model]

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, Action.VIEW)
