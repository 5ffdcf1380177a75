"""Health, readiness, fleet status and metrics endpoints (thin: services do the work)."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.otp import otp_satisfied

from .exporter import render as render_metrics
from .exporter import scrape_allowed
from .fleet import fleet_snapshot
from .readiness import run_readiness_checks


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. No database, no Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    results = run_readiness_checks()
    ready = all(r.ok for r in results)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {r.name: r.as_dict() for r in results},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _verified_staff(request) -> bool:
    user = request.user
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and otp_satisfied(user, request.session)
    )


@never_cache
def fleet_status(request):
    # The fleet view is an ops page: staff with a second factor verified this session.
    if not _verified_staff(request):
        return redirect_to_login(request.get_full_path())
    snapshot = fleet_snapshot(user=request.user)
    wants_json = request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )
    if wants_json:
        return JsonResponse(snapshot.as_dict())
    return render(request, "monitoring/status.html", {"snapshot": snapshot})


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@never_cache
@require_GET
def metrics(request):
    """Prometheus exposition, for a bearer token or an allow-listed address."""
    if not scrape_allowed(_client_address(request), request.headers.get("Authorization", "")):
        return HttpResponseForbidden("metrics need a bearer token or an allow-listed address\n")
    body, content_type = render_metrics(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
