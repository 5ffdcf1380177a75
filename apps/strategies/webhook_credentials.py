"""The one place a signal webhook's secret is decrypted: right before a request's
signature is computed (apps/strategies/webhooks.py `verify_request`)."""

from apps.core.redaction import register_secret


def webhook_secret(webhook) -> str:
    plaintext = webhook.secret.reveal()
    register_secret(plaintext)  # masked in this process's logs from now on
    return plaintext
