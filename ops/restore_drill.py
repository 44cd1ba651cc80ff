"""The restore drill (``manage.py restore_drill``): prove that a backup restores into a working
database.

1. Dump the live database with ``pg_dump -Fc`` (or take a backup file with ``--dump``). The dump
   runs in a snapshot exported by a REPEATABLE READ transaction that also counts the rows of
   :data:`DRILL_TABLES`, so the counts are exactly what the dump holds, however busy the chain is.
2. Restore it with ``pg_restore`` into a fresh database on the same server (``<name>_drill_<time>``).
3. Against the restored database, in a process of its own: count the same tables, run each of
   :data:`VERIFY_COMMANDS` that exists (``migrate --check``, ``audit_verify``) and the deep health check (``/health?deep=true``'s view: ``down`` fails the drill).
4. Drop the scratch database (``--keep`` keeps it) and print what it found and how long it took.

The dump and the restore go straight to PostgreSQL (``DIRECT_URL`` when set), never through
PgBouncer, with the client binaries of the server's major version (``--bin-dir`` or found).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

# The tables whose row counts must survive the round trip: sales, SUNAT documents and (once the
# audit log is merged) audit events. One list: add a table here and the drill counts it.
DRILL_TABLES: tuple[str, ...] = ("sales_sale", "sunat_sunatdocument", "stores_auditevent", "sales_cashsession")
# manage.py commands run against the restored database when they exist; a non-zero exit fails it.
VERIFY_COMMANDS: tuple[tuple[str, ...], ...] = (("migrate", "--check"), ("audit_verify",))


RESULT_MARK = "restore-drill-result: "


class DrillError(Exception):
    """The drill failed; the message is one readable line."""


@dataclass
class DrillReport:
    dump: str
    scratch: str
    expected: dict[str, int] | None
    restored: dict[str, int] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- connection details ----------------------------------------------------------------------


def source_params() -> dict[str, str]:
    """libpq parameters of the database to back up: ``DIRECT_URL``'s when set, else the default
    alias's (never PgBouncer's: pg_dump needs a session)."""
    if getattr(settings, "DIRECT_URL", ""):
        from bodegapos.settings.database import database_config

        config = database_config(settings.DIRECT_URL)
    else:
        config = connection.settings_dict
    options = config.get("OPTIONS", {})
    params = {
        "dbname": config.get("NAME") or "",
        "user": config.get("USER") or "",
        "password": config.get("PASSWORD") or "",
        # A Unix socket directory comes as the URL's ?host=…, which lands in OPTIONS.
        "host": options.get("host") or config.get("HOST") or "",
        "port": str(options.get("port") or config.get("PORT") or ""),
        "sslmode": options.get("sslmode", ""),
    }
    return {k: v for k, v in params.items() if v}


def libpq_env(params: dict[str, str]) -> dict[str, str]:
    """Environment for the client binaries (the password never on a command line)."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        "sslmode": "PGSSLMODE",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({names[k]: v for k, v in params.items()})
    return env


