"""Admin HTTP endpoint (not part of Binance): provisioning and the test clock.

Every request needs ``Authorization: Bearer <token>`` (or ``X-Admin-Token``) matching the
configured token; without a configured token the endpoint answers 403 to everything.
"""

from __future__ import annotations

import hmac
import json
from decimal import Decimal, InvalidOperation

from aiohttp import web

from apps.paper_exchange.provisioning import ProvisioningError, parse_balances
from apps.paper_exchange.server.endpoint import EXCHANGE_KEY, json_response


def _error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


def _authorised(request: web.Request) -> web.Response | None:
    token = request.app[EXCHANGE_KEY].config.admin_token
    if not token:
        return _error(403, "admin endpoint disabled: set PAPER_EXCHANGE_ADMIN_TOKEN")
    sent = request.headers.get("X-Admin-Token", "")
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        sent = authorization[len("Bearer ") :]
    if not hmac.compare_digest(sent.encode(), token.encode()):
        return _error(401, "missing or wrong admin token")
    return None


def admin(handler):
    async def guarded(request: web.Request) -> web.Response:
        refused = _authorised(request)
        if refused is not None:
            return refused
        try:
            body = await request.json() if request.body_exists else {}
        except json.JSONDecodeError:
            return _error(400, "body: expected a JSON object")
        if not isinstance(body, dict):
            return _error(400, "body: expected a JSON object")
        try:
            return json_response(handler(request.app[EXCHANGE_KEY], body))
        except ProvisioningError as error:
            return _error(400, str(error))

    return guarded


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ProvisioningError(f"{name}: must be true or false")
    return value


def create_key(exchange, body: dict) -> dict:
    commission = body.get("commission")
    try:
        rate = Decimal(str(commission)) if commission is not None else None
    except InvalidOperation:
        raise ProvisioningError(f"commission: {commission!r} is not a number") from None
    return exchange.create_key(
        balances=parse_balances(body.get("balances", {})),
        ed25519=_flag(body, "ed25519"),
        public_key=body.get("publicKey"),
        withdrawals=_flag(body, "withdrawals"),
        internal_transfer=_flag(body, "internalTransfer"),
        trading=body.get("trading", True) is not False,
        commission=rate,
        label=str(body.get("label", "")),
        account_id=body.get("accountId"),
    )


def list_keys(exchange, body: dict) -> list:
    return exchange.list_keys()


def set_balances(exchange, body: dict) -> dict:
    if "apiKey" in body:
        account = exchange.account_for_key(str(body["apiKey"]))
    elif "accountId" in body:
        account = exchange.account(body["accountId"])
    else:
        raise ProvisioningError("apiKey or accountId: one of them is required")
    balances = parse_balances(body.get("balances", {}))
    return exchange.set_balances(account.account_id, balances)


def get_clock(exchange, body: dict) -> dict:
    return {
        "marketTime": exchange.market_time(),
        "serverTime": exchange.server_time(),
        "testClock": exchange.config.test_clock,
    }


def advance_clock(exchange, body: dict) -> dict:
    milliseconds = body.get("ms")
    if "seconds" in body:
        milliseconds = int(float(body["seconds"]) * 1000)
    if not isinstance(milliseconds, int) or milliseconds < 0:
        raise ProvisioningError("ms: a whole number of milliseconds, zero or more")
    return {"marketTime": exchange.advance(milliseconds)}


def routes() -> list:
    return [
        web.post("/admin/keys", admin(create_key)),
        web.get("/admin/keys", admin(list_keys)),
        web.post("/admin/balances", admin(set_balances)),
        web.get("/admin/clock", admin(get_clock)),
        web.post("/admin/clock/advance", admin(advance_clock)),
    ]
