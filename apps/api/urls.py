"""/api/v1/ (the resources), /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI) and
/api/settings/tokens/ (the API tokens page)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import pages, webhooks
from .routes import build_router
from .views.fallback import not_found

app_name = "api"

urlpatterns = [
    path("v1/", include(build_router().urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("settings/tokens/", pages.tokens_page, name="tokens-page"),
    path("settings/tokens/<int:pk>/revoke/", pages.revoke_page, name="tokens-revoke"),
    path("webhooks/signals/<str:token>/", webhooks.signal_webhook, name="signal-webhook"),
    # Last: unknown API paths get the API's JSON 404 (unnamed: nothing to sweep).
    re_path(r"^.*$", not_found),
]
