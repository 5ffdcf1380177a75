"""Controls: kill switches (block entries, cancel resting entries on the paper exchange,
keep stops, flatten without touching the reserve), manual position actions, and the
automatic halt that only a risk officer with a fresh code lifts."""

from decimal import Decimal

import pytest

from apps.accounts.actors import Actor, StepUpRequired
from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, ValidationError
from apps.exchange.for_account import gateway_for_account
from apps.monitoring.models import Alert
from apps.trading import controls, execution
from apps.trading.models import KillSwitch, Order, Position
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from tests.accounts.factories import code_for, make_org, member, totp_device, unverified, verified
from tests.trading.support import active_account, make_config

pytestmark = [pytest.mark.django_db(transaction=True)]

D = Decimal
SYSTEM = Actor.for_system()


def _price(gateway, symbol="BTCUSDT") -> Decimal:
    answer = gateway.request("GET", "/api/v3/ticker/price", {"symbol": symbol}, signed=False)
    return D(answer["price"])


def _send(config, cid, **fields) -> Order:
    fields.setdefault("symbol", "BTCUSDT")
    order, _ = create_order(
        account=config.account, strategy_config=config, client_order_id=cid, **fields
    )
    return execution.submit(order).order


def _open_position(config, cid, quantity="0.01") -> Position:
    entry = _send(config, cid, intent="entry", order_type="MARKET", side="BUY", quantity=quantity)
    assert entry.status == OrderStatus.FILLED, entry.status_reason
    return Position.objects.get(strategy_config=config, status="open")


def _exchange_open_ids(account) -> set[str]:
    return {o["clientOrderId"] for o in gateway_for_account(account).open_orders("BTCUSDT")}


# --- kill_switch_reason per scope (no exchange needed: nothing rests) -------------------


@pytest.mark.usefixtures("redis_client")
def test_account_switch_blocks_only_that_account_until_released():
    org = make_org()
    account, other = active_account(org), active_account(org)
    report = controls.engage_kill_switch(
        actor=SYSTEM, scope="account", account=account, reason="fat finger"
    )
    assert "account kill switch" in controls.kill_switch_reason(account)
    assert "fat finger" in controls.kill_switch_reason(account)
    assert controls.kill_switch_reason(other) is None
    # Pressing again finds the engaged switch.
    again = controls.engage_kill_switch(actor=SYSTEM, scope="account", account=account)
    assert again.switch.pk == report.switch.pk
    assert KillSwitch.objects.filter(account=account).count() == 1
    assert Alert.objects.filter(event="kill_switch_engaged", organization=org).count() == 1
    assert AuditEvent.objects.filter(action="kill_switch.engaged").count() == 1

    controls.release_kill_switch(actor=SYSTEM, switch=report.switch)
    assert controls.kill_switch_reason(account) is None


@pytest.mark.usefixtures("redis_client")
def test_organization_switch_blocks_its_accounts_and_no_others():
    org, elsewhere = make_org(), make_org()
    first, second, foreign = active_account(org), active_account(org), active_account(elsewhere)
    trader = member(org, "viewer")  # any member may press: viewers too
    controls.engage_kill_switch(actor=verified(trader), scope="organization", organization=org)
    assert controls.kill_switch_reason(first).startswith("organization kill switch")
    assert controls.kill_switch_reason(second) is not None
    assert controls.kill_switch_reason(foreign) is None
    # A member of another organization cannot press this one.
    outsider = member(elsewhere, "admin")
    with pytest.raises(NotFound):
        controls.engage_kill_switch(
            actor=verified(outsider), scope="organization", organization=org
        )


@pytest.mark.usefixtures("redis_client")
def test_global_switch_blocks_every_account_and_is_for_platform_staff_only():
    a, b = active_account(make_org()), active_account(make_org())
    org_admin = member(a.organization, "admin")
    with pytest.raises(PermissionDenied):
        controls.engage_kill_switch(actor=verified(org_admin), scope="global")
    assert controls.kill_switch_reason(a) is None
    controls.engage_kill_switch(actor=SYSTEM, scope="global", reason="exchange incident")
    assert "global kill switch" in controls.kill_switch_reason(a)
    assert controls.kill_switch_reason(b) is not None


