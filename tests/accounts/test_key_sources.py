"""Pluggable encryption key sources: environment, file, AWS Secrets Manager (against a
local moto server) and HashiCorp Vault KV v2 (against a loopback receiver)."""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.core import checks
from apps.core.crypto import cipher
from apps.core.crypto.sources import load_keys
from apps.core.errors import ConfigurationError
from tests.support.processes import VENV_BIN, ManagedProcess, child_env, free_port, wait_for_port


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


KEYS = [new_key(), new_key()]


@pytest.fixture(autouse=True)
def _fresh_keys():
    cipher.reset_keys()
    yield
    cipher.reset_keys()


def test_environment_source(settings):
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "env"
    settings.FIELD_ENCRYPTION_KEYS = KEYS
    assert load_keys() == KEYS


@pytest.mark.parametrize(
    "content", ["\n".join(KEYS) + "\n", ",".join(KEYS), json.dumps({"keys": KEYS})]
)
def test_file_source_reads_lines_csv_or_json(settings, tmp_path, content):
    path = tmp_path / "keys"
    path.write_text(content)
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "file"
    settings.FIELD_ENCRYPTION_KEYS_FILE = str(path)
    assert load_keys() == KEYS
    assert cipher.decrypt(cipher.encrypt("round trip")) == "round trip"


def test_file_source_problems_fail_the_start_up_check(settings, tmp_path):
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "file"
    settings.FIELD_ENCRYPTION_KEYS_FILE = str(tmp_path / "missing")
    errors = checks.check_encryption_keys()
    assert [e.id for e in errors] == ["spotdesk.E005"]
    assert "FIELD_ENCRYPTION_KEYS_FILE" in errors[0].msg
    (tmp_path / "bad").write_text("not-a-key\n")
    settings.FIELD_ENCRYPTION_KEYS_FILE = str(tmp_path / "bad")
    assert "entry 1 is not a Fernet key" in checks.check_encryption_keys()[0].msg


def test_unknown_source_is_named(settings):
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "floppy"
    assert "FIELD_ENCRYPTION_KEY_SOURCE" in checks.check_encryption_keys()[0].msg
    with pytest.raises(ConfigurationError):
        load_keys()


# --- AWS Secrets Manager, served by a local moto server ------------------------------


@pytest.fixture(scope="module")
def moto_server():
    port = free_port()
    server = ManagedProcess(
        "moto", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], child_env()
    )
    wait_for_port(port, process=server)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_settings(settings, moto_server, monkeypatch):
    # Dummy credentials for the local server; never real ones.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "aws"
    settings.FIELD_ENCRYPTION_AWS_REGION = "eu-west-1"
    settings.FIELD_ENCRYPTION_AWS_ENDPOINT_URL = moto_server
    return settings


def _put_secret(endpoint: str, name: str, value: str) -> None:
    import boto3

    client = boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=endpoint)
    client.create_secret(Name=name, SecretString=value)


def test_aws_source_reads_the_keys_from_secrets_manager(aws_settings, moto_server):
    name = f"spotdesk/field-keys-{os.getpid()}-{new_key()[:6]}"
    _put_secret(moto_server, name, json.dumps(KEYS))
    aws_settings.FIELD_ENCRYPTION_AWS_SECRET_ID = name
    assert load_keys() == KEYS
    assert checks.check_encryption_keys() == []
    assert cipher.decrypt(cipher.encrypt("via aws")) == "via aws"


def test_aws_source_missing_secret_fails_the_check_by_name(aws_settings):
    aws_settings.FIELD_ENCRYPTION_AWS_SECRET_ID = "spotdesk/does-not-exist"
    errors = checks.check_encryption_keys()
    assert [e.id for e in errors] == ["spotdesk.E005"]
    assert "FIELD_ENCRYPTION_AWS_SECRET_ID" in errors[0].msg
    assert all(key not in errors[0].msg for key in KEYS)


# --- HashiCorp Vault KV v2, served by a loopback receiver ----------------------------


class _VaultKV2(BaseHTTPRequestHandler):
    """Speaks the KV v2 read API: GET /v1/<mount>/data/<path> with X-Vault-Token."""

    token = "s.test-vault-token"
    secrets: dict[str, dict] = {}
    seen: list[dict] = []

    def do_GET(self):
        type(self).seen.append({"path": self.path, "token": self.headers.get("X-Vault-Token")})
        if self.headers.get("X-Vault-Token") != self.token:
            return self._reply(403, {"errors": ["permission denied"]})
        data = self.secrets.get(self.path)
        if data is None:
            return self._reply(404, {"errors": []})
        return self._reply(
            200, {"data": {"data": data, "metadata": {"version": 3}}, "lease_duration": 0}
        )

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def vault(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _VaultKV2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _VaultKV2.secrets = {"/v1/kv/data/spotdesk/fernet": {"keys": ",".join(KEYS)}}
    _VaultKV2.seen = []
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "vault"
    settings.FIELD_ENCRYPTION_VAULT_ADDR = f"http://127.0.0.1:{server.server_address[1]}"
    settings.FIELD_ENCRYPTION_VAULT_MOUNT = "kv"
    settings.FIELD_ENCRYPTION_VAULT_PATH = "spotdesk/fernet"
    settings.FIELD_ENCRYPTION_VAULT_TOKEN = _VaultKV2.token
    yield settings
    server.shutdown()
    server.server_close()


def test_vault_source_reads_kv2_with_the_token(vault):
    assert load_keys() == KEYS
    assert _VaultKV2.seen == [{"path": "/v1/kv/data/spotdesk/fernet", "token": _VaultKV2.token}]
    assert checks.check_encryption_keys() == []


def test_vault_token_can_come_from_a_file(vault, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(_VaultKV2.token + "\n")
    vault.FIELD_ENCRYPTION_VAULT_TOKEN = ""
    vault.FIELD_ENCRYPTION_VAULT_TOKEN_FILE = str(token_file)
    assert load_keys() == KEYS


def test_vault_refusal_and_missing_field_fail_the_check_by_name(vault):
    vault.FIELD_ENCRYPTION_VAULT_TOKEN = "wrong"
    errors = checks.check_encryption_keys()
    assert "HTTP 403" in errors[0].msg
    assert "FIELD_ENCRYPTION_VAULT_PATH" in errors[0].msg
    assert "wrong" not in errors[0].msg
    vault.FIELD_ENCRYPTION_VAULT_TOKEN = _VaultKV2.token
    vault.FIELD_ENCRYPTION_VAULT_FIELD = "other"
    assert "FIELD_ENCRYPTION_VAULT_FIELD" in checks.check_encryption_keys()[0].msg


def test_vault_unreachable_is_named(settings):
    settings.FIELD_ENCRYPTION_KEY_SOURCE = "vault"
    settings.FIELD_ENCRYPTION_VAULT_ADDR = f"http://127.0.0.1:{free_port()}"
    settings.FIELD_ENCRYPTION_VAULT_PATH = "x"
    settings.FIELD_ENCRYPTION_VAULT_TOKEN = "t"
    assert "not reachable" in checks.check_encryption_keys()[0].msg
