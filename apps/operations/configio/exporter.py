"""Export: the configuration of every organization (or one) as a backup document."""

from __future__ import annotations

from collections import Counter

from apps.accounts.models import ExchangeAccount, Organization
from apps.core.errors import ConflictError
from apps.monitoring.models import NotificationRoute
from apps.risk.models import RiskProfile
from apps.strategies.models import StrategyConfig

from . import document as doc


def export_configuration(organization: Organization | None = None) -> dict:
    """The backup document. With `organization`, only its objects and the risk profiles
    its strategy configs use; without, everything including platform routes.

    Deterministic (sorted, no timestamps), so two exports of one state are equal."""
    organizations = Organization.objects.all()
    if organization is not None:
        organizations = organizations.filter(pk=organization.pk)
    accounts = ExchangeAccount.objects.filter(organization__in=organizations).select_related(
        "organization"
    )
    configs = StrategyConfig.objects.filter(account__in=accounts).select_related(
        "account__organization", "risk_profile"
    )
    routes = NotificationRoute.objects.filter(organization__in=organizations)
    if organization is None:
        routes = routes | NotificationRoute.objects.filter(organization__isnull=True)
    profiles = RiskProfile.objects.all()
    if organization is not None:
        profiles = profiles.filter(strategy_configs__in=configs).distinct()

    sections = {
        "risk_profiles": [doc.risk_profile_doc(p) for p in profiles],
        "organizations": [doc.organization_doc(o) for o in organizations],
        "exchange_accounts": [doc.account_doc(a) for a in accounts],
        "strategy_configs": [doc.config_doc(c) for c in configs],
        "notification_routes": [
            doc.route_doc(r) for r in routes.select_related("organization").distinct()
        ],
    }
    result = {"format_version": doc.FORMAT_VERSION}
    for section, items in sections.items():
        items.sort(key=lambda item, s=section: tuple(str(p) for p in doc.key_of(s, item)))
        _refuse_duplicates(section, items)
        result[section] = items
    return result


def _refuse_duplicates(section: str, items: list[dict]) -> None:
    # Objects are matched by these keys on import: two with one key cannot be restored.
    counts = Counter(doc.key_of(section, item) for item in items)
    clashes = sorted(doc.label(key) for key, n in counts.items() if n > 1)
    if clashes:
        raise ConflictError(
            f"{section}: several objects share the name {', '.join(clashes)}; rename them "
            "so a backup can tell them apart"
        )