def test_scope_needs_its_target():
    with pytest.raises(ValidationError) as caught:
        controls.engage_kill_switch(actor=SYSTEM, scope="account")
    assert caught.value.field == "account"
    with pytest.raises(ValidationError) as caught:
        controls.engage_kill_switch(actor=SYSTEM, scope="planet")
    assert caught.value.field == "scope"
    assert not KillSwitch.objects.exists()


@pytest.mark.usefixtures("redis_client")
def test_release_needs_the_risk_role_and_a_fresh_second_factor():
    org = make_org()
    account = active_account(org)
    viewer, officer = member(org, "viewer"), member(org, "risk_officer")
    switch = controls.engage_kill_switch(
        actor=unverified(viewer),
        scope="account",
        account=account,  # no step-up to press
    ).switch
    with pytest.raises(PermissionDenied):
        controls.release_kill_switch(actor=verified(viewer), switch=switch)
    with pytest.raises(StepUpRequired):
        controls.release_kill_switch(actor=unverified(officer), switch=switch)
    with pytest.raises(ValidationError) as caught:
        controls.release_kill_switch(actor=unverified(officer), switch=switch, otp_code="000000")
    assert caught.value.field == "otp_code"
    assert controls.kill_switch_reason(account) is not None

    device = totp_device(officer)
    released = controls.release_kill_switch(
        actor=unverified(officer), switch=switch, otp_code=code_for(device)
    )
    assert released.released_by == officer.username
    assert controls.kill_switch_reason(account) is None
    assert AuditEvent.objects.filter(action="kill_switch.released").count() == 1


# --- enforcement on the paper exchange ------------------------------------------------


def test_kill_switch_cancels_the_resting_entry_and_keeps_the_stop(paper_account):
    config = make_config(paper_account())
    account = config.account
    position = _open_position(config, "ks-entry-fill")
    price = _price(gateway_for_account(account))
    entry = _send(
        config, "ks-entry-rest", intent="entry", order_type="LIMIT", side="BUY",
        quantity="0.01", price=(price * D("0.9")).quantize(D("0.01")), time_in_force="GTC",
    )  # fmt: skip
    stop_at = (price * D("0.8")).quantize(D("0.01"))
    stop = _send(
        config, "ks-stop-rest", intent="stop", order_type="STOP_LOSS_LIMIT", side="SELL",
        quantity="0.005", price=stop_at - D("1"), stop_price=stop_at, time_in_force="GTC",
        position=position,
    )  # fmt: skip
    assert entry.status == OrderStatus.NEW
    assert stop.status == OrderStatus.NEW
    assert {"ks-entry-rest", "ks-stop-rest"} <= _exchange_open_ids(account)

    report = controls.engage_kill_switch(
        actor=SYSTEM, scope="account", account=account, reason="test"
    )

    assert report.canceled == ["ks-entry-rest"]
    assert not report.failures
    open_ids = _exchange_open_ids(account)
    assert "ks-entry-rest" not in open_ids
    assert "ks-stop-rest" in open_ids
    entry.refresh_from_db(), stop.refresh_from_db()
    assert entry.status == OrderStatus.CANCELED
    assert stop.status == OrderStatus.NEW
    assert Position.objects.get(pk=position.pk).status == "open"


def test_organization_switch_cancels_entries_of_each_account(paper_account):
    org = make_org()
    configs = [make_config(paper_account(organization=org)) for _ in range(2)]
    for n, config in enumerate(configs):
        price = _price(gateway_for_account(config.account))
        _send(
            config, f"ks-org-{n}", intent="entry", order_type="LIMIT", side="BUY",
            quantity="0.01", price=(price * D("0.9")).quantize(D("0.01")), time_in_force="GTC",
        )  # fmt: skip
    report = controls.engage_kill_switch(actor=SYSTEM, scope="organization", organization=org)
    assert sorted(report.canceled) == ["ks-org-0", "ks-org-1"]
    for config in configs:
        assert not _exchange_open_ids(config.account)


