"""Where the Fernet keys come from, selected by FIELD_ENCRYPTION_KEY_SOURCE.

Every source returns the keys newest first (the first encrypts, all decrypt). A
source that cannot deliver raises ConfigurationError naming the setting to fix; the
error never contains a key.
"""

import base64
import binascii
import json
from collections.abc import Callable
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from django.conf import settings

from apps.core.errors import ConfigurationError

SOURCE_SETTING = "FIELD_ENCRYPTION_KEY_SOURCE"
FETCH_TIMEOUT = 5.0


def split_keys(text: str) -> list[str]:
    """Keys from text: a JSON list or {"keys": [...]}, or comma/newline separated."""
    text = text.strip()
    if text.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ConfigurationError("the key material is not valid JSON") from None
        if isinstance(data, dict):
            data = data.get("keys", [])
        if not isinstance(data, list):
            raise ConfigurationError('JSON key material must be a list or {"keys": [...]}')
        return [str(k).strip() for k in data if str(k).strip()]
    return [k.strip() for k in text.replace("\n", ",").split(",") if k.strip()]


def is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def validate_keys(keys: list[str], *, origin: str) -> list[str]:
    if not keys:
        raise ConfigurationError(f"{origin} holds no encryption key.")
    for position, key in enumerate(keys, start=1):
        if not is_fernet_key(key):
            raise ConfigurationError(
                f"{origin}: entry {position} is not a Fernet key (32 bytes, urlsafe base64)."
            )
    return keys


def from_env() -> list[str]:
    keys = [k for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if k]
    return validate_keys(keys, origin="FIELD_ENCRYPTION_KEYS")


def from_file() -> list[str]:
    path = getattr(settings, "FIELD_ENCRYPTION_KEYS_FILE", "")
    if not path:
        raise ConfigurationError("FIELD_ENCRYPTION_KEYS_FILE is not set.")
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigurationError(
            f"FIELD_ENCRYPTION_KEYS_FILE cannot be read ({type(exc).__name__}): {path}"
        ) from None
    return validate_keys(split_keys(text), origin="FIELD_ENCRYPTION_KEYS_FILE")


def from_aws() -> list[str]:
    secret_id = getattr(settings, "FIELD_ENCRYPTION_AWS_SECRET_ID", "")
    if not secret_id:
        raise ConfigurationError("FIELD_ENCRYPTION_AWS_SECRET_ID is not set.")
    import boto3  # optional dependency: only this source needs it
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "secretsmanager",
        region_name=getattr(settings, "FIELD_ENCRYPTION_AWS_REGION", "") or None,
        endpoint_url=getattr(settings, "FIELD_ENCRYPTION_AWS_ENDPOINT_URL", "") or None,
        config=Config(
            connect_timeout=FETCH_TIMEOUT, read_timeout=FETCH_TIMEOUT, retries={"max_attempts": 2}
        ),
    )
    try:
        answer = client.get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigurationError(
            f"FIELD_ENCRYPTION_AWS_SECRET_ID {secret_id!r} could not be read from AWS "
            f"Secrets Manager ({type(exc).__name__})."
        ) from None
    text = answer.get("SecretString") or ""
    return validate_keys(split_keys(text), origin="FIELD_ENCRYPTION_AWS_SECRET_ID")


def _vault_token() -> str:
    token = getattr(settings, "FIELD_ENCRYPTION_VAULT_TOKEN", "")
    token_file = getattr(settings, "FIELD_ENCRYPTION_VAULT_TOKEN_FILE", "")
    if not token and token_file:
        try:
            token = Path(token_file).read_text().strip()
        except OSError:
            raise ConfigurationError(
                f"FIELD_ENCRYPTION_VAULT_TOKEN_FILE cannot be read: {token_file}"
            ) from None
    if not token:
        raise ConfigurationError(
            "FIELD_ENCRYPTION_VAULT_TOKEN (or FIELD_ENCRYPTION_VAULT_TOKEN_FILE) is not set."
        )
    return token


def from_vault() -> list[str]:
    """HashiCorp Vault KV version 2: GET /v1/<mount>/data/<path>, keys in one field."""
    address = getattr(settings, "FIELD_ENCRYPTION_VAULT_ADDR", "").rstrip("/")
    path = getattr(settings, "FIELD_ENCRYPTION_VAULT_PATH", "").strip("/")
    if not address or not path:
        raise ConfigurationError(
            "FIELD_ENCRYPTION_VAULT_ADDR and FIELD_ENCRYPTION_VAULT_PATH must both be set."
        )
    mount = getattr(settings, "FIELD_ENCRYPTION_VAULT_MOUNT", "secret").strip("/")
    field = getattr(settings, "FIELD_ENCRYPTION_VAULT_FIELD", "keys")
    url = f"{address}/v1/{mount}/data/{path}"
    headers = {"X-Vault-Token": _vault_token()}
    namespace = getattr(settings, "FIELD_ENCRYPTION_VAULT_NAMESPACE", "")
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError("FIELD_ENCRYPTION_VAULT_ADDR must be an http(s):// URL.")
    try:
        with urlopen(Request(url, headers=headers), timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            body = response.read()
    except HTTPError as exc:
        raise ConfigurationError(
            f"Vault answered HTTP {exc.code} for FIELD_ENCRYPTION_VAULT_PATH "
            f"{mount}/{path}: check the path and the token's policy."
        ) from None
    except (URLError, OSError) as exc:
        raise ConfigurationError(
            f"FIELD_ENCRYPTION_VAULT_ADDR {address} is not reachable ({type(exc).__name__})."
        ) from None
    try:
        value = json.loads(body)["data"]["data"][field]
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"Vault secret {mount}/{path} has no field {field!r} (FIELD_ENCRYPTION_VAULT_FIELD)."
        ) from None
    keys = value if isinstance(value, list) else split_keys(str(value))
    return validate_keys([str(k) for k in keys], origin="FIELD_ENCRYPTION_VAULT_PATH")


SOURCES: dict[str, Callable[[], list[str]]] = {
    "env": from_env,
    "file": from_file,
    "aws": from_aws,
    "vault": from_vault,
}


def configured_source() -> str:
    return getattr(settings, SOURCE_SETTING, "env") or "env"


def load_keys() -> list[str]:
    """The Fernet keys from the configured source, newest first."""
    name = configured_source()
    try:
        source = SOURCES[name]
    except KeyError:
        raise ConfigurationError(
            f"{SOURCE_SETTING}={name!r} is unknown; use one of {', '.join(SOURCES)}."
        ) from None
    return source()
