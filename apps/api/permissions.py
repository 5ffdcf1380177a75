"""Token scopes and session-only endpoints; roles are enforced by the services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from .models import ApiToken, Scope


def required_scope(request, view) -> str:
    """`read` for safe methods; else the view's `action_scopes[action]` or `write_scope`."""
    if request.method in permissions.SAFE_METHODS:
        return Scope.READ
    action = getattr(view, "action", None)
    scopes = getattr(view, "action_scopes", {}) or {}
    return scopes.get(action, getattr(view, "write_scope", Scope.ADMIN))


class TokenScope(permissions.BasePermission):
    """A token acts only within its scope, and never on session-only endpoints."""

    message = _("This API token's scope does not allow this request.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if getattr(view, "session_only", False):
            self.message = _("This endpoint needs a signed-in session, not an API token.")
            return False
        return token.allows(required_scope(request, view))


class SchemaReader(permissions.IsAuthenticated):
    """The schema and its documentation: any signed-in user or token."""
