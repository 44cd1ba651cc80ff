"""`make db-stop` stops the embedded PostgreSQL (bodegapos/embedded_db.py), on a throwaway data
directory of its own (EMBEDDED_PGDATA), never the suite's server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def _alive(pid: int) -> bool:
    from bodegapos.embedded_db import _pid_alive

    return _pid_alive(pid)


@pytest.fixture
def embedded_dir():
    pytest.importorskip("pgserver")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    parent = Path(tempfile.mkdtemp(prefix="bodegapos-embedded-", dir="/tmp"))
    parent.chmod(0o755)  # as root, the server runs as the pgserver user, who must reach it
    data_dir = parent / "pgdata"
    env = {**os.environ, "EMBEDDED_PGDATA": str(data_dir), "XDG_RUNTIME_DIR": "/tmp"}
    yield data_dir, env
    pid = _postmaster_pid(data_dir)
    if pid and _alive(pid):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
def test_make_db_stop_stops_the_embedded_server_even_with_stale_handles(embedded_dir):
    data_dir, env = embedded_dir
    started = subprocess.run(
        [sys.executable, "-m", "bodegapos.embedded_db"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    pid = _postmaster_pid(data_dir)
    assert pid and _alive(pid)
    # A process that opened the server and was killed (a crash test, kill -9) leaves its pid in
    # pgserver's handle list for good; pgserver's own cleanup then never stops the server.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bodegapos.embedded_db import embedded_database_url as u; u(); print('ok', flush=True);"
            " import time; time.sleep(120)",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ok"
    holder.kill()
    holder.wait(10)
    holder.stdout.close()
    assert str(holder.pid) in (data_dir / ".handle_pids.json").read_text()

    # -o: never rebuild .venv from a test, only run the recipe.
    stop = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "db-stop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stop.returncode == 0, stop.stdout + stop.stderr
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "make db-stop returned but the embedded PostgreSQL is still running"
    assert not (data_dir / "postmaster.pid").exists()
    again = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "db-stop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "no estaba en marcha" in again.stdout
