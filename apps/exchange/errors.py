"""Binance's error codes and HTTP statuses mapped to what the caller should do.

Every gateway call raises one of these (never a python-binance or requests exception):

- `TemporaryExchangeError`: nothing happened; trying again later may work.
- `RateLimitedError` (429, -1003, -1015) and its `IpBannedError` (418): stop sending.
- `InvalidOrderError` (filters, balance, would trigger immediately, bad parameters).
- `AuthenticationError` (key, signature, IP whitelist or permissions).
- `UncertainOutcomeError` (timeout, some 5xx, -1001, -1006, -1007): a write may or
  may not have taken effect, so it must be resolved by querying, never resent blind.
- `OrderNotFoundError` (-2013), `TimestampError` (-1021: resync the clock, retry).

Codes: https://developers.binance.com/docs/binance-spot-api-docs/errors
"""

from __future__ import annotations

import requests

from apps.core.errors import ExchangeError, UncertainOutcomeError

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "DuplicateOrderError",
    "ExchangeError",
    "ExchangeUnavailableError",
    "InsufficientBalanceError",
    "InvalidOrderError",
    "IpBannedError",
    "OrderNotFoundError",
    "RateLimitedError",
    "TemporaryExchangeError",
    "TimestampError",
    "UncertainOutcomeError",
    "WouldTriggerImmediatelyError",
    "map_api_error",
    "map_transport_error",
]


class TemporaryExchangeError(ExchangeError):
    code = "exchange_temporary"

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)


class TimestampError(TemporaryExchangeError):
    """-1021: our clock is off or the request was late; resync, then retry."""

    code = "exchange_timestamp"


class RateLimitedError(ExchangeError):
    """Too much weight or too many orders: wait `retry_after` seconds (None: unknown)."""

    code = "exchange_rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class IpBannedError(RateLimitedError):
    code = "exchange_ip_banned"


class InvalidOrderError(ExchangeError):
    """The exchange refused the order; sending it again unchanged would fail again."""

    code = "exchange_invalid_order"


class InsufficientBalanceError(InvalidOrderError):
    code = "exchange_insufficient_balance"


class WouldTriggerImmediatelyError(InvalidOrderError):
    code = "exchange_would_trigger"


class BadRequestError(ExchangeError):
    code = "exchange_bad_request"


class AuthenticationError(ExchangeError):
    code = "exchange_authentication"


class OrderNotFoundError(ExchangeError):
    code = "exchange_order_not_found"


class DuplicateOrderError(InvalidOrderError):
    """-2010 "Duplicate order sent.": an open order already has this client id, so the
    intent is already on the exchange (look it up, do not treat it as refused)."""

    code = "exchange_duplicate_order"


class ExchangeUnavailableError(TemporaryExchangeError):
    """Spotdesk's own shared state (Redis: limiter, breakers) is unreachable: nothing
    is sent, because without the shared budget the IP could be banned."""

    code = "exchange_gateway_unavailable"


class CircuitOpenError(TemporaryExchangeError):
    """The gateway's own breaker refused the call before sending anything; it lets a
    probe through in `retry_after` seconds (None: a probe is running now)."""

    code = "exchange_circuit_open"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# Codes after which the request certainly did not execute but may later.
_TEMPORARY_CODES = {-1000, -1004, -1008, -1016, -1034}
# The request reached the matching engine or may have: outcome unknown.
_UNCERTAIN_CODES = {-1001, -1006, -1007}
_AUTH_CODES = {-1002, -1022, -2014, -2015, -1099}
_RATE_CODES = {-1003, -1015}
_FILTER_CODES = {-1013, -1111, -1115, -1116, -1117, -1121}
# 503 bodies whose execution status Binance documents as unknown (not a failure).
_UNKNOWN_503_TEXT = "unknown error, please check your request or try again later"


def _order_rejection(code: int, message: str, **context) -> InvalidOrderError:
    text = message.lower()
    if "duplicate order" in text:
        return DuplicateOrderError(message, exchange_code=code, **context)
    if "insufficient balance" in text:
        return InsufficientBalanceError(message, exchange_code=code, **context)
    if "immediately" in text or "would trigger" in text:
        return WouldTriggerImmediatelyError(message, exchange_code=code, **context)
    return InvalidOrderError(message, exchange_code=code, **context)


def map_api_error(
    status: int,
    code: int | None,
    message: str,
    *,
    retry_after: float | None = None,
    is_write: bool = False,
    **context,
) -> ExchangeError:
    """The error for one HTTP answer from Binance (status, JSON code and msg)."""
    message = message or f"HTTP {status}"
    if status == 418:
        return IpBannedError(message, exchange_code=code, retry_after=retry_after, **context)
    if status == 429 or code in _RATE_CODES:
        return RateLimitedError(message, exchange_code=code, retry_after=retry_after, **context)
    if code == -1021:
        return TimestampError(message, exchange_code=code, **context)
    if code in _UNCERTAIN_CODES:
        if is_write:
            return UncertainOutcomeError(message, exchange_code=code, retryable=False, **context)
        return TemporaryExchangeError(message, exchange_code=code, **context)
    if code == -2013:
        return OrderNotFoundError(message, exchange_code=code, **context)
    if code in _AUTH_CODES or status in (401, 403):
        return AuthenticationError(message, exchange_code=code, **context)
    if code in (-2010, -2011):
        return _order_rejection(code, message, **context)
    if code in _FILTER_CODES:
        return InvalidOrderError(message, exchange_code=code, **context)
    if status >= 500:
        if status == 503 and _UNKNOWN_503_TEXT in message.lower() and is_write:
            return UncertainOutcomeError(message, exchange_code=code, retryable=False, **context)
        if code in _TEMPORARY_CODES or status == 503:
            return TemporaryExchangeError(message, exchange_code=code, **context)
        # Any other 5xx: Binance may have executed the request.
        if is_write:
            return UncertainOutcomeError(message, exchange_code=code, retryable=False, **context)
        return TemporaryExchangeError(message, exchange_code=code, **context)
    if code in _TEMPORARY_CODES:
        return TemporaryExchangeError(message, exchange_code=code, **context)
    return BadRequestError(message, exchange_code=code, **context)


def map_transport_error(error: Exception, *, is_write: bool, **context) -> ExchangeError:
    """A failure before any HTTP answer arrived.

    A connection that could not be made never reached Binance; a timeout or a
    connection dropped after sending may have.
    """
    name = type(error).__name__
    if isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.exceptions.ConnectionError)
        and not isinstance(error, requests.exceptions.ReadTimeout)
        and _never_sent(error)
    ):
        return TemporaryExchangeError(f"could not connect ({name})", **context)
    if is_write:
        return UncertainOutcomeError(f"no answer ({name})", retryable=False, **context)
    return TemporaryExchangeError(f"no answer ({name})", **context)


def _never_sent(error: Exception) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in ("connection refused", "name or service not known", "failed to establish")
    )
