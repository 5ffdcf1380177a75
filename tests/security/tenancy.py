"""The machinery of the tenancy sweep: discovering organization-owned models, building
instances of any of them for an organization, and enumerating URL routes.

It learns from the code, not from a list: a model with a foreign-key path to
Organization (or with `objects.for_user`) is swept as soon as it exists, and every
named URL route (admin pages, API routes) is requested with the other tenant's ids.
"""

import datetime
import itertools
import secrets
from collections import deque
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from apps.accounts.models import Organization
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.crypto.fields import EncryptedSecretField, SealedSecret


def is_scoped(model) -> bool:
    return hasattr(model._default_manager, "for_user")


def reaches_organization(model, max_depth: int = 5) -> bool:
    """True when a chain of foreign keys leads from `model` to Organization."""
    seen, queue = {model}, deque([(model, 0)])
    while queue:
        current, depth = queue.popleft()
        if current is Organization:
            return True
        if depth == max_depth:
            continue
        for field in current._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is not None and target not in seen:
                seen.add(target)
                queue.append((target, depth + 1))
    return False


def organization_owned_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m is not Organization and reaches_organization(m)]


def scoped_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if is_scoped(m)]


# --- building instances -------------------------------------------------------------

# Models that cannot be built field by field (they have their own writer).
SPECIAL_BUILDERS = {
    AuditEvent: lambda org, marker: record_event(
        action=f"sweep.{marker}", organization_id=org.pk, changes={"marker": marker}
    ),
}


class Builder:
    """Creates one instance of each model for an organization, following required
    foreign keys to objects of the same organization and marking every text field."""

    def __init__(self, organization: Organization, marker: str):
        self.organization = organization
        self.marker = marker
        self.built: dict[type[models.Model], models.Model] = {Organization: organization}

    def user(self):
        return get_user_model().objects.create_user(f"{self.marker}-{secrets.token_hex(3)}")

    def build(self, model):
        if model in self.built:
            return self.built[model]
        if model in SPECIAL_BUILDERS:
            obj = SPECIAL_BUILDERS[model](self.organization, self.marker)
        elif model is get_user_model():
            obj = self.user()
        else:
            obj = model._default_manager.create(
                **{f.name: self.value(f) for f in self.required_fields(model)}
            )
        self.built[model] = obj
        return obj

    @staticmethod
    def required_fields(model):
        for field in model._meta.concrete_fields:
            if field.primary_key or field.auto_created or getattr(field, "auto_now", False):
                continue
            if getattr(field, "auto_now_add", False):
                continue
            # Nullable fields are filled too: constraints may require them together.
            if field.is_relation or not field.has_default():
                yield field

    def value(self, field):
        if field.is_relation:
            return self.build(field.related_model)
        if field.choices:
            return field.choices[0][0]
        if isinstance(field, EncryptedSecretField):
            return SealedSecret.seal(f"{self.marker}-secret-value")
        if isinstance(field, models.GenericIPAddressField):
            return "127.0.0.1"
        if isinstance(field, models.SlugField):
            return f"{self.marker}-{secrets.token_hex(3)}".lower()[: field.max_length]
        if isinstance(field, models.CharField | models.TextField):
            text = f"{self.marker} {field.name} {secrets.token_hex(3)}"
            return text[: field.max_length] if field.max_length else text
        if isinstance(field, models.BooleanField):
            return False
        if isinstance(field, models.DecimalField):
            return Decimal(1)
        if isinstance(field, models.IntegerField | models.FloatField):
            return 1
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        if isinstance(field, models.DateField):
            return datetime.date.today()
        if isinstance(field, models.JSONField):
            return {}
        if isinstance(field, models.BinaryField):
            return f"{self.marker}".encode()
        if isinstance(field, models.UUIDField):
            import uuid

            return uuid.uuid4()
        raise NotImplementedError(
            f"the tenancy sweep cannot build {field.model._meta.label}.{field.name} "
            f"({type(field).__name__}): add a case to Builder.value or SPECIAL_BUILDERS"
        )


# --- URL routes ----------------------------------------------------------------------

SKIPPED_ROUTE_NAMES = {"logout", "admin:logout", "accounts:logout", "set_language"}


def _parameters(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return list(pattern.regex.groupindex)
    return []


def named_routes() -> list[tuple[str, list[str]]]:
    """(qualified name, parameter names) of every named route, namespaces included."""
    found = []

    def walk(patterns, namespace, inherited):
        for entry in patterns:
            params = inherited + _parameters(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns, params)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}{entry.name}", params))

    walk(get_resolver().url_patterns, "", [])
    return found


def argument_sets(params: list[str], foreign_ids: list[str], limit: int = 60):
    """Candidate arguments: the other tenant's ids for every id-like parameter."""
    candidates = []
    for name in params:
        if name == "app_label":
            candidates.append(sorted({c.label for c in apps.get_app_configs()}))
        elif name == "operation":
            candidates.append(["promote", "discard"])
        elif name == "model_name":
            candidates.append(sorted({m._meta.model_name for m in apps.get_models()}))
        else:
            candidates.append(foreign_ids)
    return list(itertools.islice(itertools.product(*candidates), limit))
