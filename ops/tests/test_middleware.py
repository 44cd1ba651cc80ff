from __future__ import annotations

import io
import json
import logging
import logging.config
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.urls import path

from ops.logging import configure_logging, logging_config

log = structlog.get_logger("ops.tests.view")


def logging_view(request):
    log.info("inside_view")
    return HttpResponse("<p>hola</p>", content_type="text/html")


def api_view(request):
    return JsonResponse({"ok": True})


def cached_view(request):
    response = HttpResponse("x", content_type="text/html")
    response["Cache-Control"] = "public, max-age=60"
    return response


def failing_view(request):
    clave_sol = "CLAVE-SOL-NO-DEBE-SALIR"  # noqa: F841 - a local a traceback must never print
    raise RuntimeError("falla de prueba")


def pool_view(request):
    with connections["pooltest"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("t/log", logging_view),
    path("api/v1/t", api_view),
    path("t/cached", cached_view),
    path("api/v1/pool", pool_view),
    path("t/pool", pool_view),
    path("t/falla", failing_view),
]


@contextmanager
def _rendered(log_format: str) -> Iterator[io.StringIO]:
    """The real logging pipeline in ``log_format``, writing into a string; the settings' own
    logging is restored afterwards."""
    stream = io.StringIO()
    config = logging_config(log_format=log_format, level="INFO")
    config["handlers"]["stdout"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        configure_logging(settings.LOGGING)


@pytest.fixture
def json_logs():
    """Capture rendered JSON lines of the real logging pipeline."""
    with _rendered("json") as stream:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.urls(__name__)
def test_request_id_is_honoured_and_returned(client):
    response = client.get("/api/v1/t", headers={"X-Request-ID": "edge-abc-1"})
    assert response["X-Request-ID"] == "edge-abc-1"


@pytest.mark.urls(__name__)
def test_unsafe_request_id_is_replaced(client):
    response = client.get("/api/v1/t", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
    other = client.get("/api/v1/t")
    assert other["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.urls(__name__)
def test_no_store_on_html_and_api_but_not_overridden(client):
    for url in ("/t/log", "/api/v1/t"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
    assert client.get("/t/cached")["Cache-Control"] == "public, max-age=60"


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_every_log_line_carries_request_id_user_and_store(client, chain, json_logs):
    client.force_login(chain["users"][0])
    client.get("/t/log", headers={"X-Request-ID": "req-42"})
    lines = [line for line in json_logs() if line.get("request_id") == "req-42"]
    events = {line["event"] for line in lines}
    assert {"inside_view", "request_finished"} <= events
    for line in lines:
        assert line["user"] == "cajero1"
        assert line["store"] == "0000"
    finished = next(line for line in lines if line["event"] == "request_finished")
    assert finished["status"] == 200 and finished["duration_ms"] >= 0
    # Context does not leak into lines logged after the request.
    structlog.get_logger("after").info("after_request")
    after = [line for line in json_logs() if line["event"] == "after_request"]
    assert after and "request_id" not in after[0]


@pytest.mark.urls(__name__)
def test_a_traceback_reaches_the_log_without_local_variables(client, json_logs):
    client.raise_request_exception = False
    client.get("/t/falla", headers={"X-Request-ID": "req-500"})
    error = next(line for line in json_logs() if line.get("request_id") == "req-500" and "exception" in line)
    text = json.dumps(error)
    assert error["level"] == "error" and "falla de prueba" in text and "failing_view" in text
    assert "CLAVE-SOL-NO-DEBE-SALIR" not in text


def test_the_console_format_is_one_readable_line_per_event():
    with _rendered("console") as stream:
        structlog.get_logger("ops.tests").info("venta_registrada", total="16.46")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and not lines[0].startswith("{")
    assert "venta_registrada" in lines[0] and "total=16.46" in lines[0] and "[info" in lines[0]


POOL_ALIAS = "pooltest"


def _register_tiny_pool_alias() -> None:
    """A second alias to the test database with a 2-connection pool and a 0.5 s pool_timeout.

    Registered at import so pytest-django knows it when the test database is set up (it is a
    mirror of ``default``: same server, same test database)."""
    base = connections.settings["default"]
    pool = {**base["OPTIONS"]["pool"], "min_size": 0, "max_size": 2, "timeout": 0.5}
    connections.settings[POOL_ALIAS] = {
        **base,
        "OPTIONS": {**base["OPTIONS"], "pool": pool},
        "TEST": {**base.get("TEST", {}), "MIRROR": "default"},
    }


_register_tiny_pool_alias()


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True, databases=["default", POOL_ALIAS])
def test_exhausted_pool_answers_503_quickly(client, caplog):
    tiny_pool = POOL_ALIAS
    hold = threading.Event()
    ready = threading.Barrier(3)
    errors = []

    def holder():
        try:
            conn = connections[tiny_pool]
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            # The Django connection keeps its pooled connection until close().
            ready.wait(timeout=10)
            hold.wait(timeout=20)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections[tiny_pool].close()

    threads = [threading.Thread(target=holder) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=10)
    except threading.BrokenBarrierError:
        hold.set()
        for t in threads:
            t.join()
        raise AssertionError(f"holders failed: {errors!r}") from None
    try:
        with caplog.at_level(logging.WARNING, logger="ops.db"):
            api = client.get("/api/v1/pool")
            page = client.get("/t/pool")
    finally:
        hold.set()
        for t in threads:
            t.join()
        connections[tiny_pool].close()
    assert not errors
    assert api.status_code == 503
    assert int(api["Retry-After"]) >= 1
    assert "ocupado" in api.json()["errors"]["database"][0]
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert any("db_pool_exhausted" in str(r.msg) for r in caplog.records)
    # Once connections come back, the same view answers again.
    assert client.get("/api/v1/pool").status_code == 200
    connections[tiny_pool].close_pool()


def test_server_error_handler_maps_pool_timeout_to_503(rf):
    from django.db.utils import OperationalError
    from psycopg_pool import PoolTimeout

    from ops.views import server_error

    try:
        try:
            raise PoolTimeout("couldn't get a connection after 0.50 sec")
        except PoolTimeout as inner:
            raise OperationalError("couldn't get a connection after 0.50 sec") from inner
    except OperationalError:
        response = server_error(rf.get("/pos/"))
    assert response.status_code == 503 and response["Retry-After"]
    try:
        raise ValueError("other")
    except ValueError:
        assert server_error(rf.get("/api/v1/x")).status_code == 500


def test_a_lost_database_is_an_outage_and_a_statement_it_gave_up_on_is_transient():
    """Both are a 503 to retry (``unavailable_response``); a timeout or a deadlock is not an outage."""
    import psycopg
    from django.db import utils
    from psycopg import errors as pg

    from ops.errors import is_database_transient, is_database_unavailable

    def wrapped(inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except Exception as exc:
                raise utils.OperationalError(str(exc)) from exc
        except utils.OperationalError as outer:
            return outer

    assert is_database_unavailable(
        wrapped(psycopg.OperationalError("consuming input failed: server closed the connection"))
    )
    assert is_database_unavailable(wrapped(pg.AdminShutdown("terminating connection due to administrator command")))
    assert is_database_unavailable(wrapped(pg.CannotConnectNow("the database system is starting up")))
    assert is_database_unavailable(psycopg.InterfaceError("the connection is closed"))
    transient = [
        pg.QueryCanceled("canceling statement due to statement timeout"),
        pg.DeadlockDetected("deadlock detected"),
        pg.LockNotAvailable("canceling statement due to lock timeout"),
        pg.SerializationFailure("could not serialize access"),
    ]
    for error in transient:
        assert not is_database_unavailable(wrapped(error)) and is_database_transient(wrapped(error)), error
    demoted = wrapped(pg.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"))
    assert is_database_unavailable(demoted) and not is_database_transient(demoted)
    assert not is_database_transient(wrapped(pg.UniqueViolation("duplicate key")))
    assert not is_database_unavailable(ValueError("other")) and not is_database_transient(ValueError("other"))


def statement_timeout_view(request):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(1)")
    return JsonResponse({"ok": True})


urlpatterns += [path("api/v1/lento", statement_timeout_view), path("t/lento", statement_timeout_view)]


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_is_a_503_to_retry_and_is_logged_as_an_error(client, caplog):
    with caplog.at_level(logging.ERROR, logger="ops.db"):
        api = client.get("/api/v1/lento")
        page = client.get("/t/lento")
    assert api.status_code == 503 and api["Retry-After"] == "1"
    assert "no pudo completar" in api.json()["errors"]["database"][0]
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert [r.levelname for r in caplog.records if "db_statement_failed" in str(r.msg)] == ["ERROR", "ERROR"]
