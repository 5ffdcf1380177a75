"""Reads of strategy configurations and what they use, scoped to the user."""

from __future__ import annotations


def risk_profiles_for(user):
    """Risk profiles have no organization: members see those their organizations' strategy
    configs use; platform staff see all of them."""
    from apps.accounts.roles import Action
    from apps.accounts.scoping import has_cross_organization_access
    from apps.risk.models import RiskProfile

    from .models import StrategyConfig

    if has_cross_organization_access(user, Action.VIEW):
        return RiskProfile.objects.all()
    used = StrategyConfig.objects.for_user(user, Action.VIEW).values("risk_profile_id")
    return RiskProfile.objects.filter(pk__in=used)
