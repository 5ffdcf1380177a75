"""Pure risk engine: sizing, limits and exit management. No Django, no I/O.

Money and quantities are ``Decimal`` at every boundary of this package; floats from
indicator maths (ATR, correlations) are converted by the caller or, for
correlations, explicitly here.
"""

from .config import ExitConfig, LadderStep, RiskConfig
from .decision import Outcome, RiskDecision, RuleVerdict
from .engine import evaluate_entry
from .exits import ExitAction, ExitPlan, PositionState, evaluate_position, initial_stop
from .presets import PRESETS
from .state import AccountState, Balance, OpenPosition, TradeProposal, TradeStats

__all__ = [
    "PRESETS",
    "AccountState",
    "Balance",
    "ExitAction",
    "ExitConfig",
    "ExitPlan",
    "LadderStep",
    "OpenPosition",
    "Outcome",
    "PositionState",
    "RiskConfig",
    "RiskDecision",
    "RuleVerdict",
    "TradeProposal",
    "TradeStats",
    "evaluate_entry",
    "evaluate_position",
    "initial_stop",
]
