"""Per-group sequence numbers and a bounded replay buffer in Redis.

Each live group (an account, an organization) numbers its events with INCR and keeps
the newest ones in a list, so a client that reconnects says "after 41" and gets 42…
in order, or learns that they are gone (trimmed or too old) and must reload.
Numbering and appending happen in one Lua script: two publishers can never store
their events out of sequence order.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings

# KEYS: sequence, buffer. ARGV: event JSON without "seq" (an object), max length,
# expiry seconds. The sequence is spliced in as the object's first member.
_APPEND = """
local seq = redis.call('INCR', KEYS[1])
local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('RPUSH', KEYS[2], event)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return {seq, event}
"""


def replay_size() -> int:
    return int(getattr(settings, "LIVE_REPLAY_EVENTS", 1000))


def replay_seconds() -> int:
    return int(getattr(settings, "LIVE_REPLAY_SECONDS", 600))


def _keys(group: str) -> tuple[str, str]:
    return f"live:seq:{group}", f"live:buffer:{group}"


def append(redis, group: str, event: dict) -> dict:
    """Number `event` in `group`, keep it for replay; returns it with its `seq`."""
    if not event:
        raise ValueError("an event must have at least one field")
    seq_key, buffer_key = _keys(group)
    body = json.dumps(event, separators=(",", ":"))
    # The buffer outlives its age limit a little; reads filter by age exactly.
    _, stored = redis.eval(
        _APPEND, 2, seq_key, buffer_key, body, replay_size(), replay_seconds() * 2
    )
    return json.loads(stored)


def latest(redis, group: str) -> int:
    """The newest sequence number of `group` (0 before its first event)."""
    return int(redis.get(_keys(group)[0]) or 0)


@dataclass(frozen=True)
class Replay:
    events: list[dict]
    resync: bool  # the client missed events that are no longer kept: reload
    latest: int  # the group's newest sequence number


def since(redis, group: str, after: int, *, now_ms: int | None = None) -> Replay:
    """Events of `group` numbered above `after`, oldest first."""
    seq_key, buffer_key = _keys(group)
    latest = int(redis.get(seq_key) or 0)
    if after > latest:  # numbers from another epoch (e.g. Redis was emptied)
        return Replay([], True, latest)
    if after == latest:
        return Replay([], False, latest)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    oldest_ms = now_ms - replay_seconds() * 1000
    kept = [json.loads(raw) for raw in redis.lrange(buffer_key, 0, -1)]
    kept = [e for e in kept if e.get("ts_ms", 0) >= oldest_ms and e["seq"] > after]
    # Complete only if the first kept event follows the client's last one directly.
    if not kept or kept[0]["seq"] != after + 1:
        return Replay([], True, latest)
    return Replay(kept, False, latest)
