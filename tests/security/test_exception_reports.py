"""An unexpected failure while a key is being saved: the 500 page, the logged record
and Django's full exception report (what an error mail or a DEBUG page would show,
frame variables included) carry neither the API key's secret nor the key."""

import logging

import pytest
from django.test import Client
from django.views.debug import ExceptionReporter

from apps.accounts.credentials import set_credentials_verifier
from tests.accounts.factories import fake_api_key, fake_secret, make_org, make_user, otp_login

pytestmark = pytest.mark.django_db


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _explode(credentials):
    raise RuntimeError("exchange client crashed")


def test_a_crash_while_saving_a_key_reports_no_secret():
    organization = make_org()
    client = Client(raise_request_exception=False)
    otp_login(client, make_user(superuser=True))
    api_key, secret = fake_api_key(), fake_secret()
    collect = _Records()
    logger = logging.getLogger("django.request")
    logger.addHandler(collect)
    set_credentials_verifier(_explode)
    try:
        response = client.post(
            "/admin/accounts/exchangeaccount/add/",
            {
                "organization": organization.pk,
                "name": "crashing",
                "environment": "paper",
                "valuation_currency": "USDT",
                "key_type": "hmac",
                "api_key": api_key,
                "secret": secret,
            },
        )
    finally:
        set_credentials_verifier(None)
        logger.removeHandler(collect)
    assert response.status_code == 500
    record = next(r for r in collect.records if r.exc_info)
    reporter = ExceptionReporter(record.request, *record.exc_info)
    report = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert "exchange client crashed" in report  # the report is complete...
    for value in (secret, api_key):  # ...and carries no credential
        assert value not in response.content.decode()
        assert value not in record.getMessage()
        assert value not in report
