"""Binance error payloads: one exception type carrying the HTTP status, code and message.

Messages follow errors.md of binance-spot-api-docs so that clients which match on the
text (and people reading logs) see what production would send.
"""

from __future__ import annotations

DECIMAL_REGEX = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
CLIENT_ID_REGEX = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


class ApiError(Exception):
    """An error answered as ``{"code": N, "msg": "..."}`` with an HTTP status."""

    def __init__(
        self,
        code: int,
        msg: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        data: dict | None = None,
    ):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}
        self.data = data

    def payload(self) -> dict:
        body: dict = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


# 10xx -----------------------------------------------------------------------------


def unknown(msg: str = "An unknown error occurred while processing the request.") -> ApiError:
    return ApiError(-1000, msg, status=500)


def too_much_weight(limit: int, interval: str, retry_after: int) -> ApiError:
    return ApiError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per "
        f"{interval}. Please use WebSocket Streams for live updates to avoid polling the API.",
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def too_many_requests(limit: int, interval: str, retry_after: int) -> ApiError:
    return ApiError(
        -1003,
        f"Too many requests; current limit is {limit} requests per {interval}.",
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def ip_banned(until_ms: int, retry_after: int) -> ApiError:
    return ApiError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        status=418,
        headers={"Retry-After": str(retry_after)},
    )


def too_many_orders(limit: int, interval: str, retry_after: int) -> ApiError:
    return ApiError(
        -1015,
        f"Too many new orders; current limit is {limit} orders per {interval}.",
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def timestamp_outside_window() -> ApiError:
    return ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> ApiError:
    return ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def invalid_signature() -> ApiError:
    return ApiError(-1022, "Signature for this request is not valid.")


# 11xx -----------------------------------------------------------------------------


def illegal_chars(name: str, legal_range: str) -> ApiError:
    return ApiError(
        -1100,
        f"Illegal characters found in parameter '{name}'; legal range is '{legal_range}'.",
    )


def duplicate_parameter() -> ApiError:
    return ApiError(-1101, "Duplicate values for a parameter detected.")


def mandatory(name: str) -> ApiError:
    return ApiError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def one_of_mandatory(first: str, second: str) -> ApiError:
    return ApiError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def greater_than(name: str, maximum: int | str) -> ApiError:
    return ApiError(-1102, f"'{name}' contains unexpected value. Cannot be greater than {maximum}.")


def param_not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def too_much_precision(name: str) -> ApiError:
    return ApiError(-1111, f"Parameter '{name}' has too much precision.")


def tif_not_required() -> ApiError:
    return ApiError(-1114, "TimeInForce parameter sent when not required.")


def invalid_tif() -> ApiError:
    return ApiError(-1115, "Invalid timeInForce.")


def invalid_order_type() -> ApiError:
    return ApiError(-1116, "Invalid orderType.")


def invalid_side() -> ApiError:
    return ApiError(-1117, "Invalid side.")


def bad_interval() -> ApiError:
    return ApiError(-1120, "Invalid interval.")


def invalid_symbol() -> ApiError:
    return ApiError(-1121, "Invalid symbol.")


def lookup_interval_too_big(hours: int) -> ApiError:
    return ApiError(-1127, f"More than {hours} hours between startTime and endTime.")


def invalid_parameter(name: str) -> ApiError:
    return ApiError(-1130, f"Data sent for parameter '{name}' is not valid.")


def bad_strategy_type() -> ApiError:
    return ApiError(-1134, "`strategyType` was less than 1000000.")


def invalid_cancel_restrictions() -> ApiError:
    return ApiError(-1145, "Invalid cancelRestrictions")


def duplicate_symbols() -> ApiError:
    return ApiError(-1151, "Symbol is present multiple times in the list.")


def oco_order_type_rejected() -> ApiError:
    return ApiError(-1158, "Order type not supported in OCO.")


# 20xx -----------------------------------------------------------------------------


def new_order_rejected(msg: str) -> ApiError:
    return ApiError(-2010, msg)


def cancel_rejected(msg: str = "Unknown order sent.") -> ApiError:
    return ApiError(-2011, msg)


def no_such_order() -> ApiError:
    return ApiError(-2013, "Order does not exist.")


def bad_api_key_format() -> ApiError:
    return ApiError(-2014, "API-key format invalid.", status=401)


def rejected_api_key() -> ApiError:
    return ApiError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def client_order_id_mismatch() -> ApiError:
    return ApiError(-2039, "Client order ID is not correct for this order ID.")


def filter_failure(name: str) -> ApiError:
    return ApiError(-1013, f"Filter failure: {name}")


def invalid_message(msg: str) -> ApiError:
    return ApiError(-1013, msg)


# Matching-engine rejection texts (errors.md, "Messages for -1010, -2010, -2011").
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
MARKET_CLOSED = "Market is closed."
WOULD_TRIGGER_IMMEDIATELY = "Order would trigger immediately."
WOULD_TAKE = "Order would immediately match and take."
OCO_PRICE_RELATIONSHIP = "The relationship of the prices for the orders is not correct."
UNKNOWN_ORDER = "Unknown order sent."
CANCEL_RESTRICTED = "Order was not canceled due to cancel restrictions."
UNSUPPORTED_COMBINATION = "Unsupported order combination"
NO_LIQUIDITY = "Order book liquidity is less than symbol minimum quantity."
PRICE_QTY_ZERO = "Price * QTY is zero or less."
TRADING_DISABLED = "This account may not place or cancel orders."
