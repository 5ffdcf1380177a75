"""Order placement under unknown outcomes: exactly one exchange order per intent."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from apps.exchange.filters import OrderIntent, quantize_order
from apps.exchange.orders import UNKNOWN, place_order, validate_client_order_id

SYMBOL = "BTCUSDT"


def _far_buy(gateway, quantity="0.001"):
    rules = gateway.symbol_rules(SYMBOL)
    average = Decimal(gateway.avg_price(SYMBOL)["price"])
    # Far below the market: the order rests, so every order stays visible as open.
    return quantize_order(
        rules,
        OrderIntent("BUY", "LIMIT", Decimal(quantity), average * Decimal("0.5")),
        average_price=average,
    )


def _run_intents(make_gateway, paper_credentials, accounts, per_account):
    """One thread per account, each placing its intents in order; returns outcomes."""
    outcomes: dict[str, list] = {}
    errors: list[BaseException] = []
    setups = []
    for index in range(accounts):
        credentials, _ = paper_credentials({"USDT": "10000000"})
        setups.append((f"acct{index:02d}", credentials))
    seed_gateway = make_gateway()
    order = _far_buy(seed_gateway)
    # Beat keeps the clock offset measured; without it every thread's first signed
    # request measures it at once (5 samples each, 1 s timeout on a loaded machine).
    seed_gateway.sync_time()

    def work(account_id, credentials):
        gateway = make_gateway(credentials, account_id=account_id)
        results = []
        try:
            for number in range(per_account):
                client_id = f"{account_id}-intent-{number:04d}"
                results.append(
                    place_order(
                        gateway,
                        SYMBOL,
                        order,
                        client_id,
                        confirm_resend=lambda: True,
                        grace_seconds=0.3,
                        deadline_seconds=20,
                        query_interval=0.05,
                    )
                )
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        outcomes[account_id] = (gateway, results)

    threads = [threading.Thread(target=work, args=setup) for setup in setups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert not errors, errors
    return outcomes


def _assert_exactly_once(outcomes, per_account):
    total = 0
    for account_id, (gateway, results) in outcomes.items():
        assert [r.status for r in results].count(UNKNOWN) == 0
        open_orders = gateway.open_orders(SYMBOL)
        ids = [item["clientOrderId"] for item in open_orders]
        expected = {f"{account_id}-intent-{n:04d}" for n in range(per_account)}
        assert len(ids) == len(set(ids)), f"{account_id}: doubled orders"
        assert set(ids) == expected, f"{account_id}: lost {expected - set(ids)}"
        total += len(ids)
    return total


def test_one_thousand_intents_over_25_accounts_with_unknown_outcomes(
    fault_proxy, make_gateway, paper_credentials, settings
):
    """20% of order requests are accepted but answered as failed (503, 500 or a timeout);
    2% more never reach the exchange. Exactly 1,000 orders must exist afterwards."""
    settings.EXCHANGE_REQUEST_TIMEOUT = 1.0
    plan = fault_proxy.plan
    plan.unknown_order_rate = 0.2
    plan.lost_order_rate = 0.02
    plan.timeout_delay = 1.3
    outcomes = _run_intents(make_gateway, paper_credentials, 25, 40)
    plan.unknown_order_rate = plan.lost_order_rate = 0
    assert _assert_exactly_once(outcomes, 40) == 1000
    accepted_unknown = sum(
        plan.injected[k] for k in ("accepted_503", "accepted_500", "accepted_timeout")
    )
    assert accepted_unknown >= 150
    assert plan.injected["lost_503"] >= 5
    results = [r for _, rs in outcomes.values() for r in rs]
    # Every accepted-but-failed send was settled by a query, never by a second order;
    # only the lost ones were resent (same client id).
    assert sum(r.resolved_by_query for r in results) >= accepted_unknown
    assert sum(r.sends - 1 for r in results) == plan.injected["lost_503"]


def test_unresolvable_order_is_reported_unknown_without_resending(
    fault_proxy, make_gateway, paper_credentials
):
    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="lonely")
    order = _far_buy(gateway)
    fault_proxy.plan.lost_order_rate = 1.0
    outcome = place_order(
        gateway,
        SYMBOL,
        order,
        "lost-no-confirm",
        confirm_resend=lambda: False,
        grace_seconds=0.2,
        deadline_seconds=2,
        query_interval=0.05,
    )
    fault_proxy.plan.lost_order_rate = 0
    assert outcome.status == UNKNOWN
    assert outcome.sends == 1
    assert gateway.open_orders(SYMBOL) == []


def test_client_order_id_rules():
    assert validate_client_order_id("acct:1/strategy_2.x-3") == "acct:1/strategy_2.x-3"
    for bad in ["", "x" * 37, "has space", "émoji"]:
        with pytest.raises(Exception, match="client_order_id"):
            validate_client_order_id(bad)


def test_oco_with_an_unknown_outcome_is_resolved_by_its_list_id(
    fault_proxy, make_gateway, paper_credentials
):
    from apps.core.decimals import to_wire
    from apps.exchange.orders import place_order_list

    credentials, _ = paper_credentials({"BTC": "1", "USDT": "1000"})
    gateway = make_gateway(credentials, account_id="oco-1")
    rules = gateway.symbol_rules(SYMBOL)
    average = Decimal(gateway.avg_price(SYMBOL)["price"])
    tick = rules.price.tick_size
    take_profit = (average * Decimal("1.2") / tick).to_integral_value() * tick
    stop = (average * Decimal("0.8") / tick).to_integral_value() * tick
    params = {
        "symbol": SYMBOL,
        "side": "SELL",
        "quantity": "0.01",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": to_wire(take_profit),
        "aboveClientOrderId": "oco-1-tp",
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": to_wire(stop),
        "belowPrice": to_wire(stop - 10 * tick),
        "belowTimeInForce": "GTC",
        "belowClientOrderId": "oco-1-sl",
    }
    fault_proxy.plan.unknown_order_rate = 1.0  # accepted, answered as failed
    fault_proxy.plan.include_timeouts = False
    path = "/api/v3/orderList/oco"
    fault_proxy.plan.order_paths = (path,)
    outcome = place_order_list(
        gateway,
        path,
        params,
        "oco-1-list",
        confirm_resend=lambda: True,
        grace_seconds=0.3,
        deadline_seconds=5,
        query_interval=0.05,
    )
    fault_proxy.plan.unknown_order_rate = 0
    assert outcome.status == "placed"
    assert outcome.resolved_by_query
    assert outcome.sends == 1
    assert outcome.order["listClientOrderId"] == "oco-1-list"
    open_ids = sorted(o["clientOrderId"] for o in gateway.open_orders(SYMBOL))
    assert open_ids == ["oco-1-sl", "oco-1-tp"]


def test_a_redelivered_intent_is_found_not_sent_again(fault_proxy, make_gateway, paper_credentials):
    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="redelivered")
    order = _far_buy(gateway)
    assert place_order(gateway, SYMBOL, order, "redelivered-1").sends == 1
    # The task ran again after a crash: query first, nothing sent.
    again = place_order(gateway, SYMBOL, order, "redelivered-1", query_first=True)
    assert again.sends == 0
    assert again.resolved_by_query
    # Without query_first, Binance's duplicate-id answer also resolves to the open order.
    fault_proxy.plan.duplicate_rejections = 1
    duplicate = place_order(gateway, SYMBOL, order, "redelivered-1")
    assert duplicate.status == "placed"
    assert duplicate.resolved_by_query
    assert fault_proxy.plan.injected["duplicate_2010"] == 1
    assert [o["clientOrderId"] for o in gateway.open_orders(SYMBOL)] == ["redelivered-1"]
