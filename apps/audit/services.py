"""Writing audit events: the one way anything enters the trail.

`record_event` appends to the organization's chain (or the platform chain) under a
row lock on that chain's head, inside the caller's transaction: the event commits
or rolls back with the change it describes, chains never fork, and organizations
never wait for each other.
"""

import ipaddress
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.core import correlation
from apps.core.errors import ValidationError
from apps.core.redaction import redact

from . import context
from .chain import compute_hash
from .models import AuditChainHead, AuditEvent, chain_for


def _jsonable(changes: dict) -> dict:
    # Redacted by key name, shape and registered value, then made plain JSON so the
    # stored row hashes the same after a round trip through the database.
    return json.loads(json.dumps(redact(changes or {}), cls=DjangoJSONEncoder))


def _normalised_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return None


def diff(before: dict, after: dict) -> dict:
    """{"field": {"before": old, "after": new}} for the fields whose value changed."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def record_event(
    *,
    action: str,
    actor=None,
    actor_username: str | None = None,
    organization_id: int | None = None,
    target=None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user (or None for the system); `target` a model."""
    if not action:
        raise ValidationError("action", "must not be empty")
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    meta = context.current()
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    if actor_username is None:
        actor_username = actor.get_username() if actor_id is not None else ""
    chain = chain_for(organization_id)
    with transaction.atomic():
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        event = AuditEvent(
            chain=chain,
            sequence=head.last_sequence + 1,
            occurred_at=timezone.now(),
            organization_id=organization_id,
            actor_id=actor_id,
            actor_username=(actor_username or "")[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            changes=_jsonable(changes or {}),
            ip_address=_normalised_ip(ip_address if ip_address is not None else meta.ip_address),
            user_agent=(user_agent if user_agent is not None else meta.user_agent)[:255],
            correlation_id=(correlation.current() or "")[:64],
            previous_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(chain=chain).update(
            last_sequence=event.sequence, last_hash=event.hash
        )
    return event
