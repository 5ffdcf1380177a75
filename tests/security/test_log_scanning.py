"""A full key create → rotate flow at DEBUG logging leaves no secret in any log line.

Both the raw records (what any handler would receive) and the rendered output of the
platform's formatter are scanned, with SQL logging on, so a secret that reached a
query, a request log or an exception would be found.
"""

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection

from apps.accounts.credentials import load_credentials
from apps.accounts.models import ExchangeAccount, KeyState
from apps.core.logging import SpotdeskFormatter
from tests.accounts.factories import (
    PASSWORD,
    code_for,
    fake_api_key,
    fake_secret,
    make_org,
    make_user,
    member,
    totp_device,
)

pytestmark = pytest.mark.django_db


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.raw: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.raw.append(f"{text} {record.__dict__!r}")


@pytest.fixture
def captured_logs():
    root = logging.getLogger()
    collect = _Collect()
    rendered = io.StringIO()
    stream = logging.StreamHandler(rendered)
    stream.setFormatter(SpotdeskFormatter(fmt="json"))
    stream.setLevel(logging.DEBUG)
    old_level = root.level
    sql_logger = logging.getLogger("django.db.backends")
    old_sql_level = sql_logger.level
    root.addHandler(collect)
    root.addHandler(stream)
    root.setLevel(logging.DEBUG)
    sql_logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        yield collect, rendered
    finally:
        connection.force_debug_cursor = False
        root.removeHandler(collect)
        root.removeHandler(stream)
        root.setLevel(old_level)
        sql_logger.setLevel(old_sql_level)


def test_no_secret_in_logs_across_create_rotate_and_key_rotation(client, captured_logs, settings):
    collect, rendered = captured_logs
    organization = make_org("Log Scan Desk")
    member(organization, "admin")
    staff = make_user(superuser=True)
    device = totp_device(staff)
    first_secret, second_secret = fake_secret(), fake_secret()

    # Log in through the real form (axes, OTP), then create, add, promote in admin.
    client.post(
        "/accounts/login/",
        {"username": staff.username, "password": PASSWORD, "otp_token": code_for(device)},
    )
    created = client.post(
        "/admin/accounts/exchangeaccount/add/",
        {
            "organization": organization.pk,
            "name": "scanned",
            "environment": "testnet",
            "valuation_currency": "USDT",
            "key_type": "hmac",
            "api_key": fake_api_key(),
            "secret": first_secret,
        },
    )
    assert created.status_code == 302
    account = ExchangeAccount.objects.get(name="scanned")
    assert load_credentials(account).secret == first_secret
    client.post(
        f"/admin/accounts/exchangeaccount/{account.pk}/keys/add/",
        {"key_type": "hmac", "api_key": fake_api_key(), "secret": second_secret},
    )
    pending = account.key_pairs.get(state=KeyState.PENDING)
    client.post(f"/admin/accounts/exchangeaccount/keys/{pending.pk}/promote/")
    assert load_credentials(account).secret == second_secret

    # Encryption-key rotation re-encrypts (and decrypts) every secret.
    import base64
    import os

    settings.FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(os.urandom(32)).decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert load_credentials(account).secret == second_secret
    # A failing call that carries the credentials in its exception context.
    try:
        raise RuntimeError(f"exchange refused {load_credentials(account)!r}")
    except RuntimeError:
        logging.getLogger("spotdesk.test").exception("gateway failure")

    raw = "\n".join(collect.raw)
    output = rendered.getvalue()
    assert len(collect.raw) > 50, "DEBUG logging (SQL included) was captured"
    assert "INSERT INTO" in raw
    for secret in (first_secret, second_secret):
        assert secret not in raw
        assert secret not in output
        assert secret[:16] not in raw
