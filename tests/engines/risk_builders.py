"""Small builders for risk-engine inputs, so each test states only what it varies."""

from __future__ import annotations

from decimal import Decimal

from apps.risk.engine import AccountState, OpenPosition, RiskConfig, TradeProposal, TradeStats

D = Decimal


def account(**overrides) -> AccountState:
    values = {
        "equity": D(10_000),
        "peak_equity": D(10_000),
        "day_start_equity": D(10_000),
        "now_ms": 1_700_000_000_000,
    }
    values.update(overrides)
    return AccountState(**values)


def proposal(**overrides) -> TradeProposal:
    values = {"symbol": "ETHUSDT", "entry": D(100), "stop": D(98), "target": D(106)}
    values.update(overrides)
    return TradeProposal(**values)


def position(symbol="BTCUSDT", qty="1", entry="100", mark="100", stop="95", sectors=()):
    return OpenPosition(
        symbol=symbol,
        quantity=D(qty),
        entry_price=D(entry),
        mark_price=D(mark),
        stop_price=None if stop is None else D(stop),
        sectors=frozenset(sectors),
    )


def config(**overrides) -> RiskConfig:
    return RiskConfig(**overrides)


def stats(**overrides) -> TradeStats:
    return TradeStats(**overrides)
