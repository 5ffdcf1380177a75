"""The engines composed as a trading cycle would compose them, on real candles:
signal once per symbol -> exit management per position -> risk engine per entry.
Invariants are checked on every candle of a multi-symbol replay."""

from __future__ import annotations

from decimal import Decimal

from apps.risk.engine import (
    AccountState,
    Balance,
    OpenPosition,
    PositionState,
    RiskConfig,
    TradeProposal,
    evaluate_entry,
    evaluate_position,
)
from apps.risk.engine.exits import ExitKind
from apps.strategies.engine import Action, MarketContext, registry, run_strategy
from apps.strategies.engine.indicators import ATR
from apps.strategies.engine.signals import price_to_decimal

from .market_data import load

D = Decimal
SYMBOLS = ("ETHBTC", "LTCBTC", "XMRBTC", "ZECBTC", "DASHBTC")
SECTORS = {"ETHBTC": {"LAYER1"}, "LTCBTC": {"LAYER1"}, "XMRBTC": set(), "ZECBTC": {"DEFI"}}


def test_replay_keeps_every_limit_and_never_oversells():
    strategy = registry.create("breakout", {"volume_factor": 1.0})
    config = RiskConfig(max_trades_per_day=None, daily_loss_limit_pct=None, min_reward_risk=D(1))
    data = {s: load(s) for s in SYMBOLS}
    n = min(len(rows) for rows in data.values())
    atrs = {s: ATR(14) for s in SYMBOLS}
    cash = D(10)  # BTC
    peak = cash
    positions: dict[str, PositionState] = {}
    approved = sells = 0
    for t in range(1, n):
        marks = {s: price_to_decimal(float(data[s]["close"][t])) for s in SYMBOLS}
        atr = {
            s: atrs[s].push(*(float(data[s][k][t]) for k in ("high", "low", "close")))
            for s in SYMBOLS
        }
        now = int(data["ETHBTC"]["open_time"][t])
        # Exit management first, as a cycle does.
        for symbol, state in list(positions.items()):
            plan = evaluate_position(
                state,
                price=marks[symbol],
                now_ms=now,
                config=config.exits,
                atr=price_to_decimal(atr[symbol]),
            )
            sold = D(0)
            for action in plan.actions:
                assert action.quantity >= 0
                if action.kind in (ExitKind.SELL, ExitKind.EXIT_ALL):
                    sold += action.quantity
                    sells += 1
            assert sold <= state.quantity
            cash += sold * marks[symbol]
            if plan.closes:
                del positions[symbol]
            else:
                positions[symbol] = plan.state
        equity = cash + sum((p.quantity * marks[s] for s, p in positions.items()), D(0))
        peak = max(peak, equity)
        open_positions = tuple(
            OpenPosition(
                s, p.quantity, p.entry_price, marks[s], p.stop_price, frozenset(SECTORS.get(s, ()))
            )
            for s, p in positions.items()
        )
        account = AccountState(
            equity=equity,
            peak_equity=peak,
            day_start_equity=equity,
            balances=(Balance("BTC", cash, D(0)),),
            positions=open_positions,
            now_ms=now,
        )
        if t < strategy.history:
            continue
        for symbol in SYMBOLS:
            ctx = MarketContext.from_array(
                symbol, "5m", data[symbol][t - strategy.history + 1 : t + 1]
            )
            signal = run_strategy(strategy, ctx)
            assert signal.action is not Action.ERROR
            if signal.action is not Action.ENTER_LONG or symbol in positions:
                continue
            decision = evaluate_entry(
                config,
                account,
                TradeProposal(
                    symbol,
                    marks[symbol],
                    signal.stop,
                    signal.target,
                    price_to_decimal(atr[symbol]),
                    frozenset(SECTORS.get(symbol, ())),
                    quote_asset="BTC",
                ),
            )
            if not decision.approved:
                continue
            approved += 1
            assert decision.quantity > 0
            assert account.heat + decision.risk_amount <= equity * config.max_portfolio_heat
            assert decision.notional <= cash
            cash -= decision.notional
            positions[symbol] = PositionState(
                entry_price=marks[symbol],
                quantity=decision.quantity,
                original_quantity=decision.quantity,
                opened_at_ms=now,
                stop_price=decision.stop,
                highest_price=marks[symbol],
            )
            # The account changes with every fill: refresh it for the next symbol.
            account = account._replace(
                balances=(Balance("BTC", cash, D(0)),),
                positions=(
                    *account.positions,
                    OpenPosition(
                        symbol,
                        decision.quantity,
                        marks[symbol],
                        marks[symbol],
                        decision.stop,
                        frozenset(SECTORS.get(symbol, ())),
                    ),
                ),
            )
        assert cash >= 0
    assert approved >= 10
    assert sells >= approved
