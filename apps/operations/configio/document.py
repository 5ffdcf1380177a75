"""The backup document: its sections, the natural key of each object and how a model
row becomes plain JSON. Database ids never appear: a backup restores into another
database, where objects are found by these keys instead."""

from __future__ import annotations

from decimal import Decimal

from apps.risk.models import RiskProfile

FORMAT_VERSION = 1

SECTIONS = (
    "risk_profiles",
    "organizations",
    "exchange_accounts",
    "strategy_configs",
    "notification_routes",
)

ACCOUNT_FIELDS = ("organization", "name", "environment", "valuation_currency")
CONFIG_FIELDS = (
    "organization",
    "account",
    "name",
    "strategy",
    "strategy_version",
    "symbols",
    "interval",
    "params",
    "enabled",
    "risk_profile",
)
ROUTE_FIELDS = ("organization", "name", "channel", "min_severity", "events", "target", "enabled")


def risk_profile_settings() -> list:
    """Every stored setting of a profile (the preset label included), in model order."""
    skip = {"id", "created_at", "updated_at", "name"}
    return [f for f in RiskProfile._meta.concrete_fields if f.name not in skip]


def plain(value):
    """JSON-safe without loss: Decimals as strings (exact), everything else as is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def risk_profile_doc(profile: RiskProfile) -> dict:
    doc = {"name": profile.name}
    for field in risk_profile_settings():
        doc[field.name] = plain(getattr(profile, field.name))
    return doc


def organization_doc(organization) -> dict:
    return {"slug": organization.slug, "name": organization.name}


def account_doc(account) -> dict:
    return {
        "organization": account.organization.slug,
        "name": account.name,
        "environment": account.environment,
        "valuation_currency": account.valuation_currency,
    }


def config_doc(config) -> dict:
    return {
        "organization": config.account.organization.slug,
        "account": config.account.name,
        "name": config.name,
        "strategy": config.strategy,
        "strategy_version": config.strategy_version,
        "symbols": list(config.symbols),
        "interval": config.interval,
        "params": plain(config.params),
        "enabled": config.enabled,
        "risk_profile": config.risk_profile.name if config.risk_profile_id else None,
    }


def route_doc(route) -> dict:
    # The channel's secret (token, webhook URL, signing key) never leaves the database.
    return {
        "organization": route.organization.slug if route.organization_id else None,
        "name": route.name,
        "channel": route.channel,
        "min_severity": route.min_severity,
        "events": list(route.events),
        "target": plain(route.target),
        "enabled": route.enabled,
    }


def key_of(section: str, doc: dict) -> tuple:
    return {
        "risk_profiles": lambda d: (d["name"],),
        "organizations": lambda d: (d["slug"],),
        "exchange_accounts": lambda d: (d["organization"], d["name"]),
        "strategy_configs": lambda d: (d["organization"], d["account"], d["name"]),
        "notification_routes": lambda d: (d["organization"], d["name"]),
    }[section](doc)


def label(key: tuple) -> str:
    return "/".join("(platform)" if part is None else str(part) for part in key)
