"""Going live: the checklist refuses naming each unmet item and accepts when all are met;
the paper KPIs it compares equal hand computations from crafted trades and equity."""

import itertools
import math
import statistics
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.accounts.actors import Actor
from apps.accounts.credentials import VerificationResult, set_credentials_verifier
from apps.accounts.models import ExchangeAccount
from apps.audit.models import AuditEvent
from apps.core.errors import PermissionDenied, ValidationError
from apps.exchange.keys import KeyVerification
from apps.monitoring.models import NotificationRoute
from apps.monitoring.notifications.services import save_route
from apps.risk.services import create_risk_profile
from apps.strategies.engine.signals import Action, Signal
from apps.strategies.models import StrategyConfig
from apps.trading import golive, kpis
from apps.trading.models import GoLiveRequest
from apps.trading.services import (
    record_cash_flow,
    record_decision,
    record_equity_snapshot,
    transition_order,
)
from apps.trading.states import OrderStatus
from tests.accounts.factories import code_for, make_org, member, otp_login, totp_device, unverified
from tests.trading.support import (
    active_account,
    fill,
    make_config,
    order_for,
    sync_default_symbols,
)

pytestmark = [pytest.mark.django_db]

D = Decimal
SYSTEM = Actor.for_system()
DAY = timedelta(days=1)
GOOD_EQUITY = [1000, 1010, 1025, 1020, 1040, 1055, 1060, 1080]
GOOD_TRADES = [(100, 130), (100, 120), (100, 90), (100, 105)]  # +30 +20 -10 +5


@pytest.fixture
def key_rights():
    """The exchange's answer about the live key (Binance production cannot run here)."""
    rights = {"can_withdraw": False, "can_internal_transfer": False}

    def verifier(credentials):
        result = KeyVerification(
            environment=credentials.environment, accepted=True, checked_at=timezone.now(),
            method="api_restrictions", can_trade=True, can_universal_transfer=False, **rights,
        )  # fmt: skip
        return VerificationResult(accepted=True, permissions=result.as_dict())

    set_credentials_verifier(verifier)
    yield rights
    set_credentials_verifier(None)


def _round_trip(config, buy, sell, when):
    ms = int(when.timestamp() * 1000)
    fill(order_for(config, side="BUY"), price=buy, quantity="1", time_ms=ms)
    fill(order_for(config, side="SELL", intent="exit"), price=sell, quantity="1", time_ms=ms + 1000)


def _equity(account, start, values, flows=()):
    for n, value in enumerate(values):
        for day, amount in flows:
            if day == n:
                record_cash_flow(
                    account=account, kind="deposit", asset="USDT", amount=str(amount),
                    value=str(amount), occurred_at=start + n * DAY + timedelta(minutes=30),
                    external_id=f"deposit-{n}",
                )  # fmt: skip
        record_equity_snapshot(account=account, taken_at=start + n * DAY + timedelta(hours=1),
                               equity=str(value))  # fmt: skip


def _decide(config, when):
    strategy = config.build_strategy()
    signal = Signal(Action.HOLD, "warming up", strategy.key, strategy.version, "BTCUSDT", "1h",
                    None)  # fmt: skip
    decision = record_decision(config=config, symbol="BTCUSDT", candle_open_time=when,
                               signal=signal, fingerprint=strategy.fingerprint)  # fmt: skip
    type(decision).objects.filter(pk=decision.pk).update(created_at=when)


class Scene:
    """A paper config with its history, a live account and a pending request. Each
    keyword breaks exactly one checklist item."""

    def __init__(self, key_rights, *, paper_days=8, trades=GOOD_TRADES, equity=GOOD_EQUITY,
                 route=True, daily_limit=True, verify=True, rejected=0):  # fmt: skip
        sync_default_symbols("paper")
        sync_default_symbols("live")
        self.now = timezone.now()
        self.org = make_org()
        self.paper = active_account(self.org)
        self.config = make_config(self.paper, name="trend BTC")
        if not verify:
            set_credentials_verifier(None)  # the key is saved without asking the exchange
        self.live = active_account(self.org, environment="live")
        overrides = {} if daily_limit else {"daily_loss_limit_pct": None}
        self.profile = create_risk_profile(name=f"live {self.org.pk}", overrides=overrides)
        if route:
            save_route(
                actor=SYSTEM, route=NotificationRoute(organization=self.org),
                data={"name": "ops mail", "channel": "email",
                      "target": {"recipients": ["ops@example.com"]}},
            )  # fmt: skip
        start = self.now - paper_days * DAY
        _decide(self.config, start)
        for n, (buy, sell) in enumerate(trades):
            _round_trip(self.config, buy, sell, start + timedelta(hours=3 + n))
        for _ in range(rejected):
            order = order_for(self.config)
            transition_order(order=order, status=OrderStatus.REJECTED, reason="-2010")
        _equity(self.paper, start, equity)
        self.request = golive.request_go_live(
            actor=SYSTEM, paper_config=self.config, live_account=self.live,
            risk_profile=self.profile,
        )  # fmt: skip
        self.officer = member(self.org, "risk_officer")
        self.device = totp_device(self.officer)

    def approve(self):
        return golive.approve_go_live(
            actor=unverified(self.officer), request=self.request, otp_code=code_for(self.device)
        )

    def unmet(self) -> set[str]:
        return {item.key for item in golive.evaluate_checklist(self.request) if not item.met}


