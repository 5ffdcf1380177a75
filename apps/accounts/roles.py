"""Roles and what each may do; the single source for every permission decision."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    TRADER = "trader", _("Trader")
    RISK_OFFICER = "risk_officer", _("Risk officer")
    ADMIN = "admin", _("Admin")


class Action(models.TextChoices):
    VIEW = "view", _("View")
    KILL = "kill", _("Press the kill switch")
    TRADE = "trade", _("Configure strategies, pause and resume")
    RISK = "risk", _("Risk profiles, halts and going live")
    MANAGE = "manage", _("Members and keys")


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({Action.VIEW, Action.KILL}),
    Role.TRADER: frozenset({Action.VIEW, Action.KILL, Action.TRADE}),
    Role.RISK_OFFICER: frozenset({Action.VIEW, Action.KILL, Action.RISK}),
    Role.ADMIN: frozenset({Action.VIEW, Action.KILL, Action.TRADE, Action.RISK, Action.MANAGE}),
}

# Roles that can move money must log in with a second factor.
OTP_REQUIRED_ROLES = frozenset({Role.TRADER, Role.RISK_OFFICER, Role.ADMIN})


def roles_allowing(action: str) -> list[str]:
    if action not in Action.values:
        raise ValueError(f"unknown action {action!r}")
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def role_allows(role: str, action: str) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())
