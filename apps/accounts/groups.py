"""The platform staff groups, kept in step with their permissions after every migrate.

- ops: sees every organization and its trading, pauses, resumes, halts and engages kill
  switches; cannot see keys.
- compliance: sees every organization's audit trail, orders, trades and cash flows, and
  generates compliance reports.
"""

from django.contrib.auth.models import Group, Permission

STAFF_GROUPS = {
    "ops": [
        "accounts.access_all_organizations",
        "accounts.view_organization",
        "accounts.view_membership",
        "accounts.view_exchangeaccount",
        "accounts.operate_exchangeaccount",
        "accounts.halt_exchangeaccount",
        "monitoring.view_alert",
        "strategies.view_strategyconfig",
        "trading.view_order",
        "trading.view_fill",
        "trading.view_position",
        "trading.view_trade",
        "trading.view_decision",
        "trading.view_reconciliationrun",
        "trading.view_killswitch",
        "trading.add_killswitch",
        "trading.view_goliverequest",
    ],
    "compliance": [
        "accounts.access_all_organizations",
        "accounts.view_organization",
        "accounts.view_membership",
        "audit.view_auditevent",
        "audit.export_auditevent",
        "axes.view_accessattempt",
        "monitoring.view_compliancereport",
        "monitoring.add_compliancereport",
        "trading.view_order",
        "trading.view_trade",
        "trading.view_cashflow",
        "trading.view_killswitch",
        "trading.view_goliverequest",
    ],
}


def _permission(label: str) -> Permission | None:
    app_label, codename = label.split(".", 1)
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


def ensure_staff_groups(**kwargs) -> None:
    for name, labels in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [p for p in map(_permission, labels) if p is not None]
        group.permissions.add(*permissions)
