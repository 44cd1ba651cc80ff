"""The database dies under a request (a crash, a failover): the API answers 503 with
``Retry-After`` and its JSON error shape, pages a Spanish 503 page — over real HTTP, from
gunicorn, with a throwaway PostgreSQL killed while the request's statement runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ops.tests.pgcluster import ThrowawayPostgres

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def doomed():
    pytest.importorskip("pgserver")
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def web(doomed, tmp_path):
    """gunicorn (one gthread worker) with its pool on the doomed server, on a loopback port."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DIRECT_URL", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ops.tests.dbdown_settings",
        DATABASE_URL=f"{doomed.url}&pool_timeout=2&connect_timeout=2&connection_limit=2",
        LOG_FORMAT="console",
        LOG_LEVEL="WARNING",
    )
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - gunicorn writes to it until the test ends
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
            "bodegapos.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _request(url: str, *, headers: dict[str, str] | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def _kill_while_running(doomed: ThrowawayPostgres, url: str) -> tuple[int, dict, bytes]:
    """Start a request whose statement is ``pg_sleep``; once PostgreSQL shows it running, crash
    the server; return the answer."""
    import psycopg

    answer: list = []
    thread = threading.Thread(target=lambda: answer.append(_request(url)))
    thread.start()
    deadline = time.monotonic() + 20
    with psycopg.connect(doomed.url, autocommit=True) as watcher:
        while True:
            running = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%%pg_sleep(60) /* dbdown */%%'"
                " AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if running:
                break
            assert time.monotonic() < deadline, "the request's statement never started"
            time.sleep(0.05)
        doomed.crash()
    started = time.monotonic()
    thread.join(30)
    assert answer, "no answer"
    assert time.monotonic() - started < 10  # fast: the error comes from the dead socket
    return answer[0]


def test_the_api_answers_503_with_retry_after_when_the_database_dies_mid_request(doomed, web):
    status, headers, body = _kill_while_running(doomed, f"{web}/api/v1/_dbdown/sleep")
    assert status == 503
    assert int(headers["Retry-After"]) >= 1
    assert headers["Content-Type"].startswith("application/json")
    import json

    errors = json.loads(body)["errors"]
    assert list(errors) == ["database"] and "no está disponible" in errors["database"][0]


def test_a_page_answers_a_spanish_503_page_when_the_database_dies_mid_request(doomed, web):
    status, headers, body = _kill_while_running(doomed, f"{web}/_dbdown/sleep")
    assert status == 503 and int(headers["Retry-After"]) >= 1
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert '<html lang="es-PE">' in page and "no está disponible" in page and "Volver a la caja" in page


def test_real_views_answer_503_while_the_database_stays_down(doomed, web):
    """After the crash, the till's page and the checkout API of a signed-in cashier (their session
    is read from the database) answer 503 too, through whatever failure the pool meets first (a
    dead connection, or none within pool_timeout)."""
    status, _, _ = _kill_while_running(doomed, f"{web}/api/v1/_dbdown/sleep")
    assert status == 503
    session = {"Cookie": "sessionid=" + "k" * 32}
    status, headers, body = _request(f"{web}/pos/", headers=session)
    assert status == 503 and int(headers["Retry-After"]) >= 1 and headers["Content-Type"].startswith("text/html")
    status, headers, body = _request(
        f"{web}/api/v1/checkout", data=b"{}", headers={"Content-Type": "application/json", **session}
    )
    assert status == 503 and int(headers["Retry-After"]) >= 1
    assert list(__import__("json").loads(body)["errors"]) == ["database"]