def test_a_pending_entry_never_sent_is_closed_so_it_never_leaves(paper_account):
    config = make_config(paper_account())
    order, _ = create_order(
        account=config.account, strategy_config=config, client_order_id="ks-unsent",
        symbol="BTCUSDT", intent="entry", order_type="MARKET", side="BUY", quantity="0.01",
    )  # fmt: skip
    controls.engage_kill_switch(actor=SYSTEM, scope="account", account=config.account)
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert execution.submit(order).order.status == OrderStatus.REJECTED  # nothing sent


def test_flatten_sells_the_position_and_not_the_reserve(paper_account):
    account = paper_account({"USDT": "100000", "BTC": "0.5"})
    config = make_config(account)
    position = _open_position(config, "ks-flat-entry", quantity="0.02")
    held = position.quantity

    report = controls.engage_kill_switch(
        actor=SYSTEM, scope="account", account=account, flatten=True, reason="flatten test"
    )

    assert len(report.exits) == 1, report.failures
    exit_order = Order.objects.get(client_order_id=report.exits[0])
    assert exit_order.status == OrderStatus.FILLED
    assert exit_order.quantity <= held
    position.refresh_from_db()
    assert position.status == "closed" or position.quantity < D("0.00001")
    balances = {b["asset"]: b for b in gateway_for_account(account).account()["balances"]}
    btc = D(balances["BTC"]["free"]) + D(balances["BTC"]["locked"])
    assert D("0.5") <= btc < D("0.5") + D("0.00001")  # the reserve stays, only dust beside it


# --- manual actions on a position -------------------------------------------------------


def test_move_stop_names_the_field_for_each_broken_rule(paper_account):
    config = make_config(paper_account())
    position = _open_position(config, "ms-entry")
    price = _price(gateway_for_account(config.account))
    trader = member(config.account.organization, "trader")
    for bad in ("0", "-5", "abc", str(price), str(price + 100)):
        with pytest.raises(ValidationError) as caught:
            controls.move_stop(actor=verified(trader), position=position, stop_price=bad)
        assert caught.value.field == "stop_price", bad
    position.refresh_from_db()
    assert position.stop_price is None
    assert not AuditEvent.objects.filter(action="position.stop_moved").exists()
    viewer = member(config.account.organization, "viewer")
    with pytest.raises(PermissionDenied):
        controls.move_stop(actor=verified(viewer), position=position, stop_price="1")


def test_move_stop_sets_it_and_the_exchange_holds_a_stop_there(paper_account):
    config = make_config(paper_account())
    position = _open_position(config, "ms-ok-entry")
    price = _price(gateway_for_account(config.account))
    stop = (price * D("0.85")).quantize(D("0.01"))
    controls.move_stop(actor=SYSTEM, position=position, stop_price=str(stop))
    position.refresh_from_db()
    assert position.stop_price == stop
    stops = Order.objects.filter(position=position, intent="stop", status=OrderStatus.NEW)
    assert stops.exists()
    assert all(o.stop_price == stop for o in stops)
    assert stops.first().client_order_id in _exchange_open_ids(config.account)
    event = AuditEvent.objects.get(action="position.stop_moved")
    assert event.changes["stop_price"]["after"] == str(stop)


def test_close_now_sells_the_position_and_is_audited(paper_account):
    account = paper_account({"USDT": "100000", "BTC": "0.3"})
    config = make_config(account)
    position = _open_position(config, "close-entry")
    order = controls.close_position(actor=SYSTEM, position=position)
    assert order.intent == "exit"
    assert order.status == OrderStatus.FILLED
    assert order.quantity <= position.quantity
    assert AuditEvent.objects.filter(action="position.closed_manually").count() == 1


