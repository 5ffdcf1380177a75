"""Django's exception reports (error mails, the DEBUG page) without secrets.

Django hides frame variables only in functions marked `@sensitive_variables`; a
secret passing through any other frame (a form's cleaned_data, a service's
arguments) would be printed in full. This filter runs every frame variable through
the same redaction as the logs: by name, by shape and by registered value.
"""

from django.views.debug import SafeExceptionReporterFilter

from .redaction import REDACTED, SECRET_KEY_NAME, redact, redact_text


class _Shown:
    """A value as the report prints it: its redacted repr."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _redacted(name: str, value):
    if SECRET_KEY_NAME.search(name):
        return REDACTED
    if isinstance(value, str | bytes | dict | list | tuple | set | frozenset):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    try:
        return _Shown(redact_text(repr(value)))
    except Exception:  # a broken __repr__ must not break the report
        return _Shown(f"<{type(value).__name__} (repr failed)>")


class SecretsRedactingFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, _redacted(name, value)) for name, value in variables]
