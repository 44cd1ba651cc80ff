"""A local PgBouncer for tests: started once per session as a non-root user on 127.0.0.1:6432
(another free port when 6432 is taken) in front of the test database, in transaction mode.

Its configuration is ``ops/pgbouncer/pgbouncer.ini`` (the deploy template) with only the
local parts replaced: a ``*`` fallback database entry pointing at the test server (the embedded
PostgreSQL's Unix socket, or DATABASE_URL's host), trust auth on loopback, a smaller pool so
parallel test runs on one server keep room, and file paths in a private temp directory.

Tests skip with a clear reason when ``pgbouncer`` is not installed (``.ci/run`` installs it).
Test databases are still created directly (Django's test runner); only traffic goes through
PgBouncer.
"""

from __future__ import annotations

import copy
import os
import pwd
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ops" / "pgbouncer" / "pgbouncer.ini"
PREFERRED_PORT = 6432
TEST_POOL_SIZE = int(os.environ.get("TEST_PGBOUNCER_POOL_SIZE", "20"))
MAX_CLIENTS = 1200
OPEN_FILES = 4096
# Django pool size per process while ``default`` goes through PgBouncer (clients, not servers).
POOLED_CLIENTS = 20


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free port")


def _run_as_user(backend_host: str) -> pwd.struct_passwd | None:
    """PgBouncer refuses root. Use the user that can reach the backend socket (pgserver owns the
    embedded server's directory), else postgres, else nobody. ``None`` when not root."""
    if os.geteuid() != 0:
        return None
    candidates = []
    if backend_host.startswith("/"):
        try:
            candidates.append(pwd.getpwuid(os.stat(backend_host).st_uid).pw_name)
        except (FileNotFoundError, KeyError):
            pass
    candidates += ["pgserver", "postgres", "nobody"]
    for name in candidates:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry
    raise RuntimeError("no unprivileged user to run pgbouncer")


def render_config(
    *, template: str, backend_host: str, backend_port: int, port: int, workdir: Path, pool_size: int
) -> str:
    """The deploy template with the local parts replaced (same keys, same pool mode)."""
    overrides = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "trust",
        "auth_file": str(workdir / "userlist.txt"),
        "default_pool_size": str(pool_size),
        "max_db_connections": str(pool_size),
        "reserve_pool_size": "0",
        "max_client_conn": str(MAX_CLIENTS),
        "admin_users": "postgres",
        "stats_users": "postgres",
        "pidfile": str(workdir / "pgbouncer.pid"),
        "logfile": str(workdir / "pgbouncer.log"),
    }
    out, section, seen = [], None, set()
    for line in template.splitlines():
        stripped = line.strip()
        header = re.match(r"^\[(\w+)\]$", stripped)
        if header:
            if section == "pgbouncer":
                out += [f"{k} = {v}" for k, v in overrides.items() if k not in seen]
            section = header.group(1)
            out.append(line)
            if section == "databases":
                out.append(f"* = host={backend_host} port={backend_port}")
            continue
        if section == "databases" and stripped and not stripped.startswith(";"):
            continue  # the deploy entry points at the compose host; the fallback replaces it
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith(";") else None
        if section == "pgbouncer" and key in overrides:
            out.append(f"{key} = {overrides[key]}")
            seen.add(key)
            continue
        out.append(line)
    if section == "pgbouncer":
        out += [f"{k} = {v}" for k, v in overrides.items() if k not in seen]
    return "\n".join(out) + "\n"


