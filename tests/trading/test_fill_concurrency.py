"""Two workers reporting fills at once (stream and REST, or two orders of one config):
nothing is booked twice and one position results. Real transactions, one database
connection per thread."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.trading.models import Fill, Order, Position
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # reported below, with the thread's own traceback lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.fixture
def config():
    sync_default_symbols()
    return make_config(active_account())


def test_the_same_trade_reported_twice_at_once_is_booked_once(config):
    order = order_for(config, quantity="1")
    run_together(*(lambda: fill(order, price="100", quantity="1", trade_id=99) for _ in range(4)))
    assert Fill.objects.count() == 1
    assert Order.objects.get(pk=order.pk).executed_quantity == D("1")
    assert Position.objects.get().quantity == D("1")


def test_two_orders_of_one_config_filling_at_once_open_one_position(config):
    entry = order_for(config, quantity="1")
    pyramid = order_for(config, quantity="0.5", intent="pyramid")
    run_together(
        lambda: fill(entry, price="100", quantity="1", trade_id=1),
        lambda: fill(pyramid, price="102", quantity="0.5", trade_id=2),
    )
    position = Position.objects.get()
    assert position.quantity == D("1.5")
    assert position.cost_basis == D("151")
    assert Fill.objects.filter(position=position).count() == 2
