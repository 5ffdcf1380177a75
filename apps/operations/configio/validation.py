"""Checking a backup document before anything is touched. Every broken rule is
collected with its path (`strategy_configs[2].params.fast`), so one run names them all.

These are the rules the services enforce too (they check again when applying); here
they run without writing, against the file as a whole (references between sections)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import slugify

from apps.accounts.models import Environment
from apps.marketdata.intervals import Interval
from apps.marketdata.models import Symbol
from apps.monitoring.models import Channel, Severity
from apps.risk.models import RiskProfile
from apps.strategies.engine import ParameterError, ParameterErrors, registry

from . import document as doc

_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")
_CURRENCY = re.compile(r"^[A-Z0-9]{2,12}$")


class Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, rule: str) -> None:
        self.items.append((path, rule))


def validate(document) -> list[tuple[str, str]]:
    """Every (path, rule) the document breaks; empty when it may be imported."""
    problems = Problems()
    if not isinstance(document, dict):
        problems.add("$", "must be a JSON object")
        return problems.items
    version = document.get("format_version")
    if version != doc.FORMAT_VERSION:
        problems.add("format_version", f"must be {doc.FORMAT_VERSION} (this file has {version!r})")
        return problems.items
    for name in document:
        if name != "format_version" and name not in doc.SECTIONS:
            problems.add(name, "is not a section of a configuration backup")
    for section in doc.SECTIONS:
        items = document.get(section)
        if not isinstance(items, list):
            problems.add(section, "must be a list")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                problems.add(f"{section}[{index}]", "must be an object")
    if problems.items:
        return problems.items

    orgs = _organizations(document["organizations"], problems)
    profiles = _risk_profiles(document["risk_profiles"], problems)
    accounts = _accounts(document["exchange_accounts"], orgs, problems)
    _configs(document["strategy_configs"], accounts, profiles, problems)
    _routes(document["notification_routes"], orgs, problems)
    return problems.items


def _fields(path: str, item: dict, allowed: tuple, problems: Problems) -> bool:
    missing = [f for f in allowed if f not in item]
    for name in missing:
        problems.add(f"{path}.{name}", "is required")
    for name in item:
        if name not in allowed:
            problems.add(f"{path}.{name}", "is not a field of this object")
    return not missing


def _text(path: str, value, problems: Problems, max_length: int = 120) -> bool:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "must be non-empty text")
        return False
    if len(value) > max_length:
        problems.add(path, f"must be at most {max_length} characters")
        return False
    return True


def _unique(path: str, key: tuple, seen: set, problems: Problems) -> None:
    if key in seen:
        problems.add(path, f"{doc.label(key)} appears twice")
    seen.add(key)


def _organizations(items: list, problems: Problems) -> set:
    slugs: set = set()
    names: set = set()
    for index, item in enumerate(items):
        path = f"organizations[{index}]"
        if not _fields(path, item, ("slug", "name"), problems):
            continue
        slug = item["slug"]
        if not isinstance(slug, str) or not _SLUG.match(slug) or slugify(slug) != slug:
            problems.add(f"{path}.slug", "must be 1-60 lower-case letters, digits, - or _")
        else:
            _unique(f"{path}.slug", (item["slug"],), slugs, problems)
        if _text(f"{path}.name", item["name"], problems):
            _unique(f"{path}.name", (item["name"],), names, problems)
    return {key[0] for key in slugs}


def _risk_profiles(items: list, problems: Problems) -> set:
    settings = {f.name for f in doc.risk_profile_settings()}
    names: set = set()
    for index, item in enumerate(items):
        path = f"risk_profiles[{index}]"
        if not _fields(path, item, ("name", *sorted(settings)), problems):
            continue
        if not _text(f"{path}.name", item["name"], problems, max_length=100):
            continue
        _unique(f"{path}.name", (item["name"],), names, problems)
        profile = RiskProfile(**{name: item[name] for name in ("name", *settings)})
        try:
            profile.full_clean()
        except DjangoValidationError as exc:
            for field, messages in exc.message_dict.items():
                problems.add(f"{path}.{field}", "; ".join(str(m) for m in messages))
        except (TypeError, ValueError, ArithmeticError):
            problems.add(path, "has a setting of the wrong type")
    return {key[0] for key in names}


def _accounts(items: list, orgs: set, problems: Problems) -> dict:
    found: dict = {}
    for index, item in enumerate(items):
        path = f"exchange_accounts[{index}]"
        if not _fields(path, item, doc.ACCOUNT_FIELDS, problems):
            continue
        if item["organization"] not in orgs:
            problems.add(f"{path}.organization", "must be the slug of an organization in this file")
        _text(f"{path}.name", item["name"], problems)
        if item["environment"] not in Environment.values:
            problems.add(f"{path}.environment", f"must be one of {', '.join(Environment.values)}")
        currency = item["valuation_currency"]
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            problems.add(f"{path}.valuation_currency", "must be an asset symbol such as USDT")
        key = (item["organization"], item["name"])
        if key in found:
            problems.add(f"{path}.name", f"{doc.label(key)} appears twice")
        found[key] = item["environment"]
    return found


def _configs(items: list, accounts: dict, profiles: set, problems: Problems) -> None:
    seen: set = set()
    for index, item in enumerate(items):
        path = f"strategy_configs[{index}]"
        if not _fields(path, item, doc.CONFIG_FIELDS, problems):
            continue
        account = (item["organization"], item["account"])
        if account not in accounts:
            problems.add(f"{path}.account", "must name an exchange account in this file")
        if _text(f"{path}.name", item["name"], problems):
            _unique(f"{path}.name", (*account, item["name"]), seen, problems)
        _strategy_and_params(path, item, problems)
        if not isinstance(item["strategy_version"], str) or not item["strategy_version"]:
            problems.add(f"{path}.strategy_version", "must be non-empty text")
        if item["interval"] not in Interval.values:
            problems.add(f"{path}.interval", f"must be one of {', '.join(Interval.values)}")
        if not isinstance(item["enabled"], bool):
            problems.add(f"{path}.enabled", "must be true or false")
        if item["risk_profile"] is not None and item["risk_profile"] not in profiles:
            problems.add(f"{path}.risk_profile", "must be null or a risk profile in this file")
        _symbols(path, item["symbols"], accounts.get(account), problems)


def _strategy_and_params(path: str, item: dict, problems: Problems) -> None:
    try:
        cls = registry.get(item["strategy"])
    except (ParameterError, TypeError):
        problems.add(f"{path}.strategy", f"must be a registered strategy: {registry.keys()}")
        return
    if not isinstance(item["params"], dict):
        problems.add(f"{path}.params", "must be an object of parameter values")
        return
    try:
        cls.schema.validate(item["params"])
    except ParameterErrors as exc:
        for error in exc.errors:
            problems.add(f"{path}.params.{error.field}", error.rule)


def _symbols(path: str, symbols, environment: str | None, problems: Problems) -> None:
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
        problems.add(f"{path}.symbols", "must be a non-empty list of symbols")
        return
    if environment is None:
        return
    known = set(
        Symbol.objects.filter(environment=environment, name__in=symbols).values_list(
            "name", flat=True
        )
    )
    for index, name in enumerate(symbols):
        if name not in known:
            problems.add(
                f"{path}.symbols[{index}]",
                f"{name} is not a known symbol of the {environment} exchange",
            )


def _routes(items: list, orgs: set, problems: Problems) -> None:
    seen: set = set()
    for index, item in enumerate(items):
        path = f"notification_routes[{index}]"
        if not _fields(path, item, doc.ROUTE_FIELDS, problems):
            continue
        if item["organization"] is not None and item["organization"] not in orgs:
            problems.add(
                f"{path}.organization",
                "must be null (a platform route) or the slug of an organization in this file",
            )
        if _text(f"{path}.name", item["name"], problems):
            _unique(f"{path}.name", (item["organization"], item["name"]), seen, problems)
        if item["channel"] not in Channel.values:
            problems.add(f"{path}.channel", f"must be one of {', '.join(Channel.values)}")
        if item["min_severity"] not in Severity.values:
            problems.add(f"{path}.min_severity", f"must be one of {', '.join(Severity.values)}")
        events = item["events"]
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            problems.add(f"{path}.events", "must be a list of event names")
        if not isinstance(item["target"], dict):
            problems.add(f"{path}.target", "must be an object")
        if not isinstance(item["enabled"], bool):
            problems.add(f"{path}.enabled", "must be true or false")
