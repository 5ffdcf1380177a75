"""A secret handed to a log call never reaches the output."""

import io
import json
import logging

import pytest
import structlog

from apps.core.logging import SpotdeskFormatter
from apps.core.redaction import REDACTED, redact, register_secret

BINANCE_STYLE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


@pytest.fixture(params=["json", "console"])
def captured(request):
    """The real formatter on a stdlib handler, as the settings install it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SpotdeskFormatter(fmt=request.param))
    logger = logging.getLogger(f"redaction-test-{request.param}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.handlers = []


def test_stdlib_message_args_and_extras_are_redacted(captured):
    logger, stream = captured
    logger.info(
        "GET /api/v3/account?timestamp=1&signature=%s api_key=%s",
        "a1b2c3d4e5f6",
        BINANCE_STYLE_KEY,
        extra={"api_secret": HMAC_SECRET, "password": "hunter2hunter2"},
    )
    output = stream.getvalue()
    assert "a1b2c3d4e5f6" not in output
    assert BINANCE_STYLE_KEY not in output
    assert HMAC_SECRET not in output
    assert "hunter2hunter2" not in output
    assert REDACTED in output
    assert "/api/v3/account" in output  # the useful part survives


def test_structlog_keyword_arguments_are_redacted(captured):
    logger, stream = captured
    log = structlog.wrap_logger(
        logger,
        processors=[structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    log.info("placing order", secret_key=HMAC_SECRET, headers={"X-MBX-APIKEY": "abc123def456"})
    output = stream.getvalue()
    assert HMAC_SECRET not in output
    assert "abc123def456" not in output
    assert "placing order" in output


def test_exception_text_is_redacted(captured):
    logger, stream = captured
    try:
        raise RuntimeError(f"request failed: Authorization: Bearer {HMAC_SECRET}")
    except RuntimeError:
        logger.exception("exchange call failed")
    output = stream.getvalue()
    assert HMAC_SECRET not in output
    assert "RuntimeError" in output


def test_registered_secret_is_masked_wherever_it_appears(captured):
    logger, stream = captured
    secret = "plain-looking-passphrase-42"
    register_secret(secret)
    logger.warning("user typed %s by mistake", secret)
    assert secret not in stream.getvalue()


def test_json_output_stays_valid_json(captured):
    logger, stream = captured
    logger.info("hello", extra={"token": "abcdefgh12345678"})
    line = stream.getvalue().strip().splitlines()[-1]
    if line.startswith("{"):
        data = json.loads(line)
        assert data["token"] == REDACTED


def test_audit_hashes_are_not_mistaken_for_keys():
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert redact(f"chain head {digest}") == f"chain head {digest}"


def test_nested_structures_are_redacted_by_key_name():
    payload = {"account": {"name": "main", "credentials": {"key": "x"}}, "items": [{"pin": 1}]}
    result = redact(payload)
    assert result["account"]["credentials"] == REDACTED
    assert result["account"]["name"] == "main"


def test_personal_api_tokens_in_free_text_keep_only_their_prefix():
    token = "sdt_0123abcd_" + "Zx9" * 14
    text = redact(f"client sent {token} twice")
    assert token not in text
    assert "sdt_0123abcd_" in text
