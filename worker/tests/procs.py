"""Helpers for process-level tests: run ``manage.py sunat_worker`` against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent.parent


def test_database_url() -> str:
    """A DATABASE_URL for the database this test process is using (the throwaway test DB)."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "postgres")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or s.get("OPTIONS", {}).get("host") or ""
    port = s.get("PORT") or ""
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{s['NAME']}?host={quote(host, safe='')}" + (
            f"&port={port}" if port else ""
        )
    return f"postgresql://{user}{password}@{host}{':' + str(port) if port else ''}/{s['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DIRECT_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="bodegapos.settings.test",
        DATABASE_URL=test_database_url(),
        LOG_LEVEL=env.get("WORKER_TEST_LOG_LEVEL", "WARNING"),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(*args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env or worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def worker(*args: str, perform: str = "worker.testing.simulated_sunat", env: dict[str, str] | None = None):
    return manage("sunat_worker", "--perform", perform, *args, env=env)


def wait_for(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal ``proc`` and wait for it; its pipes are drained and closed (``communicate``)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.communicate(timeout=timeout)
        return proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=5)
        raise


def kill_all(procs: list[subprocess.Popen]) -> None:
    """Kill what still runs, reap everything and close every pipe."""
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=10)


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
        return row[0] if row else None


def rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if cursor.description else []
