"""The must-show of issue 10: after an order flow against the paper exchange, /metrics
of the web process and of a real Celery worker show exactly what happened.

The test process buys through `execution.submit` (its own counters move); a real
worker then sells the position under a flattening kill switch (its counters move by
the sell, the task and the request weight); daphne, which traded nothing, exports no
order counters for the account but the same per-account risk figures the database
holds, before and after the sell.
"""

import time
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY, generate_latest

from apps.accounts.actors import Actor
from apps.accounts.models import ExchangeAccount
from apps.monitoring.account_risk import account_risks
from apps.monitoring.heartbeats import live_worker_heartbeats
from apps.monitoring.tasks import worker_heartbeat
from apps.trading import controls, execution
from apps.trading.controls_tasks import enforce_kill_switch_task
from apps.trading.models import Fill, Position
from apps.trading.services import record_equity_snapshot
from apps.trading.states import OrderStatus
from tests.monitoring.scrape import sample, scrape
from tests.trading.support import make_config, order_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
QUEUE = "h10orders"
KILL_TASK = "apps.trading.controls_tasks.enforce_kill_switch_task"
D = Decimal


@pytest.fixture
def trading_worker(trading_exchange):
    """A real solo worker on its own queue, pointed at the test's paper exchange."""
    from django.db import connection

    from tests.support.processes import VENV_BIN, ManagedProcess, child_env, database_url_for

    name = f"h10-orders-{int(time.time())}@localhost"
    worker = ManagedProcess(
        "celery-worker-orders",
        [str(VENV_BIN / "celery"), "-A", "celery_worker", "worker", "-Q", QUEUE,
         "--pool=solo", "-n", name, "--without-gossip", "--without-mingle",
         "--loglevel=INFO"],
        child_env(
            DATABASE_URL=database_url_for(connection.settings_dict),
            PAPER_EXCHANGE_URL=trading_exchange.url,
            WORKER_METRICS_PORT="0",
        ),
    )  # fmt: skip
    worker.hostname = name
    yield worker
    worker.stop()


def _worker_metrics_url(worker, wait_until) -> str:
    def advertised():
        worker_heartbeat.apply_async(kwargs={"queue": QUEUE}, queue=QUEUE)
        for beat in live_worker_heartbeats():
            if beat.hostname == worker.hostname and beat.metrics_port:
                return beat.metrics_port
        return None

    port = wait_until(advertised, timeout=60, interval=1.0, message=worker.output()[-3000:])
    return f"http://127.0.0.1:{port}/metrics"


def _local() -> str:
    return generate_latest(REGISTRY).decode()


