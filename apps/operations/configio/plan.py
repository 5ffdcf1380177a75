"""What an import would do: each object of the file matched to the database by its key
and compared field by field (created / changed / unchanged), plus the objects of the
file's organizations that the file does not mention (reported, left as they are).

Also the rules only the database can answer (an account's environment is fixed, a
config's strategy cannot change, a new route needs a secret no backup holds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.accounts.models import ExchangeAccount, Organization
from apps.monitoring.models import NotificationRoute
from apps.monitoring.notifications.services import SECRET_REQUIRED
from apps.risk.models import RiskProfile
from apps.strategies.engine import registry
from apps.strategies.models import StrategyConfig

from . import document as doc


@dataclass
class Step:
    section: str
    index: int | None  # position in the file; None for objects only the database has
    key: tuple
    status: str  # created, changed, unchanged, not_in_file
    item: dict | None = None  # the file's object, normalised
    obj: object = None  # the database's object, if any
    fields: dict = field(default_factory=dict)  # name -> {"before", "after"}

    @property
    def path(self) -> str:
        return f"{self.section}[{self.index}]"

    def as_dict(self) -> dict:
        return {
            "section": self.section,
            "object": doc.label(self.key),
            "status": self.status,
            "fields": doc.plain(self.fields),
        }


def _compare(before: dict, after: dict) -> dict:
    changes = {}
    for name in after:
        if name == "params" and isinstance(before.get(name), dict):
            for param in sorted(set(before[name]) | set(after[name])):
                old, new = before[name].get(param), after[name].get(param)
                if old != new:
                    changes[f"params.{param}"] = {"before": old, "after": new}
        elif before.get(name) != after[name]:
            changes[name] = {"before": before.get(name), "after": after[name]}
    return changes


def _step(section, index, item, obj, before: dict | None) -> Step:
    key = doc.key_of(section, item)
    if obj is None:
        return Step(section, index, key, "created", item, None, _compare({}, item))
    changes = _compare(before, item)
    return Step(section, index, key, "changed" if changes else "unchanged", item, obj, changes)


def _one(queryset, path: str, problems: list):
    found = list(queryset[:2])
    if len(found) > 1:
        problems.append((path, "several objects in the database have this name; rename one"))
        return None
    return found[0] if found else None


def build_plan(document: dict) -> tuple[list[Step], list[tuple[str, str]]]:
    """Steps in the order they apply, and the problems found against the database."""
    steps: list[Step] = []
    problems: list[tuple[str, str]] = []

    for i, item in enumerate(document["risk_profiles"]):
        profile = _one(
            RiskProfile.objects.filter(name=item["name"]), f"risk_profiles[{i}].name", problems
        )
        # Compared as values (0.01 == 0.010000), shown as the file wrote them.
        settings = doc.risk_profile_settings()
        normalised = {"name": item["name"], **{f.name: f.to_python(item[f.name]) for f in settings}}
        before = None
        if profile is not None:
            before = {"name": profile.name, **{f.name: getattr(profile, f.name) for f in settings}}
        steps.append(_step("risk_profiles", i, normalised, profile, before))

    for i, item in enumerate(document["organizations"]):
        org = Organization.objects.filter(slug=item["slug"]).first()
        before = doc.organization_doc(org) if org else None
        steps.append(_step("organizations", i, dict(item), org, before))

    for i, item in enumerate(document["exchange_accounts"]):
        account = ExchangeAccount.objects.filter(
            organization__slug=item["organization"], name=item["name"]
        ).first()
        before = doc.account_doc(account) if account else None
        step = _step("exchange_accounts", i, dict(item), account, before)
        if "environment" in step.fields and account is not None:
            problems.append(
                (f"{step.path}.environment", "is fixed at creation: the database has "
                 f"{account.environment}; restore into a new account name instead")
            )  # fmt: skip
        steps.append(step)

    for i, item in enumerate(document["strategy_configs"]):
        steps.append(_config_step(i, item, problems))

    for i, item in enumerate(document["notification_routes"]):
        routes = NotificationRoute.objects.filter(name=item["name"])
        if item["organization"] is None:
            routes = routes.filter(organization__isnull=True)
        else:
            routes = routes.filter(organization__slug=item["organization"])
        route = _one(routes, f"notification_routes[{i}].name", problems)
        before = doc.route_doc(route) if route else None
        step = _step("notification_routes", i, dict(item), route, before)
        if route is None and item["channel"] in SECRET_REQUIRED:
            problems.append(
                (f"{step.path}.channel", f"a new {item['channel']} route needs a secret, which "
                 "backups never hold: add the route in the admin first, then import again")
            )  # fmt: skip
        steps.append(step)

    steps.extend(_not_in_file(document))
    return steps, problems


def _config_step(i: int, item: dict, problems: list) -> Step:
    cls = registry.get(item["strategy"])
    normalised = {**item, "params": doc.plain(cls.schema.validate(item["params"]))}
    config = (
        StrategyConfig.objects.filter(
            account__organization__slug=item["organization"],
            account__name=item["account"],
            name=item["name"],
        )
        .select_related("account__organization", "risk_profile")
        .first()
    )
    before = doc.config_doc(config) if config else None
    step = _step("strategy_configs", i, normalised, config, before)
    if config is not None and "strategy" in step.fields:
        problems.append(
            (f"{step.path}.strategy", f"the database's config runs {config.strategy}, which "
             "cannot change: give this config another name")
        )  # fmt: skip
    saves_params = config is None or any(
        name.startswith("params.") or name == "strategy_version" for name in step.fields
    )
    if saves_params and item["strategy_version"] != cls.version:
        problems.append(
            (f"{step.path}.strategy_version", f"the file has {item['strategy_version']}, the "
             f"installed strategy is {cls.version}: parameters are saved for the installed "
             "version only; update the file's version after checking its parameters")
        )  # fmt: skip
    return step


def _not_in_file(document: dict) -> list[Step]:
    slugs = [o["slug"] for o in document["organizations"]]
    listed = {
        section: {doc.key_of(section, item) for item in document[section]}
        for section in ("exchange_accounts", "strategy_configs", "notification_routes")
    }
    rows = {
        "exchange_accounts": (
            ExchangeAccount.objects.filter(organization__slug__in=slugs).select_related(
                "organization"
            ),
            doc.account_doc,
        ),
        "strategy_configs": (
            StrategyConfig.objects.filter(account__organization__slug__in=slugs).select_related(
                "account__organization", "risk_profile"
            ),
            doc.config_doc,
        ),
        "notification_routes": (
            NotificationRoute.objects.filter(organization__slug__in=slugs).select_related(
                "organization"
            ),
            doc.route_doc,
        ),
    }
    steps = []
    for section, (queryset, to_doc) in rows.items():
        for obj in queryset:
            key = doc.key_of(section, to_doc(obj))
            if key not in listed[section]:
                steps.append(Step(section, None, key, "not_in_file", None, obj))
    return steps
