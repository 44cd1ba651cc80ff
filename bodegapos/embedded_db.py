"""The embedded default: a project-local PostgreSQL for development and tests.

When ``DATABASE_URL`` is unset, dev and test settings call :func:`embedded_database_url`,
which starts (once; later calls reuse it) a PostgreSQL 16 server from the ``pgserver`` wheel
with its data in ``.pgdata/`` under the project (``EMBEDDED_PGDATA`` overrides). It listens on
a Unix socket only and keeps running after the process exits; ``make db-stop`` stops it.

Run as root, pgserver creates an unprivileged ``pgserver`` system user, because PostgreSQL
refuses to run as root. Nothing is installed as a system service.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "bodegapos"


def embedded_data_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_PGDATA", PROJECT_ROOT / ".pgdata"))


def embedded_database_url() -> str:
    """Start the embedded server if needed and return a URL for database ``bodegapos``."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(embedded_data_dir(), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"


def embedded_stop(*, timeout: float = 60.0) -> bool:
    """Stop the embedded server of :func:`embedded_data_dir` (fast shutdown: open sessions are
    ended, committed work is kept); return whether one was running.

    pgserver's own ``cleanup()`` stops the server only when the calling process holds the last
    handle in ``.handle_pids.json``, and every process that ever opened it and did not exit
    through ``atexit`` (killed, ``os._exit`` after a fork) stays in that list for good, so it
    silently left the server running. This runs ``pg_ctl stop`` itself, as the user that owns the
    data directory, then empties the handle list. Raises ``RuntimeError`` when the server is still
    running afterwards.
    """
    data_dir = embedded_data_dir()
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    postmaster = int(pid_file.read_text().split()[0])
    if not _pid_alive(postmaster):
        pid_file.unlink(missing_ok=True)  # left by a crash: nothing to stop
        return False
    command = [
        str(POSTGRES_BIN_PATH / "pg_ctl"),
        "-D",
        str(data_dir),
        "-m",
        "fast",
        "-w",
        "-t",
        str(int(timeout)),
        "stop",
    ]
    owner = data_dir.stat().st_uid
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout + 10,
        cwd=data_dir,
        user=owner if os.geteuid() == 0 and owner != 0 else None,
    )
    if _pid_alive(postmaster):
        raise RuntimeError(f"el PostgreSQL embebido (pid {postmaster}) sigue en marcha: {result.stderr.strip()[:300]}")
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        try:
            stopped = embedded_stop()
        except RuntimeError as exc:
            sys.exit(str(exc))
        print(
            f"PostgreSQL embebido detenido ({embedded_data_dir()})"
            if stopped
            else "El PostgreSQL embebido no estaba en marcha."
        )
    else:
        print(embedded_database_url())
