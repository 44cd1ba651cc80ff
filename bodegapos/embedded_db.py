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


def embedded_stop() -> None:
    data_dir = embedded_data_dir()
    if not (data_dir / "postmaster.pid").exists():
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        embedded_stop()
    else:
        print(embedded_database_url())
