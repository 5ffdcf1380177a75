"""The OpenAPI schema: valid, served with a local interactive UI, and changed only on
purpose (the snapshot below is regenerated with the command in docs/api.md)."""

import difflib
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

from tests.api.conftest import session_client, token_client, token_for

SNAPSHOT = Path(__file__).with_name("openapi.yaml")
REGENERATE = (
    "DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python manage.py spectacular "
    "--lang en --validate --fail-on-warn --file tests/api/openapi.yaml"
)


def current_schema() -> dict:
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_matches_the_committed_snapshot():
    schema = current_schema()
    validate_schema(schema)
    rendered = OpenApiYamlRenderer().render(schema, renderer_context={}).decode()
    committed = SNAPSHOT.read_text()
    if yaml.safe_load(rendered) != yaml.safe_load(committed):
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(True), rendered.splitlines(True), "snapshot", "now"
                )
            )[:80]
        )
        pytest.fail(f"the API schema changed; if on purpose, run:\n  {REGENERATE}\n\n{diff}")


def test_every_operation_documents_the_error_shape():
    schema = current_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for code in ("401", "403", "429"):
                content = responses[code]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}, (path, method, code)
            assert operation["security"], (path, method)


def test_secrets_are_write_only_in_the_schema():
    components = current_schema()["components"]["schemas"]
    read = components["ExchangeAccount"]["properties"]
    written = components["ExchangeAccountRequest"]["properties"]
    for name in ("api_key", "secret"):
        assert name not in read
        assert name in written
    assert "token" not in components["ApiToken"]["properties"]


@pytest.mark.django_db
def test_schema_and_docs_are_served_to_signed_in_users_without_a_cdn(desk, client):
    assert client.get("/api/schema/").status_code == 401
    signed_in = session_client(desk.viewer)
    schema = signed_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert token_client(token_for(desk.viewer, "read")).get("/api/schema/").status_code == 200
    page = signed_in.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
