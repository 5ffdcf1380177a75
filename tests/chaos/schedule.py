"""The soak's seeded plan: which faults the exchange injects in which market minute, and
when the harness kills (SIGKILL) which process and for how long. Pure: the same size
and seed always give the same schedule."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

FAULT_KINDS = ("error", "accepted_unknown", "latency", "rate_limit", "stream_drop", "maintenance")
PROCESSES = ("worker", "streams", "beat")

# The exchange's rules per kind, fired with these probabilities on every request of the
# group (count: the most hits per minute, so a count left over shows the hits made).
RULES = {
    "error": {"kind": "error", "group": "trading", "probability": 0.15, "status": 503,
              "code": -1001},
    "accepted_unknown": {"kind": "accepted_unknown", "group": "trading", "probability": 0.25},
    "latency": {"kind": "latency", "probability": 0.3, "ms": 1500},
    # A burst: the first requests of the minute are refused, whatever their weight.
    "rate_limit": {"kind": "rate_limit", "probability": 1.0, "count": 15, "ms": 1000},
}  # fmt: skip
RULE_BUDGET = 10_000
MAINTENANCE_SECONDS = 6
# When orders are sent: every config is flat when the run starts and enters on the
# first candle its cycle completes (the one closing in minute 0 unless a fault or a kill
# holds it up; the run's report counts orders per minute); later the scripted market
# (world.scripted_closes) breaks out every PULSE_EVERY minutes, its breakout candle
# closing in minute PULSE_OFFSET + 1 + k * PULSE_EVERY. The first window of each fault
# that only bites orders covers the opening entries (OPENING_WINDOW minutes from minute
# 0), later ones a breakout minute.
FIRST_ENTRY_MINUTE = 0
PULSE_EVERY, PULSE_OFFSET = 10, 2
ORDER_FAULTS = ("error", "accepted_unknown")
OPENING_WINDOW = 4
# A 429 burst refuses the first requests of its minute, and a run may send none for many
# minutes (positions held, nothing to enter; decisions read the cache): its first window
# is stacked on the opening entries' faults, the minute that surely sends.
OPENING_BURSTS = ("rate_limit",)


def order_minutes(minutes: int) -> list[int]:
    breakouts = range(PULSE_OFFSET + 1, minutes, PULSE_EVERY)
    return [FIRST_ENTRY_MINUTE, *breakouts] if minutes > FIRST_ENTRY_MINUTE else []


@dataclass(frozen=True)
class SoakSize:
    accounts: int
    strategies: int
    minutes: int
    seed: str

    @classmethod
    def from_env(cls, prefix: str, **defaults) -> SoakSize:
        """SOAK_ACCOUNTS, SOAK_STRATEGIES, SOAK_MINUTES, SOAK_SEED (or another prefix)."""

        def value(name: str):
            return os.environ.get(f"{prefix}_{name.upper()}", defaults[name])

        return cls(
            accounts=int(value("accounts")),
            strategies=int(value("strategies")),
            minutes=int(value("minutes")),
            seed=str(value("seed")),
        )


@dataclass(frozen=True)
class Kill:
    process: str
    minute: int  # killed in this market minute, `after` seconds after the clock moved
    after: float
    down_minutes: int  # restarted after this many more minutes (0: within the minute)
    down_seconds: float  # ... and this long after that minute's clock move


@dataclass(frozen=True)
class Schedule:
    faults: dict[int, tuple[str, ...]] = field(default_factory=dict)
    kills: tuple[Kill, ...] = ()

    def faults_at(self, minute: int) -> tuple[str, ...]:
        return self.faults.get(minute, ())

    def kills_at(self, minute: int) -> list[Kill]:
        return [kill for kill in self.kills if kill.minute == minute]

    def restarts_at(self, minute: int) -> list[Kill]:
        return [kill for kill in self.kills if kill.minute + kill.down_minutes == minute]


def make_schedule(size: SoakSize) -> Schedule:
    """Every fault kind gets windows of market minutes (about a sixth of the run in
    all, the maintenance window once), those of 5xx and unknown outcomes each over a
    minute when orders are sent (the first over the opening entries, where the first
    429 burst falls too); each process is
    killed about once per 40 market minutes (at least once), the last minute left
    quiet for the recovery."""
    rng = random.Random(f"soak:{size.seed}")
    minutes = max(2, size.minutes)
    last = minutes - 2  # nothing is planned in the last minute
    faults: dict[int, list[str]] = {}
    window = max(1, minutes // 30)
    for kind in FAULT_KINDS:
        windows = 1 if kind == "maintenance" else max(1, minutes // (window * 36))
        targets = [minute for minute in order_minutes(minutes) if minute <= last]
        for number in range(windows):
            length = window
            if kind in ORDER_FAULTS and targets and number == 0:
                # From the opening entries on, long enough to outlast a killed worker
                # that delays them (a kill keeps a process down two minutes at most).
                start, length = targets[0], max(window, OPENING_WINDOW)
            elif kind in OPENING_BURSTS and targets and number == 0:
                start = targets[0]
            elif kind in ORDER_FAULTS and targets:
                start = max(0, rng.choice(targets[1:] or targets) - rng.randint(0, window - 1))
            else:
                start = rng.randint(0, max(0, last - window + 1))
            for minute in range(start, min(last, start + length - 1) + 1):
                faults.setdefault(minute, []).append(kind)
    kills = []
    for process in PROCESSES:
        for _ in range(max(1, minutes // 40)):
            minute = rng.randint(0, last)
            kills.append(
                Kill(
                    process=process,
                    minute=minute,
                    after=round(rng.uniform(0.0, 2.0), 2),
                    # Back before the last minute, so the run ends with everything up.
                    down_minutes=min(rng.choice((0, 0, 1, 2)), last - minute),
                    down_seconds=round(rng.uniform(0.5, 3.0), 2),
                )
            )
    ordered = {minute: tuple(kinds) for minute, kinds in sorted(faults.items())}
    return Schedule(faults=ordered, kills=tuple(sorted(kills, key=lambda k: (k.minute, k.after))))


def rules_for(kinds: tuple[str, ...]) -> list[dict]:
    return [{"count": RULE_BUDGET, **RULES[kind]} for kind in kinds if kind in RULES]
