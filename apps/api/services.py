"""Writes the API needs that no other app's service covers, built on those services."""

from apps.accounts.actors import Actor
from apps.accounts.roles import Action
from apps.accounts.scoping import has_cross_organization_access
from apps.core.errors import PermissionDenied
from apps.risk import services as risk_services
from apps.risk.models import RiskProfile


def create_risk_profile(
    *, actor: Actor, name: str, preset: str, overrides: dict | None = None
) -> RiskProfile:
    """Risk profiles are shared by every organization that uses one, so only platform
    staff with the risk permission create them (members choose among them)."""
    if not (actor.system or has_cross_organization_access(actor.user, Action.RISK)):
        raise PermissionDenied(
            "risk profiles are shared across organizations: only platform staff with the "
            "risk permission may create them"
        )
    return risk_services.create_risk_profile(
        name=name, preset=preset, overrides=overrides, actor=actor.user
    )
