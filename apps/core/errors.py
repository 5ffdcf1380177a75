"""The error hierarchy every Spotdesk layer raises and catches.

Each error carries a stable machine-readable `code`; validation errors also name the
field and the rule that failed, so that API responses and admin messages can say
exactly what to fix.
"""


class SpotdeskError(Exception):
    """Base of every error Spotdesk raises on purpose."""

    code = "spotdesk_error"

    def __init__(self, message: str, **context):
        super().__init__(message)
        self.message = message
        self.context = context

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class ConfigurationError(SpotdeskError):
    """A setting is missing or wrong; the message names the setting and the fix."""

    code = "configuration_error"


class ValidationError(SpotdeskError):
    """Bad input: names the field and the rule, and nothing was changed."""

    code = "validation_error"

    def __init__(self, field: str, rule: str, message: str | None = None):
        super().__init__(message or f"{field}: {rule}", field=field, rule=rule)
        self.field = field
        self.rule = rule

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "rule": self.rule, "message": self.message}


class PermissionDenied(SpotdeskError):
    code = "permission_denied"


class NotFound(SpotdeskError):
    code = "not_found"


class ConflictError(SpotdeskError):
    """The operation clashes with the current state (e.g. an account is halted)."""

    code = "conflict"


class ExternalServiceError(SpotdeskError):
    """A backing service or the exchange failed; `retryable` says if trying again may help."""

    code = "external_service_error"

    def __init__(self, message: str, *, retryable: bool = False, **context):
        super().__init__(message, **context)
        self.retryable = retryable


class ExchangeError(ExternalServiceError):
    """The exchange answered with an error (`exchange_code` is Binance's code)."""

    code = "exchange_error"

    def __init__(self, message: str, *, exchange_code: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.exchange_code = exchange_code


class UncertainOutcomeError(ExchangeError):
    """The request may or may not have taken effect: resolve by querying, never resend blind."""

    code = "uncertain_outcome"
