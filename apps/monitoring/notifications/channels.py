"""One sender per channel. Each raises DeliveryError with a message that is safe to
store and show: never the exception text of the HTTP client (its URLs may carry a
bot token or a webhook secret), only the channel, the HTTP status or the error class.
"""

import ipaddress
import json
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from django.core.mail import send_mail

from apps.core.errors import ValidationError

from .. import conf
from ..models import Channel
from . import signing
from .credentials import route_secret
from .messages import Message

DISCORD_LIMIT = 2000
TELEGRAM_LIMIT = 4096


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None, permanent=False):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent


def _post(channel: str, url: str, *, data: bytes, headers: dict) -> requests.Response:
    try:
        response = requests.post(
            url,
            data=data,
            headers={"Content-Type": "application/json", **headers},
            timeout=conf.request_timeout(),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"{channel}: {type(exc).__name__}") from None
    if response.status_code == 429:
        raise DeliveryError(f"{channel}: HTTP 429", retry_after=_retry_after(response))
    if not 200 <= response.status_code < 300:
        permanent = response.status_code in (400, 401, 403, 404)
        raise DeliveryError(f"{channel}: HTTP {response.status_code}", permanent=permanent)
    return response


def _retry_after(response: requests.Response) -> float | None:
    header = response.headers.get("Retry-After", "")
    if header.replace(".", "", 1).isdigit():
        return float(header)
    try:  # Telegram: {"ok": false, "parameters": {"retry_after": 5}}
        return float(response.json()["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None


def _json(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def check_url(field: str, url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(field, "must be an http(s) URL")
    return url


def check_public_url(field: str, url: str) -> str:
    """Refuse URLs whose host resolves to a private, loopback, link-local or reserved
    address (an organization's webhook must not reach internal services)."""
    check_url(field, url)
    if conf.allow_private_targets():
        return url
    host = urlsplit(url).hostname
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValidationError(field, "its host name does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            raise ValidationError(field, "must point to a public address")
    return url


def _secret(route) -> str:
    secret = route_secret(route)
    if not secret:
        raise DeliveryError(f"{route.channel}: no secret configured", permanent=True)
    return secret


def send_telegram(route, message: Message) -> None:
    token = _secret(route)
    url = f"{conf.telegram_api_base()}/bot{token}/sendMessage"
    body = {
        "chat_id": route.target.get("chat_id"),
        "text": message.as_text()[:TELEGRAM_LIMIT],
        "disable_web_page_preview": True,
    }
    response = _post("telegram", url, data=_json(body), headers={})
    try:
        ok = response.json().get("ok") is True
    except ValueError:
        ok = False
    if not ok:
        raise DeliveryError("telegram: the Bot API did not answer ok")


def send_slack(route, message: Message) -> None:
    url = check_url("secret", _secret(route))
    _post("slack", url, data=_json({"text": message.as_text()}), headers={})


def send_discord(route, message: Message) -> None:
    url = check_url("secret", _secret(route))
    body = {"content": message.as_text()[:DISCORD_LIMIT], "allowed_mentions": {"parse": []}}
    _post("discord", url, data=_json(body), headers={})


def send_email(route, message: Message) -> None:
    recipients = [r for r in route.target.get("recipients", []) if r]
    if not recipients:
        raise DeliveryError("email: no recipients", permanent=True)
    try:
        send_mail(message.subject, message.as_text(), conf.email_from() or None, recipients)
    except Exception as exc:  # SMTP errors have many classes; none is safe to echo
        raise DeliveryError(f"email: {type(exc).__name__}") from None


def send_webhook(route, message: Message) -> None:
    url = check_url("target", route.target.get("url", ""))
    body = _json(message.as_payload())
    headers = {
        signing.SIGNATURE_HEADER: signing.sign(_secret(route), body),
        signing.DELIVERY_HEADER: str(message.delivery_id or ""),
    }
    _post("webhook", url, data=body, headers=headers)


SENDERS: dict[str, Callable[[object, Message], None]] = {
    Channel.TELEGRAM: send_telegram,
    Channel.SLACK: send_slack,
    Channel.DISCORD: send_discord,
    Channel.EMAIL: send_email,
    Channel.WEBHOOK: send_webhook,
}


def send(route, message: Message) -> None:
    SENDERS[route.channel](route, message)