def test_cancel_ladder_leaves_only_the_stop(paper_account):
    config = make_config(paper_account())
    position = _open_position(config, "ladder-entry")
    price = _price(gateway_for_account(config.account))
    controls.move_stop(
        actor=SYSTEM, position=position, stop_price=str((price * D("0.9")).quantize(D("0.01")))
    )
    assert Order.objects.filter(position=position, intent="take_profit", status="new").exists()

    controls.cancel_ladder(actor=SYSTEM, position=position)

    position.refresh_from_db()
    assert position.ladder_canceled
    live = Order.objects.filter(position=position, status__in=["new", "partially_filled"])
    assert not live.filter(intent="take_profit").exists()
    assert live.filter(intent="stop").exists()
    assert AuditEvent.objects.filter(action="position.ladder_canceled").count() == 1


# --- automatic halt -------------------------------------------------------------------


def test_system_halt_alerts_and_only_a_risk_officer_with_a_code_resumes():
    org = make_org()
    account = active_account(org)
    assert controls.halt_account(account=account, reason="max drawdown 15% reached",
                                 source="drawdown_breaker")  # fmt: skip
    account.refresh_from_db()
    assert account.status == AccountStatus.HALTED
    alert = Alert.objects.get(event="account_halted")
    assert alert.organization_id == org.pk
    assert "max drawdown" in alert.message
    event = AuditEvent.objects.get(action="exchange_account.halted")
    assert event.changes["reason"] == "max drawdown 15% reached"
    # Halting again changes nothing and alerts no more.
    assert controls.halt_account(account=account, reason="again") is False
    assert Alert.objects.filter(event="account_halted").count() == 1

    trader = member(org, "trader")
    trader_device = totp_device(trader)
    with pytest.raises(PermissionDenied):
        controls.resume_halted_account(
            actor=unverified(trader), account=account, otp_code=code_for(trader_device)
        )
    officer = member(org, "risk_officer")
    device = totp_device(officer)
    with pytest.raises(StepUpRequired):
        controls.resume_halted_account(actor=unverified(officer), account=account, otp_code="")
    with pytest.raises(ValidationError):
        controls.resume_halted_account(
            actor=unverified(officer), account=account, otp_code="123456"
        )
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.HALTED

    controls.resume_halted_account(
        actor=unverified(officer), account=account, otp_code=code_for(device)
    )
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


# --- admin --------------------------------------------------------------------------


@pytest.mark.usefixtures("redis_client")
def test_admin_add_form_engages_an_organization_switch(client):
    from tests.accounts.factories import make_user, otp_login

    org = make_org()
    account = active_account(org)
    otp_login(client, make_user(superuser=True))
    response = client.post(
        "/admin/trading/killswitch/add/",
        {"scope": "organization", "organization": org.pk, "reason": "desk drill"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    switch = KillSwitch.objects.get(scope="organization")
    assert switch.organization_id == org.pk
    assert "desk drill" in controls.kill_switch_reason(account)
    page = client.get("/admin/accounts/exchangeaccount/")
    assert "engage_kill_switch_flatten" in page.content.decode()


def test_the_enforcement_task_cancels_after_a_record_only_engage(paper_account):
    from apps.trading.controls_tasks import enforce_kill_switch_task

    config = make_config(paper_account())
    price = _price(gateway_for_account(config.account))
    _send(
        config, "ks-task-entry", intent="entry", order_type="LIMIT", side="BUY",
        quantity="0.01", price=(price * D("0.9")).quantize(D("0.01")), time_in_force="GTC",
    )  # fmt: skip
    switch = controls.engage_kill_switch(
        actor=SYSTEM, scope="global", enforce=False, reason="incident"
    ).switch
    assert "ks-task-entry" in _exchange_open_ids(config.account)  # only recorded so far
    assert enforce_kill_switch_task.run(switch.pk) == {"canceled": 1, "exits": 0, "failures": 0}
    assert "ks-task-entry" not in _exchange_open_ids(config.account)
    assert enforce_kill_switch_task.run(switch.pk)["canceled"] == 0  # idempotent
