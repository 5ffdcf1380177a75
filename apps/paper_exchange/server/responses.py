"""Shapes of order and order-list responses (ACK, RESULT, FULL; cancel reports)."""

from __future__ import annotations

from apps.paper_exchange.engine.matching import random_client_id
from apps.paper_exchange.engine.models import Fill, Order, OrderList


def order_response(order: Order, fills: list[Fill], response_type: str, transact_time: int):
    ack = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
    }
    if response_type == "ACK":
        return ack
    data = {**ack, **order.report()}
    data["workingTime"] = order.working_time
    data["selfTradePreventionMode"] = order.stp_mode
    if response_type == "FULL":
        data["fills"] = [fill.order_fill() for fill in fills]
    return data


def cancel_report(order: Order, cancel_client_id: str | None, transact_time: int) -> dict:
    data = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": cancel_client_id or random_client_id(),
        "transactTime": transact_time,
    }
    report = order.report()
    report.pop("clientOrderId")
    data.update(report)
    data["selfTradePreventionMode"] = order.stp_mode
    return data


def list_status(order_list: OrderList, orders: list[Order]) -> dict:
    return {
        "orderListId": order_list.order_list_id,
        "contingencyType": order_list.contingency_type,
        "listStatusType": order_list.list_status_type,
        "listOrderStatus": order_list.list_order_status,
        "listClientOrderId": order_list.list_client_order_id,
        "transactionTime": order_list.transaction_time,
        "symbol": order_list.symbol,
        "orders": [
            {
                "symbol": order.symbol,
                "orderId": order.order_id,
                "clientOrderId": order.client_order_id,
            }
            for order in orders
        ],
    }


def list_response(
    order_list: OrderList, orders: list[Order], response_type: str, transact_time: int
) -> dict:
    data = list_status(order_list, orders)
    data["orderReports"] = [
        order_response(
            order, [], response_type if response_type != "ACK" else "RESULT", transact_time
        )
        for order in orders
    ]
    return data


def list_cancel_response(
    order_list: OrderList, orders: list[Order], cancel_client_id: str | None, transact_time: int
) -> dict:
    data = list_status(order_list, orders)
    data["orderReports"] = [
        cancel_report(order, cancel_client_id, transact_time) for order in orders
    ]
    return data
