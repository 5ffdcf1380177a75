"""Views for tests/core/test_asgi_handler.py: what the web handler must get right beyond
the project's own pages (a streamed body, a posted body, the thread a request runs on,
and the database connection it leaves behind)."""

import threading

from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

# Set by a test to hold the streamed view's iterator between its parts.
stream_gate = {"entered": None, "between_parts": None, "closed": None}


def streamed(request):
    def parts():
        try:
            yield b"first,"
            if stream_gate["entered"] is not None:
                stream_gate["entered"].set()
                stream_gate["between_parts"].wait(10)
            with connection.cursor() as cursor:  # a streamed export reads as it goes
                cursor.execute("SELECT 2")
                yield f"second {cursor.fetchone()[0]}".encode()
        finally:
            if stream_gate["closed"] is not None:
                stream_gate["closed"].set()

    return StreamingHttpResponse(parts(), content_type="text/csv")


@csrf_exempt
def echo(request):
    return HttpResponse(request.body[::-1], content_type="application/octet-stream")


def whereami(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"thread": threading.get_ident(), "query": request.GET.get("n")})


urlpatterns = [
    path("streamed/", streamed),
    path("echo/", echo),
    path("whereami/", whereami),
]
