"""Optional tracing of the order path: a submission is one span whose children are the
exchange requests it made, with ids and names only, and nothing at all when off."""

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.monitoring import tracing
from apps.trading import execution
from apps.trading.states import OrderStatus
from tests.trading.support import make_config, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    assert tracing.configure(exporter, simple=True)
    yield exporter
    tracing.shutdown()


def test_a_submission_is_a_span_around_its_exchange_requests(spans, paper_account):
    account = paper_account({"USDT": "100000"})
    order = order_for(make_config(account), quantity="0.01")

    assert execution.submit(order).order.status == OrderStatus.FILLED

    finished = spans.get_finished_spans()
    (submit,) = [s for s in finished if s.name == "order.submit"]
    requests = [s for s in finished if s.name == "exchange.request"]
    assert submit.attributes["spotdesk.client_order_id"] == order.client_order_id
    assert submit.attributes["spotdesk.account_id"] == account.pk
    assert submit.attributes["spotdesk.outcome"] == "filled"
    assert submit.attributes["spotdesk.exchange_order_id"] > 0
    placed = [r for r in requests if r.attributes["spotdesk.endpoint"] == "POST /api/v3/order"]
    assert len(placed) == 1
    assert placed[0].parent.span_id == submit.context.span_id
    assert placed[0].context.trace_id == submit.context.trace_id
    assert placed[0].attributes["spotdesk.signed"] is True
    # Ids and names only: the key and secret never reach a span.
    values = " ".join(str(v) for s in finished for v in s.attributes.values())
    assert account.paper_key["apiKey"] not in values
    assert account.paper_key["secretKey"] not in values


def test_a_refused_order_says_so_and_tracing_off_records_nothing(spans, paper_account):
    config = make_config(paper_account({"USDT": "10"}))
    refused = execution.submit(order_for(config, quantity="1"))  # far more than 10 USDT
    assert refused.refused is not None
    (submit,) = [s for s in spans.get_finished_spans() if s.name == "order.submit"]
    assert submit.attributes["spotdesk.outcome"] == "rejected"

    tracing.shutdown()
    spans.clear()
    execution.submit(order_for(config, quantity="0.0001"))
    assert spans.get_finished_spans() == ()
    assert not tracing.enabled()


def test_tracing_stays_off_unless_the_setting_asks(settings):
    settings.OTEL_ENABLED = False
    assert tracing.configure_from_settings() is False
    assert not tracing.enabled()