def _refused_with(scene, key):
    assert scene.unmet() == {key}
    with pytest.raises(golive.ChecklistNotMet) as caught:
        scene.approve()
    assert [item.key for item in caught.value.unmet] == [key]
    assert key in caught.value.message
    request = GoLiveRequest.objects.get(pk=scene.request.pk)
    assert request.status == "pending"
    assert request.live_config is None
    assert not StrategyConfig.objects.filter(account=scene.live).exists()
    assert ExchangeAccount.objects.get(pk=scene.live.pk).live_approved_at is None


def test_all_items_met_approves_creates_the_live_config_and_approves_the_account(key_rights):
    scene = Scene(key_rights)
    items = golive.evaluate_checklist(scene.request)
    assert [i.key for i in items] == [
        "live_key", "risk_profile", "alerts", "strategy_version", "paper_days",
        "win_rate", "profit_factor", "max_drawdown", "sharpe", "error_rate",
    ]  # fmt: skip
    assert all(i.met for i in items), [i for i in items if not i.met]

    request = scene.approve()

    assert request.status == "approved"
    assert request.approved_by == scene.officer.username
    live_config = request.live_config
    assert live_config.account_id == scene.live.pk
    assert live_config.enabled
    assert live_config.strategy == scene.config.strategy
    assert live_config.strategy_version == scene.config.strategy_version
    assert live_config.params == scene.config.params
    assert live_config.risk_profile_id == scene.profile.pk
    live = ExchangeAccount.objects.get(pk=scene.live.pk)
    assert live.live_approved_at is not None
    assert live.live_approved_by == scene.officer.username
    assert live.environment == "live"  # environments never change
    assert len(request.checklist) == 10
    event = AuditEvent.objects.get(action="go_live.approved")
    assert event.actor_username == scene.officer.username
    assert event.changes["live_config"] == live_config.pk


def test_refused_without_a_verified_live_key(key_rights):
    _refused_with(Scene(key_rights, verify=False), "live_key")


def test_refused_when_the_live_key_can_withdraw(key_rights):
    key_rights["can_withdraw"] = True
    _refused_with(Scene(key_rights), "live_key")


def test_refused_without_a_daily_loss_limit(key_rights):
    _refused_with(Scene(key_rights, daily_limit=False), "risk_profile")


def test_refused_without_alert_routes(key_rights):
    _refused_with(Scene(key_rights, route=False), "alerts")


def test_refused_before_enough_paper_days(key_rights):
    _refused_with(Scene(key_rights, paper_days=3, equity=[*GOOD_EQUITY[:3], 1030]), "paper_days")


def test_refused_with_a_low_win_rate(key_rights):
    _refused_with(Scene(key_rights, trades=[(100, 160), (100, 90), (100, 90)]), "win_rate")


def test_refused_with_a_low_profit_factor(key_rights):
    _refused_with(Scene(key_rights, trades=[(100, 110), (100, 110), (100, 70)]), "profit_factor")


def test_refused_with_a_deep_drawdown(key_rights):
    equity = [1000, 1100, 1200, 1300, 1400, 1500, 1150, 1600]
    _refused_with(Scene(key_rights, equity=equity), "max_drawdown")


def test_refused_with_a_low_sharpe(key_rights):
    equity = [1000, 1050, 1000, 1050, 1000, 1050, 1000, 1000]
    _refused_with(Scene(key_rights, equity=equity), "sharpe")


def test_refused_with_too_many_order_errors(key_rights):
    _refused_with(Scene(key_rights, rejected=1), "error_rate")


def test_refused_when_the_strategy_version_changed(key_rights):
    scene = Scene(key_rights)
    GoLiveRequest.objects.filter(pk=scene.request.pk).update(strategy_version="0.9")
    scene.request.refresh_from_db()
    assert "strategy_version" in scene.unmet()


def test_only_a_risk_officer_with_a_valid_code_approves(key_rights):
    scene = Scene(key_rights)
    trader = member(scene.org, "trader")
    with pytest.raises(PermissionDenied):
        golive.approve_go_live(
            actor=unverified(trader), request=scene.request, otp_code=code_for(totp_device(trader))
        )
    with pytest.raises(ValidationError) as caught:
        golive.approve_go_live(actor=unverified(scene.officer), request=scene.request, otp_code="")
    assert caught.value.field == "otp_code"
    with pytest.raises(ValidationError) as caught:
        golive.approve_go_live(
            actor=unverified(scene.officer), request=scene.request, otp_code="12345"
        )
    assert caught.value.field == "otp_code"
    with pytest.raises(PermissionDenied):
        golive.approve_go_live(actor=SYSTEM, request=scene.request, otp_code="x")
    assert GoLiveRequest.objects.get(pk=scene.request.pk).status == "pending"


