"""URLs of the web process that ops/tests/test_database_down.py kills the database under: the
project's URLs plus two views whose statement is still running when it dies."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import include, path


def _sleep() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(60) /* dbdown */")


def api_sleep(request):
    _sleep()
    return JsonResponse({"ok": True})


def page_sleep(request):
    _sleep()
    return HttpResponse("<p>ok</p>")


urlpatterns = [
    path("api/v1/_dbdown/sleep", api_sleep),
    path("_dbdown/sleep", page_sleep),
    path("", include("bodegapos.urls")),
]

handler500 = "ops.views.server_error"
