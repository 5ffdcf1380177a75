"""Provisioning accounts and API keys: shared by the admin CLI, the admin endpoint and tests.

Works on a :class:`Store` alone, so the CLI can edit a state file offline.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from apps.paper_exchange.engine.models import Account, ApiKey
from apps.paper_exchange.signing import new_api_key, new_ed25519_keypair, new_hmac_secret
from apps.paper_exchange.state import Store

TRADING_AUTHORITY_MS = 90 * 86_400_000


class ProvisioningError(ValueError):
    """Bad input to a provisioning operation (names the field and the rule)."""


def parse_balances(items: list[str] | dict) -> dict[str, Decimal]:
    """``["USDT=10000", "BTC=0.5"]`` or ``{"USDT": "10000"}`` to amounts per asset."""
    pairs = items.items() if isinstance(items, dict) else (_split(item) for item in items)
    balances: dict[str, Decimal] = {}
    for asset, amount in pairs:
        asset = asset.strip().upper()
        if not asset.isalnum():
            raise ProvisioningError(f"balance: asset {asset!r} must be letters and digits")
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise ProvisioningError(f"balance {asset}: {amount!r} is not a number") from None
        if value < 0 or not value.is_finite():
            raise ProvisioningError(f"balance {asset}: must be zero or more")
        if value != value.quantize(Decimal("0.00000001")):
            raise ProvisioningError(f"balance {asset}: at most 8 decimals")
        balances[asset] = value
    return balances


def _split(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise ProvisioningError(f"balance {item!r}: expected ASSET=AMOUNT")
    asset, amount = item.split("=", 1)
    return asset, amount


def create_key(
    store: Store,
    now_ms: int,
    balances: dict[str, Decimal] | None = None,
    ed25519: bool = False,
    public_key: str | None = None,
    withdrawals: bool = False,
    internal_transfer: bool = False,
    trading: bool = True,
    commission: Decimal | None = None,
    default_commission: Decimal = Decimal("0.001"),
    label: str = "",
    account_id: int | None = None,
) -> dict:
    """A new API key (on a new account unless ``account_id`` is given).

    Returns the key and its secret: the HMAC secret, or for Ed25519 the private key PEM
    (only the public half is kept, as on Binance).
    """
    if account_id is not None:
        account = get_account(store, account_id)
    else:
        rate = commission if commission is not None else default_commission
        if not Decimal(0) <= rate < 1:
            raise ProvisioningError("commission: must be at least 0 and below 1")
        account = store.new_account()
        account.maker_commission = account.taker_commission = rate
    key = ApiKey(
        api_key=new_api_key(),
        account_id=account.account_id,
        key_type="ED25519" if (ed25519 or public_key) else "HMAC_SHA256",
        enable_withdrawals=withdrawals,
        enable_internal_transfer=internal_transfer,
        permits_universal_transfer=internal_transfer,
        enable_spot_and_margin_trading=trading,
        create_time=now_ms,
        label=label,
    )
    if trading:
        # Unrestricted trading keys lose trading authority after 90 days on Binance.
        key.trading_authority_expiration_time = now_ms + TRADING_AUTHORITY_MS
    result: dict = {"apiKey": key.api_key, "accountId": account.account_id}
    if public_key:
        key.public_key = public_key
    elif ed25519:
        private_pem, public_pem = new_ed25519_keypair()
        key.public_key = public_pem
        result["privateKey"] = private_pem
    else:
        key.secret = new_hmac_secret()
        result["secretKey"] = key.secret
    result["keyType"] = key.key_type
    store.add_key(key)
    if balances:
        set_balances(store, account.account_id, balances, now_ms)
    return result


def get_account(store: Store, account_id: int | str) -> Account:
    try:
        return store.accounts[int(account_id)]
    except (KeyError, ValueError):
        raise ProvisioningError(f"account {account_id!r} does not exist") from None


def account_for_key(store: Store, api_key: str) -> Account:
    key = store.keys.get(api_key)
    if key is None:
        raise ProvisioningError("apiKey: no such key")
    return get_account(store, key.account_id)


def set_balances(store: Store, account_id: int, balances: dict[str, Decimal], now_ms: int) -> dict:
    """Set the free amount of each asset (locked amounts belong to open orders)."""
    account = get_account(store, account_id)
    for asset, amount in balances.items():
        account.balance(asset).free = amount
    account.update_time = now_ms
    store.dirty = True
    return balances_view(account)


def balances_view(account: Account) -> dict:
    return {
        asset: {"free": str(balance.free), "locked": str(balance.locked)}
        for asset, balance in sorted(account.balances.items())
    }


def list_keys(store: Store) -> list[dict]:
    """Keys without their secrets."""
    return [
        {
            "apiKey": key.api_key,
            "accountId": key.account_id,
            "keyType": key.key_type,
            "enableSpotAndMarginTrading": key.enable_spot_and_margin_trading,
            "enableWithdrawals": key.enable_withdrawals,
            "enableInternalTransfer": key.enable_internal_transfer,
            "createTime": key.create_time,
            "label": key.label,
        }
        for key in store.keys.values()
    ]
