"""OpenAPI additions: the one error shape and the error responses of every operation,
and the authentication schemes."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Each bad field with the rules it broke.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

ERRORS = {
    "400": "Bad input: `fields` names each field and rule; nothing was changed.",
    "401": "Not authenticated, or an invalid, expired or revoked token.",
    "403": "Your role, your token's scope or a missing step-up code forbids this.",
    "404": "No such object among those you may see.",
    "409": "The object's state does not allow this now.",
    "429": "Too many requests: retry after `Retry-After` seconds.",
}
READ_ERRORS = ("400", "401", "403", "404", "429")
METHODS = ("get", "post", "put", "patch", "delete")


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            codes = READ_ERRORS if method == "get" else tuple(ERRORS)
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {"description": ERRORS[code], "content": {"application/json": {"schema": ref}}},
                )
    return result


# --- authentication schemes (registered on import, see apps.api.apps) ---------------


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token sdt_…`: a personal API token from /api/v1/tokens/.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.VerifiedSessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
