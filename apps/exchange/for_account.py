"""The gateway of one exchange account: its environment's URLs and its active key."""

from __future__ import annotations

from apps.accounts.credentials import load_credentials

from .credentials import Credentials
from .gateway import ExchangeGateway, gateway_for


def gateway_for_account(account) -> ExchangeGateway:
    """The calling thread's gateway for `account` (an ExchangeAccount), signed with
    its active key pair. The decrypted secret lives only inside the gateway."""
    stored = load_credentials(account)
    credentials = Credentials.from_parts(
        api_key=stored.api_key, secret=stored.secret, key_type=stored.key_type
    )
    return gateway_for(account.environment, credentials=credentials, account_id=account.pk)
