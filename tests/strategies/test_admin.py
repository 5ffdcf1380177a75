"""Strategy configurations in the admin: writes go through the services, errors land
on the field they name; trading records are read-only."""

import pytest

from apps.audit.models import AuditEvent
from apps.strategies.models import StrategyConfig
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client):
    sync_default_symbols()
    organization = make_org()
    account = active_account(organization)
    trader = member(organization, "trader")
    trader.is_staff = True
    trader.save()
    from django.contrib.auth.models import Permission

    trader.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["strategies", "trading"])
    )
    otp_login(client, trader)
    return account, trader


def post(client, account, **overrides):
    data = {
        "account": account.pk,
        "name": "trend BTC",
        "strategy": "trend_following",
        "symbols_text": "btcusdt, ETHUSDT",
        "interval": "1h",
        "params": '{"fast": 8}',
        **overrides,
    }
    return client.post("/admin/strategies/strategyconfig/add/", data)


def test_adding_a_config_goes_through_the_service(client, setup):
    account, trader = setup
    response = post(client, account)
    assert response.status_code == 302
    config = StrategyConfig.objects.get()
    assert config.symbols == ["BTCUSDT", "ETHUSDT"]
    assert config.params["fast"] == 8
    assert AuditEvent.objects.filter(action="strategy_config.created", actor_id=trader.pk).exists()


def test_a_broken_parameter_is_shown_on_the_parameters_field(client, setup):
    account, _ = setup
    response = post(client, account, params='{"fast": 0}')
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "params" in errors
    assert "params.fast" in errors["params"][0]
    response = post(client, account, symbols_text="BTCUSDT, NOPEUSDT")
    assert "symbols_text" in response.context["adminform"].form.errors
    assert not StrategyConfig.objects.exists()


def test_pause_and_resume_actions(client, setup):
    account, _ = setup
    config = make_config(account)
    url = "/admin/strategies/strategyconfig/"
    client.post(url, {"action": "resume", "_selected_action": [config.pk]})
    config.refresh_from_db()
    assert config.enabled
    client.post(url, {"action": "pause", "_selected_action": [config.pk]})
    config.refresh_from_db()
    assert not config.enabled


def test_trading_records_are_read_only(client, setup):
    account, _ = setup
    config = make_config(account)
    record, _ = fill(order_for(config), price="100", quantity="1")
    assert client.get("/admin/trading/order/add/").status_code == 403
    page = client.get(f"/admin/trading/fill/{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="price"' not in page.content  # shown, not editable
    response = client.post(f"/admin/trading/fill/{record.pk}/change/", {"price": "1"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert str(record.price).startswith("100")
