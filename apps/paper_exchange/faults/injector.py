"""Seeded fault injection: every failure Binance can throw at a client, on demand.

Rules match an endpoint group (``general``, ``market``, ``trading``, ``account``,
``wsapi``, ``streams``; none: every group) and optionally an account, fire with a
probability drawn from one seeded generator, and may be limited to a number of hits.
The same seed and the same sequence of requests give the same faults.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from apps.paper_exchange import errors

GROUPS = ("general", "market", "trading", "account", "wsapi", "streams")
# before: instead of handling the request; after: the request is carried out, and the
# client is told something else (the "accepted but status unknown" case).
KINDS = {
    "error": "before",
    "rate_limit": "before",
    "latency": "before",
    "hang": "before",
    "accepted_unknown": "after",
}
UNKNOWN_STATUS = "Timeout waiting for response from backend server. Send status unknown; execution status unknown."  # noqa: E501
DISCONNECTED = "Internal error; unable to process your request. Please try again."


class FaultError(ValueError):
    pass


@dataclass
class Rule:
    kind: str
    group: str | None = None
    account: int | None = None
    probability: float = 1.0
    count: int | None = None  # hits left; None: no limit
    status: int = 503
    code: int = -1001
    msg: str | None = None
    ms: int = 0  # latency, or how long a hung request holds the connection

    @classmethod
    def parse(cls, data: dict) -> Rule:
        if not isinstance(data, dict):
            raise FaultError("rules: each rule is an object")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise FaultError(f"rules: unknown field(s) {', '.join(sorted(unknown))}")
        rule = cls(**data)
        if rule.kind not in KINDS:
            raise FaultError(f"rules: kind must be one of {', '.join(KINDS)}")
        if rule.group is not None and rule.group not in GROUPS:
            raise FaultError(f"rules: group must be one of {', '.join(GROUPS)}")
        if not 0 <= float(rule.probability) <= 1:
            raise FaultError("rules: probability must be between 0 and 1")
        if rule.kind == "hang" and rule.ms <= 0:
            rule.ms = 300_000
        return rule

    def matches(self, group: str, account: int | None) -> bool:
        if self.group is not None and self.group != group:
            return False
        if self.account is not None and self.account != account:
            return False
        return self.count is None or self.count > 0

    def error(self) -> errors.ApiError:
        if self.kind == "rate_limit":
            # A burst of 429s whatever the weight used, as an overloaded front end sends.
            return errors.ApiError(
                -1003,
                "Too many requests queued.",
                status=429,
                headers={"Retry-After": str(max(1, self.ms // 1000) if self.ms else 1)},
            )
        if self.kind == "accepted_unknown":
            return errors.ApiError(
                self.code if self.code != -1001 else -1007,
                self.msg or UNKNOWN_STATUS,
                status=self.status,
            )
        return errors.ApiError(
            self.code, self.msg or _default_message(self.code), status=self.status
        )


def _default_message(code: int) -> str:
    return {
        -1000: "An unknown error occurred while processing the request.",
        -1001: DISCONNECTED,
        -1006: "An unexpected response was received from the message bus. Execution status unknown.",  # noqa: E501
        -1007: UNKNOWN_STATUS,
        -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",  # noqa: E501
    }.get(code, DISCONNECTED)


@dataclass
class StreamFaults:
    duplicate_depth: float = 0.0  # probability a depth diff is sent twice
    reorder_depth: float = 0.0  # probability a depth diff swaps places with the next


@dataclass
class FaultInjector:
    seed: str = "faults"
    rules: list[Rule] = field(default_factory=list)
    clock_skew_ms: int = 0
    maintenance_until: int = 0  # wall ms; every request fails until then
    streams: StreamFaults = field(default_factory=StreamFaults)
    hits: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._held: dict[str, dict] = {}

    # -- configuration ---------------------------------------------------------------

    def configure(self, data: dict, now: int) -> None:
        """Apply the fields given (the same shape as ``describe``); others stay."""
        if not isinstance(data, dict):
            raise FaultError("faults: expected a JSON object")
        if "rules" in data:
            if not isinstance(data["rules"], list):
                raise FaultError("rules: expected a list")
            self.rules = [Rule.parse(item) for item in data["rules"]]
        if "seed" in data:
            self.seed = str(data["seed"])
            self._random = random.Random(self.seed)
        if "clockSkewMs" in data:
            self.clock_skew_ms = _integer(data["clockSkewMs"], "clockSkewMs")
        if "maintenanceSeconds" in data:
            seconds = float(data["maintenanceSeconds"] or 0)
            self.maintenance_until = now + int(seconds * 1000) if seconds > 0 else 0
        if "streams" in data:
            options = data["streams"] or {}
            self.streams = StreamFaults(
                duplicate_depth=float(options.get("duplicateDepth", 0)),
                reorder_depth=float(options.get("reorderDepth", 0)),
            )

    def clear(self) -> None:
        self.rules, self.clock_skew_ms, self.maintenance_until = [], 0, 0
        self.streams = StreamFaults()
        self._held.clear()

    def describe(self, now: int) -> dict:
        return {
            "seed": self.seed,
            "rules": [asdict(rule) for rule in self.rules],
            "clockSkewMs": self.clock_skew_ms,
            "maintenanceSeconds": max(0, self.maintenance_until - now) / 1000,
            "streams": {
                "duplicateDepth": self.streams.duplicate_depth,
                "reorderDepth": self.streams.reorder_depth,
            },
            "hits": self.hits,
        }

    # -- requests ------------------------------------------------------------------

    def in_maintenance(self, now: int) -> bool:
        return now < self.maintenance_until

    def maintenance_error(self) -> errors.ApiError:
        return errors.ApiError(-1001, DISCONNECTED, status=503)

    def pick(self, group: str, account: int | None, phase: str) -> Rule | None:
        """The rule that fires for this request in this phase, if any (seeded draw)."""
        for rule in self.rules:
            if KINDS[rule.kind] != phase or not rule.matches(group, account):
                continue
            if rule.probability < 1 and self._random.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            self.hits += 1
            return rule
        return None

    # -- streams -------------------------------------------------------------------

    def depth_copies(self, name: str, payload: dict) -> int:
        chance = self.streams.duplicate_depth
        if chance and self._random.random() < chance:
            self.hits += 1
            return 2
        return 1

    def reorder(self, name: str, events: list[dict]) -> list[dict]:
        """Hold a depth diff back and send it after the next one (out of order)."""
        if not events:
            return []
        held = self._held.pop(name, None)
        if held is not None:
            return [*events, held]
        chance = self.streams.reorder_depth
        if chance and "U" in events[-1] and self._random.random() < chance:
            self.hits += 1
            self._held[name] = events[-1]
            return events[:-1]
        return events


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{name}: a whole number")
    return value