@dataclass
class PgBouncer:
    host: str
    port: int
    pool_size: int
    user: str
    workdir: Path
    process: subprocess.Popen

    def dsn(self, dbname: str) -> str:
        return f"host={self.host} port={self.port} dbname={dbname} user={self.user}"

    def admin(self, command: str) -> list[dict]:
        """Run an admin console command (``SHOW POOLS``) and return rows as dicts."""
        import psycopg

        with psycopg.connect(self.dsn("pgbouncer"), autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            cur = conn.execute(command)
            names = [c.name for c in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def pool(self, dbname: str) -> dict:
        rows = [r for r in self.admin("SHOW POOLS") if r["database"] == dbname]
        total: dict = {}
        for row in rows:
            for key, value in row.items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
        return total


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(OPEN_FILES, soft)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # root may raise the hard limit
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard) if hard != resource.RLIM_INFINITY else hard))


def pgbouncer_start(*, backend_host: str, backend_port: int, pool_size: int = TEST_POOL_SIZE) -> PgBouncer:
    binary = pgbouncer_binary()
    if binary is None:
        raise FileNotFoundError("pgbouncer")
    runner = _run_as_user(backend_host)
    workdir = Path(tempfile.mkdtemp(prefix="bodegapos-pgbouncer-"))
    port = _free_port(PREFERRED_PORT)
    (workdir / "userlist.txt").write_text('"postgres" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        render_config(
            template=TEMPLATE.read_text(),
            backend_host=backend_host,
            backend_port=backend_port,
            port=port,
            workdir=workdir,
            pool_size=pool_size,
        )
    )
    command = [binary]
    if runner is not None:
        for path in [workdir, *workdir.iterdir()]:
            os.chown(path, runner.pw_uid, runner.pw_gid)
        command += ["-u", runner.pw_name]
    command.append(str(workdir / "pgbouncer.ini"))
    process = subprocess.Popen(command, preexec_fn=_raise_nofile, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (workdir / "pgbouncer.log").read_text() if (workdir / "pgbouncer.log").exists() else ""
            raise RuntimeError(f"pgbouncer exited {process.returncode}: {process.stderr.read().decode()} {log[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("pgbouncer did not start listening")
    return PgBouncer("127.0.0.1", port, pool_size, "postgres", workdir, process)


def pgbouncer_stop(bouncer: PgBouncer) -> None:
    bouncer.process.terminate()
    try:
        bouncer.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        bouncer.process.kill()
        bouncer.process.wait()
    if bouncer.process.stderr is not None:
        bouncer.process.stderr.close()
    shutil.rmtree(bouncer.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup, django_db_blocker):
    """The running PgBouncer (session-wide), in front of the test database's server."""
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer no está instalado (apt-get install pgbouncer; .ci/run lo instala)")
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host") or "/var/run/postgresql"
    port = int(settings_dict.get("PORT") or 5432)
    bouncer = pgbouncer_start(backend_host=host, backend_port=port)
    yield bouncer
    pgbouncer_stop(bouncer)


@pytest.fixture
def default_through_pgbouncer(pgbouncer):
    """Route Django's ``default`` alias (every thread) through PgBouncer in ``pgbouncer=true``
    mode for one test, then restore the direct connection. Use with
    ``django_db(transaction=True)``: the test's rows must be committed to be seen."""
    from django.db import connections

    conn = connections["default"]
    saved = copy.deepcopy(conn.settings_dict)
    conn.close()
    conn.close_pool()
    options = copy.deepcopy(conn.settings_dict.get("OPTIONS", {}))
    # What database_config() leaves out in pgbouncer=true mode: no server-side binding, nothing
    # prepared (PgBouncer 1.18 in transaction mode cannot keep a named prepared statement).
    options.pop("server_side_binding", None)
    options.pop("prepare_threshold", None)
    # An explicit pool for the test's threads: never inherit a size another test left behind.
    options["pool"] = {**options.get("pool", {}), "min_size": 0, "max_size": POOLED_CLIENTS, "timeout": 20}
    conn.settings_dict.update(
        HOST=pgbouncer.host, PORT=str(pgbouncer.port), OPTIONS=options, DISABLE_SERVER_SIDE_CURSORS=True, PGBOUNCER=True
    )
    try:
        yield pgbouncer
    finally:
        connections.close_all()
        conn.close_pool()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
