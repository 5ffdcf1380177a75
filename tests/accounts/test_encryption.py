"""Secrets at rest: the raw column never holds the secret, and key rotation re-encrypts."""

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection

from apps.accounts.credentials import load_credentials
from apps.accounts.models import ApiKeyPair
from apps.audit.models import AuditEvent
from apps.core.crypto import cipher
from apps.core.crypto.fields import SealedSecret, mask
from apps.core.crypto.rotation import rotate_all
from tests.accounts.factories import make_account, make_org, member

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raw_secret(key_pair_id: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_apikeypair WHERE id = %s", [key_pair_id])
        return cursor.fetchone()[0]


@pytest.fixture
def account():
    organization = make_org()
    member(organization, "admin")
    return make_account(organization, secret="SuperSecretHmacValue0123456789abcdef")


def test_the_raw_column_holds_ciphertext_never_the_secret(account):
    key_pair = account.key_pairs.get()
    stored = raw_secret(key_pair.pk)
    assert "SuperSecretHmacValue" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert load_credentials(account).secret == "SuperSecretHmacValue0123456789abcdef"


def test_secrets_only_leave_the_model_as_masks(account):
    key_pair = account.key_pairs.get()
    assert repr(key_pair.secret) == "SealedSecret(<encrypted>)"
    assert str(key_pair.secret) == "SealedSecret(<encrypted>)"
    assert key_pair.secret_mask == "Supe…cdef"
    assert "SuperSecret" not in repr(load_credentials(account))
    for event in AuditEvent.objects.all():
        assert "SuperSecretHmacValue" not in str(event.changes)


def test_plain_strings_are_refused_by_the_field(account):
    key_pair = account.key_pairs.get()
    key_pair.secret = "plaintext-would-be-stored"
    with pytest.raises(TypeError):
        key_pair.save()


def test_mask_shows_only_the_ends():
    assert mask("abcdefghijklmnopwxyz") == "abcd…wxyz"
    assert mask("short") == "…"


def test_rotation_reencrypts_under_the_new_first_key_and_is_idempotent(account, settings):
    key_pair = account.key_pairs.get()
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    before = raw_secret(key_pair.pk)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]
    assert not cipher.is_current(before)

    call_command("rotate_encryption_keys")
    after = raw_secret(key_pair.pk)
    assert after != before
    assert cipher.is_current(after)
    # The old key can go: the secret still decrypts with the new key alone.
    settings.FIELD_ENCRYPTION_KEYS = [settings.FIELD_ENCRYPTION_KEYS[0]]
    assert load_credentials(account).secret == "SuperSecretHmacValue0123456789abcdef"
    second = rotate_all()
    assert (second.rotated, second.already_current) == (0, 1)
    assert raw_secret(key_pair.pk) == after
    assert AuditEvent.objects.filter(action="encryption_keys.rotated").count() == 1


def test_rotation_resumes_after_an_interrupted_run(settings):
    organization = make_org()
    member(organization, "admin")
    accounts = [make_account(organization) for _ in range(5)]
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]
    # Simulate a run that stopped after two rows.
    for key_pair in ApiKeyPair.objects.order_by("pk")[:2]:
        ApiKeyPair.objects.filter(pk=key_pair.pk).update(
            secret=SealedSecret(cipher.rotate(key_pair.secret.token))
        )
    report = rotate_all(batch_size=2)
    assert (report.rotated, report.already_current) == (3, 2)
    settings.FIELD_ENCRYPTION_KEYS = [settings.FIELD_ENCRYPTION_KEYS[0]]
    assert all(load_credentials(a).secret for a in accounts)


def test_a_missing_key_fails_clearly_without_leaking(account, settings):
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(cipher.DecryptionError) as caught:
        load_credentials(account)
    assert "key source" in caught.value.message
