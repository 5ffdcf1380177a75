"""Dashboard extras: the saved widget layout, the onboarding tour flag and the
installable web app (manifest + service worker)."""

import json
from functools import wraps

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.otp import otp_satisfied
from apps.core.errors import ValidationError

from . import preferences


def verified_json(view):
    """The pages' rule (signed in, second factor verified), answered in JSON: a script
    calls these, so a redirect to the login page would only confuse it."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and otp_satisfied(user, request.session)):
            error = {"code": "not_authenticated", "message": _("Sign in again."), "fields": {}}
            return JsonResponse({"error": error}, status=403)
        return view(request, *args, **kwargs)

    return guarded


def _validation_error(error: ValidationError) -> JsonResponse:
    body = {"code": error.code, "message": error.message, "fields": {error.field: [error.rule]}}
    return JsonResponse({"error": body}, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
@verified_json
def layout(request):
    """GET the saved overview layout; POST {"order": [...], "hidden": [...]} to save it.
    CSRF is enforced by the middleware (session authentication)."""
    if request.method == "POST":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return _validation_error(ValidationError("layout", "must be JSON"))
        try:
            preferences.save_layout(request.user, data)
        except ValidationError as error:
            return _validation_error(error)
    return JsonResponse(preferences.preferences_for(request.user))


@never_cache
@require_POST
@verified_json
def tour_completed(request):
    preferences.complete_tour(request.user)
    return JsonResponse(preferences.preferences_for(request.user))


@require_GET
def manifest(request):
    body = {
        "name": "Spotdesk",
        "short_name": "Spotdesk",
        "description": _("Automated Binance Spot trading desk"),
        "start_url": reverse("dashboard:overview"),
        "scope": reverse("dashboard:overview"),
        "display": "standalone",
        "background_color": "#0f1419",
        "theme_color": "#0f1419",
        "icons": [
            {"src": static("dashboard/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {
                "src": static("dashboard/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@never_cache  # a new worker must be picked up at once, not after an HTTP cache expiry
def service_worker(request):
    path = finders.find("dashboard/sw.js")
    if not path:
        raise Http404("service worker missing")
    with open(path, encoding="utf-8") as source:
        script = source.read()
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("dashboard:overview")
    return response
