"""Property-based requests generated from the OpenAPI schema (schemathesis): whatever
a client sends, the API answers without a server error and as its schema says.

Runs in-process through the WSGI application against the test database, as an org
admin with an admin-scoped token, a few examples per operation.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from tests.accounts.factories import make_account
from tests.api.conftest import Desk, token_for
from tests.api.test_schema import current_schema

schema = schemathesis.openapi.from_dict(current_schema())
schema.app = get_wsgi_application()

EXAMPLES = 8


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a finished request must not close the connection that
    holds the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, keep_test_connection):
    desk = Desk()
    make_account(desk.org)
    return token_for(desk.admin, "admin")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_server_errors_and_responses_match_the_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"},
        # A schema-valid request may still name an object that does not exist (e.g.
        # organization 0): 400 is the right answer, not a failure.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
