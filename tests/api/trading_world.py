"""One organization with a member of every role and a row of every trading resource,
written through the real services (no exchange needed)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.accounts.actors import Actor
from apps.api.serializers import trading as trading_serializers
from apps.api.serializers.rows import ReadOnlyRowSerializer
from apps.strategies.engine.signals import Action, Signal
from apps.trading import controls, golive
from apps.trading.services import record_cash_flow, record_decision, record_equity_snapshot
from tests.accounts.factories import make_account
from tests.api.conftest import Desk
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

D = Decimal
# The serializers of the resources' read-only rows (the large lists).
ROW_SERIALIZERS = [
    serializer
    for serializer in vars(trading_serializers).values()
    if isinstance(serializer, type)
    and issubclass(serializer, ReadOnlyRowSerializer)
    and serializer is not ReadOnlyRowSerializer
]
SYSTEM = Actor.for_system()


def round_trip(config, *, buy, sell, quantity="1", fee="0", opened_ms=None, hours=1):
    """Buy then sell `quantity` of BTCUSDT: one closed position and its Trade."""
    opened_ms = opened_ms or int(timezone.now().timestamp() * 1000) - 86_400_000
    entry = order_for(config, side="BUY", quantity=quantity)
    fill(entry, price=buy, quantity=quantity, commission=fee, time_ms=opened_ms)
    exit_order = order_for(config, side="SELL", quantity=quantity, intent="exit")
    closed_ms = opened_ms + hours * 3_600_000
    fill(exit_order, price=sell, quantity=quantity, commission=fee, time_ms=closed_ms)
    return entry, exit_order


class TradingWorld:
    def __init__(self):
        sync_default_symbols("paper")
        sync_default_symbols("live")
        self.desk = Desk()
        org = self.desk.org
        self.account = active_account(org)
        self.spare = active_account(org)  # holds an open position, so flatten stays offline
        self.live = make_account(org, environment="live")
        self.config = make_config(self.account)
        self.other_config = make_config(self.account)
        self.entry, self.exit = round_trip(self.config, buy="100", sell="110")
        self.fill = self.entry.fills.get()
        self.trade = self.config.trades.get()
        spare_config = make_config(self.spare)
        opening = order_for(spare_config, side="BUY", quantity="1")
        fill(opening, price="100", quantity="1")
        self.position = spare_config.positions.get(status="open")
        now = timezone.now()
        self.cash_flow, _ = record_cash_flow(
            account=self.account, kind="deposit", asset="USDT", amount="1000", value="1000",
            occurred_at=now - timedelta(days=2), external_id=f"dep-{self.account.pk}",
        )  # fmt: skip
        self.equity, _ = record_equity_snapshot(account=self.account, taken_at=now, equity="1010")
        signal = Signal(Action.HOLD, "warming up", "trend_following", "1.0", "BTCUSDT", "1h", None)
        self.decision = record_decision(
            config=self.config, symbol="BTCUSDT", signal=signal, fingerprint="f",
            candle_open_time=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        self.switch = controls.engage_kill_switch(
            actor=SYSTEM, scope="organization", organization=org, enforce=False
        ).switch
        self.go_live = golive.request_go_live(
            actor=SYSTEM, paper_config=self.config, live_account=self.live
        )

    def ids(self) -> dict:
        return {
            "org": self.desk.org.pk,
            "account": self.account.pk,
            "spare": self.spare.pk,
            "live": self.live.pk,
            "config": self.config.pk,
            "other_config": self.other_config.pk,
            "order": self.entry.pk,
            "fill": self.fill.pk,
            "trade": self.trade.pk,
            "position": self.position.pk,
            "cash_flow": self.cash_flow.pk,
            "equity": self.equity.pk,
            "decision": self.decision.pk,
            "switch": self.switch.pk,
            "go_live": self.go_live.pk,
        }
