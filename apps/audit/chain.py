"""Canonical content and hashing of audit events.

The canonical form is JSON with sorted keys and no whitespace over every stored field
except the hash itself, so the hash is reproducible from the row alone.
"""

import hashlib
import json
from datetime import UTC

HASHED_FIELDS = (
    "chain",
    "sequence",
    "occurred_at",
    "organization_id",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "changes",
    "ip_address",
    "user_agent",
    "correlation_id",
    "previous_hash",
)


def canonical_content(event) -> bytes:
    data = {name: getattr(event, name) for name in HASHED_FIELDS}
    data["occurred_at"] = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()
