"""User data on the real stream: the paper exchange's WebSocket API delivers
executionReport, balanceUpdate and outboundAccountPosition events to a running
UserDataShard, which books them once whatever REST already booked."""

import asyncio
import contextlib
import threading
from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.trading import execution
from apps.trading.models import CashFlow, Fill, Order
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from apps.trading.userdata import handle_event, latest_balances
from apps.trading.userdata_shard import UserDataShard, account_shard
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

D = Decimal


@contextlib.contextmanager
def running(shard: UserDataShard):
    """The shard on its own event loop in a thread, as run_streams runs it."""
    started = threading.Event()
    holder = {}

    async def main():
        holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        await shard.run(holder["stop"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        yield shard
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(20)


def _subscribed(shard, account_id) -> bool:
    sessions = shard.sessions._sessions
    return account_id in shard.followed and any(
        account_id in session.subscriptions.values() for session in sessions
    )


def _trade_ids(gateway, order_id):
    trades = gateway.request(
        "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": order_id}, signed=True
    )
    return sorted(int(t["id"]) for t in trades)


def test_stream_books_fills_once_adopts_and_records_deposits(
    paper_account, exchange_admin, wait_until
):
    account = paper_account({"USDT": "100000"})
    config = make_config(account)
    gateway = gateway_for_account(account)
    shard = UserDataShard(environment="paper", refresh_seconds=0.5, reconcile=False)

    with running(shard):
        wait_until(lambda: _subscribed(shard, account.pk), message="not subscribed")

        # Our entry: REST books its fills from the FULL answer, the stream reports them too.
        order, _ = create_order(
            account=account,
            strategy_config=config,
            client_order_id="ud-entry-1",
            symbol="BTCUSDT",
            intent="entry",
            order_type="MARKET",
            side="BUY",
            quantity="0.01",
        )
        placed = execution.submit(order).order
        assert placed.status == OrderStatus.FILLED
        # An order placed outside Spotdesk: only the stream tells us about it.
        manual = gateway.request(
            "POST",
            "/api/v3/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.002",
                "newClientOrderId": "ud-manual-1",
            },
            signed=True,
        )
        adopted = wait_until(
            lambda: (
                Order.objects.filter(account=account, client_order_id="ud-manual-1")
                .exclude(status=OrderStatus.PENDING)
                .first()
            ),
            message="external order not adopted from the stream",
        )
        wait_until(
            lambda: (
                Fill.objects.filter(order=adopted).count()
                == len(_trade_ids(gateway, manual["orderId"]))
            )
        )
        # Money arrives: a balanceUpdate on the stream.
        response = exchange_admin.session.post(
            f"{exchange_admin.url}/admin/balances",
            json={"accountId": account.paper_key["accountId"], "balances": {"ETH": "2.5"}},
            timeout=10,
        )
        response.raise_for_status()
        flow = wait_until(lambda: CashFlow.objects.filter(account=account).first())
        wait_until(lambda: "ETH" in latest_balances(account.pk))

    # Each trade of our entry is booked exactly once, by whichever channel came first.
    entry_fills = sorted(
        Fill.objects.filter(order=placed).values_list("exchange_trade_id", flat=True)
    )
    assert entry_fills == _trade_ids(gateway, placed.exchange_order_id)
    adopted.refresh_from_db()
    assert adopted.external
    assert adopted.strategy_config_id is None
    assert adopted.status == OrderStatus.FILLED
    assert set(Fill.objects.filter(order=adopted).values_list("source", flat=True)) == {"stream"}
    assert not Fill.objects.filter(order=adopted).exclude(position=None).exists()
    assert flow.kind == CashFlow.Kind.DEPOSIT
    assert (flow.asset, flow.amount) == ("ETH", D("2.5"))
    assert flow.value > 0  # valued at the ETHUSDT price of that time
    assert latest_balances(account.pk)["ETH"] == (D("2.5"), D(0))


def test_the_same_event_twice_changes_nothing(paper_account):
    account = paper_account()
    event = {
        "e": "balanceUpdate",
        "E": 1_800_000_000_000,
        "a": "USDT",
        "d": "-40.5",
        "T": 1_800_000_000_000,
    }
    assert handle_event(account, event) == "cash_flow"
    assert handle_event(account.pk, dict(event)) == "duplicate"
    flow = CashFlow.objects.get(account=account)
    assert flow.kind == CashFlow.Kind.WITHDRAWAL
    assert flow.amount == D("-40.5")
    assert flow.value == D("-40.5")


def test_accounts_are_split_between_shards_stably():
    owners = {account_shard(account_id, 4) for account_id in range(1, 200)}
    assert owners == {0, 1, 2, 3}
    assert account_shard(17, 4) == account_shard(17, 4)
