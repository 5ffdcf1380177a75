"""Optional OpenTelemetry tracing of the order path (OTEL_ENABLED, off by default).

`@traced(name, attributes=...)` wraps a function in a span when tracing is configured
and costs one global lookup when it is not. Spans cover `execution.submit`
(`order.submit`) and every gateway request (`exchange.request`), so a trace shows an
order's submission with the exchange calls it made (query first, place, fills' rates).

Attributes carry ids and names only (account, order, client order id, symbol, side,
type, environment, endpoint, correlation id): never parameters, keys or signatures.

Spans go to our own TracerProvider (the global one is left alone), exported by
OTEL_EXPORTER: `otlp` (needs opentelemetry-exporter-otlp-proto-http, endpoint from the
standard OTEL_EXPORTER_OTLP_* environment) or `console`. Tests pass their own exporter
to `configure`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from apps.core.logging import get_logger

logger = get_logger(__name__)
_state: dict = {"tracer": None, "provider": None}


def enabled() -> bool:
    return _state["tracer"] is not None


def configure(exporter=None, *, simple: bool = False) -> bool:
    """Start tracing into `exporter` (default: the OTEL_EXPORTER setting). `simple`
    exports each span as it ends (tests); otherwise spans are batched. False when the
    OpenTelemetry SDK is not installed."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        logger.warning("OTEL_ENABLED is set but opentelemetry-sdk is not installed")
        return False
    exporter = exporter if exporter is not None else _configured_exporter()
    if exporter is None:
        return False
    shutdown()
    provider = TracerProvider(resource=Resource.create({"service.name": "spotdesk"}))
    processor = SimpleSpanProcessor(exporter) if simple else BatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    _state.update(provider=provider, tracer=provider.get_tracer("spotdesk.trading"))
    return True


def configure_from_settings() -> bool:
    from django.conf import settings

    if not getattr(settings, "OTEL_ENABLED", False):
        return False
    return configure()


def _configured_exporter():
    from django.conf import settings

    name = str(getattr(settings, "OTEL_EXPORTER", "otlp") or "otlp").lower()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        logger.warning("OTEL_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http")
        return None
    return OTLPSpanExporter()


def shutdown() -> None:
    """Flush and stop tracing (spans are no-ops again)."""
    provider = _state["provider"]
    _state.update(provider=None, tracer=None)
    if provider is not None:
        provider.shutdown()


def _correlation() -> dict:
    from apps.core import correlation

    current = correlation.current()
    return {"spotdesk.correlation_id": current} if current else {}


def traced(
    name: str,
    *,
    attributes: Callable[..., dict] | None = None,
    result: Callable[[object], dict] | None = None,
):
    """Decorate a function to run in a span named `name`; `attributes(*args, **kwargs)`
    names the span's inputs, `result(value)` what came out. A failing extractor never
    fails the call."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            tracer = _state["tracer"]
            if tracer is None:
                return function(*args, **kwargs)
            with tracer.start_as_current_span(name) as span:
                span.set_attributes({**_correlation(), **_safe(attributes, args, kwargs)})
                value = function(*args, **kwargs)
                if result is not None:
                    span.set_attributes(_safe(result, (value,), {}))
                return value

        return wrapper

    return decorate


def _safe(extract, args, kwargs) -> dict:
    if extract is None:
        return {}
    try:
        found = extract(*args, **kwargs)
    except Exception:
        return {}
    return {k: v for k, v in found.items() if v is not None}


# --- what the order path's spans say --------------------------------------------------
def submission_attributes(order, *args, **kwargs) -> dict:
    return {
        "spotdesk.account_id": order.account_id,
        "spotdesk.order_id": order.pk,
        "spotdesk.client_order_id": order.client_order_id,
        "spotdesk.symbol": order.symbol,
        "spotdesk.side": order.side,
        "spotdesk.order_type": order.order_type,
        "spotdesk.intent": order.intent,
    }


def submission_result(submission) -> dict:
    from .trading_metrics import submission_outcome

    return {
        "spotdesk.outcome": submission_outcome(submission),
        "spotdesk.exchange_order_id": submission.order.exchange_order_id,
    }


def gateway_request_attributes(gateway, method, path, *args, **kwargs) -> dict:
    return {
        "spotdesk.environment": gateway.environment.value,
        "spotdesk.account_id": gateway.account_id,
        "http.request.method": method,
        "spotdesk.endpoint": f"{method} {path}",
        "spotdesk.signed": bool(kwargs.get("signed", False)),
    }
