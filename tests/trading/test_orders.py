"""The order state machine and order creation."""

from decimal import Decimal

import pytest

from apps.core.errors import ValidationError
from apps.trading.models import Order
from apps.trading.services import (
    apply_exchange_status,
    client_order_id,
    create_order,
    transition_order,
)
from apps.trading.states import TERMINAL, TRANSITIONS, IllegalTransition, OrderStatus
from tests.trading.support import active_account, make_config, order_for, sync_default_symbols

D = Decimal


def test_terminal_states_have_no_way_out():
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()
    assert OrderStatus.PENDING not in {s for targets in TRANSITIONS.values() for s in targets}


def test_client_order_ids_are_deterministic_and_fit_binance():
    first = client_order_id(account_id=1, config_id=2, trigger="c:1700", intent="entry")
    assert first == client_order_id(account_id=1, config_id=2, trigger="c:1700", intent="entry")
    assert first != client_order_id(account_id=1, config_id=2, trigger="c:1700", intent="stop")
    assert len(first) <= 36
    assert all(c.isalnum() or c in "._-:/" for c in first)


@pytest.fixture
def config(db):
    sync_default_symbols()
    return make_config(active_account())


@pytest.mark.django_db
def test_the_machine_is_enforced(config):
    order = order_for(config)
    order = transition_order(order=order, status="new", exchange_order_id=77)
    order = transition_order(order=order, status="filled")
    with pytest.raises(IllegalTransition):
        transition_order(order=order, status="new")
    assert Order.objects.get(pk=order.pk).status == "filled"


@pytest.mark.django_db
def test_older_exchange_events_are_ignored_and_contradictions_flagged(config):
    order = order_for(config)
    assert apply_exchange_status(order=order, exchange_status="NEW", update_ms=1000)
    assert apply_exchange_status(order=order, exchange_status="CANCELED", update_ms=3000)
    # A late NEW (older) changes nothing.
    assert not apply_exchange_status(order=order, exchange_status="NEW", update_ms=2000)
    order.refresh_from_db()
    assert order.status == "canceled"
    assert not order.needs_review
    # A FILLED after CANCELED cannot be: flagged, not forced.
    assert not apply_exchange_status(order=order, exchange_status="FILLED", update_ms=4000)
    order.refresh_from_db()
    assert order.status == "canceled"
    assert order.needs_review


@pytest.mark.django_db
def test_create_order_is_idempotent_and_validates(config):
    kwargs = dict(
        account=config.account,
        strategy_config=config,
        client_order_id="sd-en-abc",
        symbol="BTCUSDT",
        intent="entry",
        order_type="LIMIT",
        side="BUY",
        quantity=D("1"),
        price=D("100"),
    )
    first, created = create_order(**kwargs)
    again, created_again = create_order(**kwargs)
    assert created
    assert not created_again
    assert first.pk == again.pk
    with pytest.raises(ValidationError) as caught:
        create_order(**{**kwargs, "client_order_id": "other", "price": None})
    assert caught.value.field == "price"
    with pytest.raises(ValidationError) as caught:
        create_order(**{**kwargs, "client_order_id": "other", "quantity": D("0")})
    assert caught.value.field == "quantity"
    assert Order.objects.count() == 1