def test_request_validation_names_the_field(key_rights):
    sync_default_symbols("paper")
    org = make_org()
    paper_config = make_config(active_account(org))
    other_paper = active_account(org)
    with pytest.raises(ValidationError) as caught:
        golive.request_go_live(actor=SYSTEM, paper_config=paper_config, live_account=other_paper)
    assert caught.value.field == "live_account"
    foreign_live = active_account(make_org(), environment="live")
    with pytest.raises(ValidationError) as caught:
        golive.request_go_live(actor=SYSTEM, paper_config=paper_config, live_account=foreign_live)
    assert caught.value.field == "live_account"
    assert not GoLiveRequest.objects.exists()


# --- KPIs against hand computations --------------------------------------------------


def test_kpis_equal_a_hand_computation_with_a_deposit_excluded(key_rights):
    sync_default_symbols("paper")
    account = active_account(make_org())
    config = make_config(account)
    start = timezone.now() - 5 * DAY
    for n, (buy, sell) in enumerate([(100, 130), (100, 120), (100, 90), (100, 105)]):
        _round_trip(config, buy, sell, start + timedelta(hours=1 + n))
    order = order_for(config)
    transition_order(order=order, status=OrderStatus.REJECTED, reason="-2010")
    # Day 2: a deposit of 500 arrives before the snapshot; day 3 loses 50.
    _equity(account, start, [1000, 1100, 1500, 1450, 1520], flows=[(2, 500)])

    result = kpis.paper_kpis(
        account_id=account.pk, config_id=config.pk, since=start, until=timezone.now()
    )

    assert result.trades == 4
    assert result.wins == 3
    assert result.win_rate == D("0.75")
    assert result.gross_profit == D(55)
    assert result.gross_loss == D(10)
    assert result.profit_factor == D("5.5")
    assert result.orders == 9  # 8 filled + 1 rejected
    assert result.error_rate == (D(1) / D(9)).quantize(D("0.000001"))
    # Unit values: 1, 1.1, 1.1 * (1500 - 500) / 1100 = 1.0, 1.0 * 1450 / 1500, * 1520 / 1450.
    units = [1.0, 1.1, 1.0, 1450 / 1500, 1520 / 1500]
    assert result.max_drawdown == D(repr((1.1 - 1450 / 1500) / 1.1)).quantize(D("0.000001"))
    returns = [b / a - 1 for a, b in itertools.pairwise(units)]
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(365)
    assert result.sharpe == D(repr(sharpe)).quantize(D("0.000001"))
    assert result.snapshots == 5
    assert result.days_with_equity == 5


def test_kpis_without_trades_or_losses():
    sync_default_symbols("paper")
    account = active_account(make_org())
    config = make_config(account)
    since = timezone.now() - DAY
    empty = kpis.paper_kpis(account_id=account.pk, config_id=config.pk, since=since,
                            until=timezone.now())  # fmt: skip
    assert empty.win_rate is None
    assert empty.profit_factor is None
    assert empty.error_rate is None
    assert empty.max_drawdown is None
    assert empty.sharpe is None
    _round_trip(config, 100, 110, since + timedelta(hours=1))
    winner = kpis.paper_kpis(account_id=account.pk, config_id=config.pk, since=since,
                             until=timezone.now())  # fmt: skip
    assert winner.profit_factor == kpis.INFINITY
    assert winner.win_rate == D(1)


# --- admin --------------------------------------------------------------------------


def test_admin_shows_each_item_and_approves_with_a_code(key_rights, client):
    scene = Scene(key_rights)
    officer = scene.officer
    officer.is_staff = True  # a member with the admin's view permission on requests
    officer.save()
    officer.user_permissions.add(Permission.objects.get(codename="view_goliverequest"))
    otp_login(client, officer, device=scene.device, fresh=False)
    page = client.get(f"/admin/trading/goliverequest/{scene.request.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    for label in ("live key verified", "daily loss limit", "alerts configured", "win rate",
                  "profit factor", "maximum drawdown", "Sharpe", "error rate"):  # fmt: skip
        assert label in text, label
    assert "NOT MET" not in text

    url = f"/admin/trading/goliverequest/{scene.request.pk}/approve/"
    refused = client.post(url, {"otp_code": "000000"})
    assert refused.status_code == 200
    assert GoLiveRequest.objects.get(pk=scene.request.pk).status == "pending"
    done = client.post(url, {"otp_code": code_for(scene.device)})
    assert done.status_code == 302
    assert GoLiveRequest.objects.get(pk=scene.request.pk).status == "approved"