def test_web_and_worker_metrics_move_by_exactly_the_order_flow(
    daphne_server, trading_worker, paper_account, redis_client, wait_until
):
    account = paper_account({"USDT": "100000"})
    config = make_config(account)
    acct = str(account.pk)
    web_url = f"{daphne_server.base_url}/metrics"
    worker_url = _worker_metrics_url(trading_worker, wait_until)
    wait_until(lambda: redis_client.llen(QUEUE) == 0, timeout=30)
    steady = {"text": None}

    def worker_steady():  # the discovery heartbeats have all finished
        text = scrape(worker_url)
        done = sample(text, "spotdesk_worker_heartbeats_total", queue=QUEUE)
        same = steady["text"] is not None and done == sample(
            steady["text"], "spotdesk_worker_heartbeats_total", queue=QUEUE
        )
        steady["text"] = text
        return text if same else None

    worker_before = wait_until(worker_steady, timeout=30, interval=0.5)
    local_before = _local()

    # 1. The test process buys: a market entry, sent and filled through execution.submit.
    entry = order_for(config, side="BUY", quantity="0.01", intent="entry")
    submitted = execution.submit(entry)
    assert submitted.order.status == OrderStatus.FILLED
    buys = Fill.objects.filter(order=entry).count()
    assert buys >= 1
    position = Position.objects.get(strategy_config=config, status="open")
    Position.objects.filter(pk=position.pk).update(
        stop_price=(position.average_entry_price * D("0.9")).quantize(D("0.01"))
    )
    from django.utils import timezone

    record_equity_snapshot(account=account, taken_at=timezone.now(), equity=D("100000"))

    local_after = _local()

    def local_delta(name, **labels):
        return sample(local_after, name, **labels) - sample(local_before, name, **labels)

    filled = {"account": acct, "side": "BUY", "type": "MARKET", "outcome": "filled"}
    assert local_delta("spotdesk_orders_total", **filled) == 1
    assert local_delta("spotdesk_fills_total", account=acct, side="BUY") == buys
    assert local_delta("spotdesk_order_roundtrip_seconds_count", environment="paper") == 1
    weight = {"scope": "default:paper", "account": acct, "endpoint": "POST /api/v3/order"}
    assert local_delta("spotdesk_exchange_request_weight_total", **weight) == 1

    # 2. daphne traded nothing, yet exports the account's risk as the database has it.
    (risk,) = account_risks(ExchangeAccount.objects.filter(pk=account.pk))
    web_open = scrape(web_url)
    assert sample(web_open, "spotdesk_orders_total", **filled) == 0
    assert sample(web_open, "spotdesk_account_open_positions", account=acct) == 1
    assert sample(web_open, "spotdesk_account_equity", account=acct) == 100000.0
    assert sample(web_open, "spotdesk_account_open_risk", account=acct) == pytest.approx(
        float(risk.open_risk)
    )
    assert risk.open_risk > 0
    assert sample(web_open, "spotdesk_account_heat_ratio", account=acct) == pytest.approx(
        float(risk.open_risk / D("100000"))
    )
    assert sample(web_open, "spotdesk_account_halted", account=acct) == 0

    # 3. The worker sells: a flattening kill switch, enforced by a task on the worker.
    switch = controls.engage_kill_switch(
        actor=Actor.for_system(), scope="account", account=account, flatten=True, enforce=False
    ).switch
    enforce_kill_switch_task.apply_async(args=[switch.pk], queue=QUEUE)

    def sold_and_counted():
        if Position.objects.filter(pk=position.pk, status="open").exists():
            return None
        text = scrape(worker_url)
        done = sample(text, "spotdesk_celery_tasks_total", task=KILL_TASK, outcome="success")
        return text if done >= 1 else None

    worker_after = wait_until(
        sold_and_counted, timeout=60, interval=0.5, message=trading_worker.output()[-4000:]
    )
    sells = Fill.objects.filter(account=account, side="SELL").count()
    assert sells >= 1

    def worker_delta(name, **labels):
        return sample(worker_after, name, **labels) - sample(worker_before, name, **labels)

    sold = {"account": acct, "side": "SELL", "type": "MARKET", "outcome": "filled"}
    assert worker_delta("spotdesk_orders_total", **sold) == 1
    assert worker_delta("spotdesk_orders_total", **filled) == 0  # the buy was not its
    assert worker_delta("spotdesk_fills_total", account=acct, side="SELL") == sells
    assert worker_delta("spotdesk_fills_total", account=acct, side="BUY") == 0
    assert worker_delta("spotdesk_order_roundtrip_seconds_count", environment="paper") == 1
    assert worker_delta("spotdesk_celery_tasks_total", task=KILL_TASK, outcome="success") == 1
    assert worker_delta("spotdesk_exchange_request_weight_total", **weight) == 1
    assert sample(worker_after, "spotdesk_exchange_weight_budget", scope="default:paper") > 0

    # 4. Every process now agrees the position is gone.
    web_flat = scrape(web_url)
    assert sample(web_flat, "spotdesk_account_open_positions", account=acct) == 0
    assert sample(web_flat, "spotdesk_account_open_risk", account=acct) == 0
    assert sample(worker_after, "spotdesk_account_open_positions", account=acct) == 0
