"""The risk engine's answer: an outcome, a size and every rule's verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    RESIZED = "resized"
    REJECTED = "rejected"


class RuleVerdict(NamedTuple):
    # A NamedTuple, not a frozen dataclass: a decision builds about a dozen of these
    # and tuple construction is several times cheaper.
    rule: str
    passed: bool
    reason: str
    # For sizing caps: the largest quantity this rule allows (None: no cap).
    max_quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RiskDecision:
    outcome: Outcome
    quantity: Decimal
    stop: Decimal | None
    target: Decimal | None
    risk_amount: Decimal  # valuation currency lost if the stop fills
    notional: Decimal  # valuation currency spent
    verdicts: tuple[RuleVerdict, ...]
    alerts: tuple[str, ...] = ()
    halt: bool = False  # the drawdown breaker in "halt" mode tripped: pause the account

    @property
    def approved(self) -> bool:
        return self.outcome is not Outcome.REJECTED

    @property
    def reasons(self) -> list[str]:
        return [f"{v.rule}: {v.reason}" for v in self.verdicts if not v.passed]

    def as_record(self) -> dict:
        """JSON-safe form for the decision record: Decimals as strings, never floats."""

        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "outcome": self.outcome.value,
            "quantity": text(self.quantity),
            "stop": text(self.stop),
            "target": text(self.target),
            "risk_amount": text(self.risk_amount),
            "notional": text(self.notional),
            "halt": self.halt,
            "alerts": list(self.alerts),
            "verdicts": [
                {
                    "rule": v.rule,
                    "passed": v.passed,
                    "reason": v.reason,
                    "max_quantity": text(v.max_quantity),
                }
                for v in self.verdicts
            ],
        }
