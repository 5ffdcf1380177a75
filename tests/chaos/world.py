"""The soak's accounts, strategies and market: paper accounts funded on the soak's
exchange, each with its strategy configs on BTCUSDT 1m, and a market path scripted from
real one-minute closes (XRPETH, 2019; the moves scaled up so strategies act)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal

from apps.accounts.actors import Actor
from apps.paper_exchange.config import default_data_dir
from apps.risk.services import create_risk_profile
from apps.strategies.services import resume_strategy_config
from tests.accounts.factories import make_org
from tests.trading.support import active_account, make_config

from .schedule import PULSE_EVERY, PULSE_OFFSET

SYMBOL, INTERVAL = "BTCUSDT", "1m"
FUNDING = {"USDT": Decimal("10000"), "BTC": Decimal("0.01")}  # the BTC is an unmanaged reserve
# Short periods: a 1m market of two hours gives each of them something to do.
STRATEGIES = (
    ("breakout", {"entry_period": 5, "exit_period": 3, "volume_period": 5,
                  "volume_factor": 1.2, "reward_risk": 3.0}),
    ("mean_reversion", {"bb_period": 10, "bb_deviations": 1.5, "rsi_period": 5,
                        "oversold": 35.0, "overbought": 65.0, "stop_deviations": 1.0}),
    ("trend_following", {"fast": 3, "slow": 8, "adx_period": 5, "adx_min": 10.0,
                         "atr_period": 5, "atr_stop": 2.0, "reward_risk": 3.0}),
)  # fmt: skip
REAL_KLINES = default_data_dir() / "binance" / "XRPETH-1m-2019-10-11.csv"
MOVE_SCALE = Decimal(4)
# The default profile halts an account after three entries a UTC day, so in a long soak
# every account halts early and the later fault windows meet no orders. The soak's
# profile lets accounts trade all along; the drawdown breaker and the per-entry limits
# (heat, open positions, reward:risk) stay as they are.
SOAK_RISK = {"max_trades_per_day": None, "daily_loss_limit_pct": None,
             "cooldown_after_losses": None}  # fmt: skip
BREAKOUT_STEP = Decimal("1.008")


@dataclass
class World:
    accounts: list = field(default_factory=list)
    configs: list = field(default_factory=list)
    funded: dict = field(default_factory=dict)

    @property
    def config_ids(self) -> list[int]:
        return [config.pk for config in self.configs]

    @property
    def organization_ids(self) -> list[int]:
        return sorted({account.organization_id for account in self.accounts})


def build_world(admin, *, accounts: int, strategies: int) -> World:
    world = World()
    profile = create_risk_profile(name="soak", overrides=dict(SOAK_RISK))
    for index in range(accounts):
        key = admin.create_key({asset: str(amount) for asset, amount in FUNDING.items()})
        account = active_account(make_org(), api_key=key["apiKey"], secret=key["secretKey"])
        world.accounts.append(account)
        world.funded[account.pk] = dict(FUNDING)
        for slot in range(strategies):
            strategy, params = STRATEGIES[slot % len(STRATEGIES)]
            config = make_config(
                account, name=f"soak {index}-{slot}", strategy=strategy, params=dict(params),
                symbols=(SYMBOL,), interval=INTERVAL, risk_profile=profile,
            )  # fmt: skip
            resume_strategy_config(actor=Actor.for_system(), config=config)
            config.refresh_from_db()
            world.configs.append(config)
    return world


def scripted_closes(start_price: Decimal, minutes: int) -> tuple[list[str], list[str]]:
    """`minutes` closes and volumes following the real minutes' relative moves, with a
    breakout (a step up on five times the volume) every ten minutes from the third, so
    even a short run enters, protects and exits positions."""
    rows = list(csv.reader(REAL_KLINES.open()))
    needed = minutes + 1
    rows = (rows * (needed // len(rows) + 1))[:needed]
    first = Decimal(rows[0][4])
    volumes = sorted(Decimal(row[5]) for row in rows)
    median = volumes[len(volumes) // 2] or Decimal(1)
    closes, amounts, level = [], [], Decimal(1)
    for minute, row in enumerate(rows[1:]):
        pulse = minute % PULSE_EVERY == PULSE_OFFSET
        if pulse:
            level *= BREAKOUT_STEP
        move = (Decimal(row[4]) / first - 1) * MOVE_SCALE
        closes.append(str((start_price * level * (1 + move)).quantize(Decimal("0.01"))))
        volume = (Decimal(row[5]) / median * 5 * (5 if pulse else 1)).quantize(Decimal("0.001"))
        amounts.append(str(max(volume, Decimal("0.001"))))
    return closes, amounts
