"""One error shape for every API response: {"error": {"code", "message", "fields"}}.

Maps DRF's exceptions, Django's and Spotdesk's own (`apps.core.errors`). `fields`
names each bad field with the rules it broke; it is {} for errors about no field.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from apps.core import errors as core
from apps.monitoring import overload

# Spotdesk's errors and the HTTP status each becomes.
CORE_STATUS = (
    (core.ValidationError, status.HTTP_400_BAD_REQUEST),
    (core.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (core.NotFound, status.HTTP_404_NOT_FOUND),
    (core.ConflictError, status.HTTP_409_CONFLICT),
    (core.ExternalServiceError, status.HTTP_502_BAD_GATEWAY),
)

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.sub": ["rule", ...]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, rules in _flatten(value, name).items():
                fields.setdefault(field, []).extend(rules)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or NON_FIELD] = [force_str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                for field, rules in _flatten(item, f"{prefix}[{index}]").items():
                    fields.setdefault(field, []).extend(rules)
    else:
        fields[prefix or NON_FIELD] = [force_str(detail)]
    return fields


def _validation_message(fields: dict[str, list[str]]) -> str:
    parts = [f"{name}: {rules[0]}" for name, rules in fields.items() if rules]
    return "; ".join(parts) or _("Invalid input.")


def _from_drf(exc: exceptions.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        payload = body("validation_error", _validation_message(fields), fields)
    else:
        detail = exc.detail
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message = force_str(detail) if not isinstance(detail, dict | list) else str(exc)
        payload = body(code, message)
    return Response(payload, status=exc.status_code, headers=headers)


def _from_core(exc: core.SpotdeskError) -> Response:
    http_status = next(
        (code for kind, code in CORE_STATUS if isinstance(exc, kind)),
        status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
    fields = {}
    if isinstance(exc, core.ValidationError):
        extra = getattr(exc, "errors", None)  # e.g. every broken strategy parameter
        fields = {k: [str(v)] for k, v in extra.items()} if extra else {exc.field: [exc.rule]}
    headers = {}
    if isinstance(exc, core.ExternalServiceError) and exc.retryable:
        http_status = status.HTTP_503_SERVICE_UNAVAILABLE
        headers["Retry-After"] = "5"
    return Response(body(exc.code, exc.message, fields), status=http_status, headers=headers)


def _from_django_validation(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        fields = {name: [force_str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
    else:
        fields = {NON_FIELD: [force_str(m) for m in exc.messages]}
    return Response(
        body("validation_error", _validation_message(fields), fields),
        status=status.HTTP_400_BAD_REQUEST,
    )


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        response = _from_drf(exc)
    elif isinstance(exc, core.SpotdeskError):
        response = _from_core(exc)
    elif isinstance(exc, DjangoValidationError):
        response = _from_django_validation(exc)
    elif overload.is_overload(exc):
        overload.shed("api")
        response = Response(
            body("overloaded", _("Spotdesk is overloaded. Retry in a few seconds.")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(overload.RETRY_AFTER_SECONDS)},
        )
    else:
        return None  # a bug: Django's 500 handling and logging take over
    set_rollback()
    return response
