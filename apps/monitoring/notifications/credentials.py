"""The only place a notification route's secret is decrypted: right before sending.

The plaintext (bot token, webhook URL, signing key) lives for one request and is
registered with the log redaction by the encryption layer as it is decrypted.
"""


def route_secret(route) -> str | None:
    return None if route.secret is None else route.secret.reveal()
