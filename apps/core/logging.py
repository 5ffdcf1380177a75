"""Logging: structured JSON in production, readable console lines locally.

Every record, whether it comes from structlog or the standard library, passes the
redaction step last before rendering, and carries the request or task correlation id
bound in `correlation`.
"""

import structlog

from .redaction import redact

_SKIP_KEYS = {"_record", "_from_structlog"}


def redact_event(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: mask secrets in the message, extras and traceback."""
    kept = {key: event_dict[key] for key in _SKIP_KEYS if key in event_dict}
    cleaned = redact({k: v for k, v in event_dict.items() if k not in _SKIP_KEYS})
    return {**cleaned, **kept}


_SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class SpotdeskFormatter(structlog.stdlib.ProcessorFormatter):
    """Renders both structlog and stdlib records, redacted, as JSON or console text."""

    def __init__(self, fmt: str = "json", **kwargs):
        renderer = (
            structlog.processors.JSONRenderer(sort_keys=False)
            if fmt == "json"
            else structlog.dev.ConsoleRenderer(colors=False)
        )
        super().__init__(
            foreign_pre_chain=[*_SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_event,
                renderer,
            ],
        )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def build_logging_config(*, level: str = "INFO", fmt: str = "json") -> dict:
    """The dictConfig for Django's LOGGING setting (also used by Celery and streams)."""
    configure_structlog()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"spotdesk": {"()": SpotdeskFormatter, "fmt": fmt}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "spotdesk"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "daphne": {"level": "INFO"},
            "celery": {"level": "INFO"},
            "asyncio": {"level": "WARNING"},
        },
    }


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