def database_url(params: dict[str, str], dbname: str) -> str:
    """A ``DATABASE_URL`` for ``dbname`` on the same server (Unix socket hosts as ``?host=``)."""
    user = quote(params.get("user", ""), safe="")
    password = quote(params.get("password", ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("host", "")
    query = {k: v for k, v in (("sslmode", params.get("sslmode", "")),) if v}
    if host.startswith("/"):
        query["host"] = host
        netloc = credentials
    else:
        netloc = credentials + host + (f":{params['port']}" if params.get("port") else "")
    if host.startswith("/") and params.get("port"):
        query["port"] = params["port"]
    return f"postgresql://{netloc}/{quote(dbname)}" + (f"?{urlencode(query)}" if query else "")


def _connect(params: dict[str, str], **kwargs: Any):
    import psycopg

    return psycopg.connect(**params, **kwargs)


# --- binaries ----------------------------------------------------------------------------------


def _major(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def client_bin_dir(server_major: int, bin_dir: str | None = None) -> Path:
    """A directory with ``pg_dump`` and ``pg_restore`` of ``server_major``: ``bin_dir``, Debian's
    ``/usr/lib/postgresql/N/bin``, the pgserver wheel's, or ``PATH``'s."""
    candidates: list[Path] = []
    if bin_dir:
        candidates.append(Path(bin_dir))
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin"))
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH

        candidates.append(Path(POSTGRES_BIN_PATH))
    except Exception:  # pgserver is a development dependency only
        pass
    if found := shutil.which("pg_dump"):
        candidates.append(Path(found).resolve().parent)
    for candidate in candidates:
        if (candidate / "pg_restore").exists() and _major(candidate / "pg_dump") == server_major:
            return candidate
    raise DrillError(
        f"no hay pg_dump/pg_restore de PostgreSQL {server_major}: instale postgresql-client-{server_major} "
        "o indique --bin-dir"
    )


def _run(argv: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=6 * 3600)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DrillError(f"{what} falló: {detail[-1] if detail else f'código {result.returncode}'}")


# --- the steps ---------------------------------------------------------------------------------


def table_counts(cursor) -> dict[str, int]:
    """Row counts of the :data:`DRILL_TABLES` that exist in the database of ``cursor``."""
    counts = {}
    for table in DRILL_TABLES:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if cursor.fetchone()[0]:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def dump_with_counts(*, params: dict[str, str], bin_dir: Path, out: Path) -> dict[str, int]:
    """``pg_dump -Fc`` into ``out`` inside an exported snapshot; the row counts of that snapshot."""
    with _connect(params, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        with conn.cursor() as cursor:
            counts = table_counts(cursor)
        _run(
            [str(bin_dir / "pg_dump"), "-Fc", f"--snapshot={snapshot}", "--no-password", "-f", str(out)],
            env=libpq_env(params),
            what="pg_dump",
        )
        conn.execute("ROLLBACK")
    return counts


def restore(*, params: dict[str, str], bin_dir: Path, dump: Path, scratch: str) -> None:
    with _connect({**params, "dbname": params.get("dbname", "postgres")}, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}" TEMPLATE template0')
    _run(
        [
            str(bin_dir / "pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--no-password",
            "-d",
            scratch,
            str(dump),
        ],
        env=libpq_env(params),
        what="pg_restore",
    )


def drop(*, params: dict[str, str], scratch: str) -> None:
    with _connect({**params, "dbname": params.get("dbname", "postgres")}, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def verify_restored(*, params: dict[str, str], scratch: str) -> dict[str, Any]:
    """Run :func:`verify_here` in a new ``manage.py`` process whose database is ``scratch``."""
    env = {k: v for k, v in os.environ.items() if k != "DIRECT_URL"}  # same settings module
    env["DATABASE_URL"] = database_url(params, scratch)
    root = Path(settings.BASE_DIR)
    result = subprocess.run(
        [sys.executable, str(root / "manage.py"), "restore_drill", "--verify-here"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if result.returncode != 0 or not lines:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DrillError(f"la verificación de la base restaurada falló: {detail[-1] if detail else result.returncode}")
    return json.loads(lines[-1][len(RESULT_MARK) :])


def verify_here() -> dict[str, Any]:
    """In the restored database (this process's default): counts, verify commands, deep health."""
    from django.core.management import call_command, get_commands
    from django.core.management.base import CommandError
    from django.test import RequestFactory

    from ops.views import health_view

    with connection.cursor() as cursor:
        counts = table_counts(cursor)
    commands: dict[str, str] = {}
    available = get_commands()
    for command in VERIFY_COMMANDS:
        name = " ".join(command)
        if command[0] not in available:
            commands[name] = "no existe (omitido)"
            continue
        try:
            call_command(*command, verbosity=0)
            commands[name] = "ok"
        except SystemExit as exc:
            commands[name] = "ok" if not exc.code else f"falló (código {exc.code})"
        except CommandError as exc:
            commands[name] = f"falló: {exc}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {settings.METRICS_TOKEN}"} if settings.METRICS_TOKEN else {}
    response = health_view(RequestFactory().get("/health", {"deep": "true"}, **headers))
    body = json.loads(response.content)
    return {
        "restored": counts,
        "commands": commands,
        "health": {"http": response.status_code, "status": body["status"], "checks": body.get("checks")},
    }


def drill_run(
    *, dump: str | None = None, keep: bool = False, bin_dir: str | None = None, log=lambda line: None
) -> DrillReport:
    """The whole drill; raises :class:`DrillError` on the first step that fails (the scratch
    database is dropped anyway unless ``keep``)."""
    params = source_params()
    with _connect(params) as conn:
        server_major = conn.info.server_version // 10000
    binaries = client_bin_dir(server_major, bin_dir)
    scratch = f"{params.get('dbname', 'bodegapos')[:40]}_drill_{time.strftime('%Y%m%d%H%M%S')}"
    workdir = Path(tempfile.mkdtemp(prefix="bodegapos-drill-"))
    started = time.monotonic()
    report = DrillReport(dump=dump or "", scratch=scratch, expected=None)
    try:
        if dump:
            dump_path = Path(dump)
            if not dump_path.is_file():
                raise DrillError(f"no existe el archivo de respaldo {dump}")
        else:
            dump_path = workdir / "bodegapos.dump"
            log(f"pg_dump -Fc de {params.get('dbname')} …")
            report.expected = dump_with_counts(params=params, bin_dir=binaries, out=dump_path)
            size = dump_path.stat().st_size // 1024 if dump_path.exists() else 0
            report.dump = f"{dump_path} ({size} KiB, se borra al terminar)"
            report.seconds["pg_dump"] = round(time.monotonic() - started, 2)
        mark = time.monotonic()
        log(f"pg_restore en la base nueva {scratch} …")
        try:
            restore(params=params, bin_dir=binaries, dump=dump_path, scratch=scratch)
            report.seconds["pg_restore"] = round(time.monotonic() - mark, 2)
            mark = time.monotonic()
            log("verificando la base restaurada …")
            found = verify_restored(params=params, scratch=scratch)
            report.seconds["verify"] = round(time.monotonic() - mark, 2)
        finally:
            if not keep:
                drop(params=params, scratch=scratch)
        report.restored, report.commands, report.health = found["restored"], found["commands"], found["health"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.seconds["total"] = round(time.monotonic() - started, 2)
    if report.expected is not None:
        for table, count in report.expected.items():
            if report.restored.get(table) != count:
                report.problems.append(
                    f"{table}: {count} filas en el respaldo, {report.restored.get(table)} restauradas"
                )
    report.problems += [f"{name}: {result}" for name, result in report.commands.items() if result.startswith("falló")]
    if report.health.get("http") == 503:
        report.problems.append(f"/health?deep=true: {report.health.get('status')} (503)")
    return report
