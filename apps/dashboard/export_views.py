"""Export downloads of the account page: scoped like the page (404 for an account the
user may not view), audited by `export_jobs.start`."""

from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.errors import ValidationError

from . import export_jobs, exports, selectors
from .views import verified_session


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@never_cache
@verified_session
def export(request, account_id: int, kind: str, fmt: str):
    account = selectors.account_for(request.user, account_id, now=timezone.now())
    try:
        started = export_jobs.start(user=request.user, account=account, kind_name=kind, fmt=fmt)
    except ValidationError as error:
        # The API's error shape (docs/api.md).
        body = {"code": error.code, "message": error.message, "fields": {error.field: [error.rule]}}
        return JsonResponse({"error": body}, status=400)
    export_kind = exports.KINDS[kind]
    if started.background:
        return JsonResponse(
            {
                "job": started.job_id,
                "status": export_jobs.Status.QUEUED,
                "rows": started.rows,
                "status_url": reverse("dashboard:export-status", args=[started.job_id]),
                "download_url": reverse("dashboard:export-download", args=[started.job_id]),
            },
            status=202,
        )
    name = exports.filename(export_kind, account, fmt)
    if fmt == "csv":
        lines = exports.csv_lines(exports.rows(export_kind, account))
        response = StreamingHttpResponse(lines, content_type=exports.CONTENT_TYPES["csv"])
        return _attachment(response, name)
    body = exports.file_bytes(export_kind, account, fmt)
    return _attachment(HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt]), name)


@require_GET
@never_cache
@verified_session
def export_status(request, job_id: str):
    state = export_jobs.job_for(request.user, job_id)
    if state is None:
        raise Http404
    return JsonResponse(
        {
            "job": job_id,
            "status": state["status"],
            "done": int(state.get("done", 0)),
            "total": int(state.get("total", 0)),
            "download_url": reverse("dashboard:export-download", args=[job_id]),
        }
    )


@require_GET
@never_cache
@verified_session
def export_download(request, job_id: str):
    state = export_jobs.job_for(request.user, job_id)
    if state is None or state["status"] != export_jobs.Status.DONE:
        raise Http404
    path = export_jobs.file_path(job_id, state["format"])
    if not path.exists():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=state["filename"],
        content_type=exports.CONTENT_TYPES[state["format"]],
    )
