"""The reports read from a real streaming replica of the test server, and from the primary, with
a warning, when it is down.

The replica is made here: ``pg_basebackup -R`` of the server the tests run on (the embedded
pgserver one when ``DATABASE_URL`` is unset, as in CI), with that server's own major version of
the PostgreSQL binaries (the pgserver wheel's, or the system's), started on a Unix socket of its
own. A separate Django process, with ``REPORTS_DATABASE_URL`` pointing at the replica, answers
``GET /api/v1/reports/daily`` and ``/reports/``. The proof that its figures come from the
replica: with the replica's replay paused, a sale committed on the primary is missing from the
report, and appears once replay resumes. Skips, saying why, when no such binaries exist or the
server refuses replication connections (a ``pg_hba.conf`` without a ``replication`` line, as
Debian's default cluster here).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from sales.tests.factories import cashier_make, company_make, manager_make, product_make, store_make

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = Path(__file__).resolve().parent.parent
REPLICA_PORT = 55439


def _bin_dirs(major: int) -> list[Path]:
    dirs = []
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        dirs.append(Path(POSTGRES_BIN_PATH))
    except ImportError:  # pragma: no cover - pgserver is a requirement
        pass
    dirs.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    found = []
    for d in dirs:
        if not ((d / "pg_basebackup").exists() and (d / "pg_ctl").exists()):
            continue
        version = subprocess.run([str(d / "postgres"), "--version"], capture_output=True, text=True).stdout
        if f" {major}." in version or version.strip().endswith(f" {major}"):
            found.append(d)
    return found


def _primary() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000, current_setting('data_directory')")
        major, data_directory = cursor.fetchone()
    info = connection.connection.info  # what libpq really connected to (a socket directory or a host)
    return {
        "host": info.host,
        "port": str(info.port),
        "user": info.user,
        "name": info.dbname,
        "major": major,
        "data_directory": data_directory,
    }


def _url(*, host: str, port: str, user: str, name: str) -> str:
    if host.startswith("/"):
        return f"postgresql://{quote(user)}@/{name}?host={quote(host)}&port={port}"
    return f"postgresql://{quote(user)}@{host}:{port}/{name}"


def _run_as(uid: int | None) -> dict:
    return {"user": uid} if uid is not None else {}


@pytest.fixture
def replica(transactional_db):
    primary = _primary()
    bins = _bin_dirs(primary["major"])
    if not bins:
        pytest.skip(
            f"no PostgreSQL {primary['major']} binaries with pg_basebackup here (pgserver wheel or /usr/lib/postgresql)"
        )
    bindir = bins[0]
    uid = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the primary's owner runs the replica
        try:
            uid = os.stat(primary["data_directory"]).st_uid
        except OSError:
            uid = pwd.getpwnam("postgres").pw_uid
    base = Path(tempfile.mkdtemp(prefix="bodegapos-replica-"))
    base.chmod(0o755)
    if uid is not None:
        os.chown(base, uid, -1)
    data = base / "data"
    backup = subprocess.run(
        [
            str(bindir / "pg_basebackup"),
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-password",
            "-h",
            primary["host"],
            "-p",
            primary["port"],
            "-U",
            primary["user"],
        ],
        capture_output=True,
        text=True,
        timeout=300,
        **_run_as(uid),
    )
    if backup.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        reason = (backup.stderr.strip().splitlines() or ["?"])[-1]
        if "replication" in backup.stderr and ("pg_hba.conf" in backup.stderr or "permission" in backup.stderr):
            pytest.skip(f"the test server refuses replication connections: {reason}")
        pytest.fail(f"pg_basebackup failed: {backup.stderr}")
    for name, text in (("postgresql.conf", ""), ("pg_hba.conf", "local all all trust\n"), ("pg_ident.conf", "")):
        if not (data / name).exists():  # Debian keeps them in /etc: the copy has none
            (data / name).write_text(text)
            if uid is not None:
                os.chown(data / name, uid, -1)
    options = f"-c port={REPLICA_PORT} -c listen_addresses='' -c unix_socket_directories='{base}' -c hot_standby=on"
    started = subprocess.run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(base / "replica.log"),
            "-o",
            options,
            "start",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        **_run_as(uid),
    )
    if started.returncode != 0:
        log = (base / "replica.log").read_text() if (base / "replica.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"the replica did not start: {started.stderr}\n{log}")
    info = {
        "primary_url": _url(host=primary["host"], port=primary["port"], user=primary["user"], name=primary["name"]),
        "url": _url(host=str(base), port=str(REPLICA_PORT), user=primary["user"], name=primary["name"]),
        "stop": lambda: subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            **_run_as(uid),
        ),
    }
    try:
        yield info
    finally:
        info["stop"]()
        shutil.rmtree(base, ignore_errors=True)


def _replica_sql(replica: dict, sql: str):
    with psycopg.connect(replica["url"], autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql).fetchone()


def _caught_up(replica: dict) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (done,) = _replica_sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        if done:
            return
        time.sleep(0.1)
    raise AssertionError("the replica did not catch up within 30 s")


REPORT_SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.get(username=sys.argv[1]))
api = client.get("/api/v1/reports/daily", HTTP_HOST="localhost")
page = client.get("/reports/", HTTP_HOST="localhost")
print(json.dumps({"status": api.status_code, "source": api.get("X-Reports-Source"), "body": api.json(),
                  "page": page.content.decode()}))
"""


def _report(replica: dict, username: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bodegapos.settings.test",
        "DATABASE_URL": replica["primary_url"],
        "REPORTS_DATABASE_URL": replica["url"],
        "LOG_LEVEL": "ERROR",
    }
    done = subprocess.run(
        [sys.executable, "-c", REPORT_SCRIPT, username],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, answer
    return answer


def _sell(client, item) -> None:
    response = client.post(
        "/api/v1/checkout",
        json.dumps(
            {
                "idempotency_key": str(uuid.uuid4()),
                "document_type": "03",
                "lines": [{"barcode": item.product.barcode, "quantity": "1"}],
                "payments": [{"method": "card", "amount": str(item.price)}],
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def test_reports_come_from_the_replica_and_fall_back_to_the_primary_when_it_is_down(client, replica):
    company = company_make()
    store, _ = store_make(company=company)
    cashier = cashier_make(store=store, username="cajera_replica")
    manager_make(store=store, username="gerente_replica")
    item = product_make(store=store, price="12.50")
    client.force_login(cashier)
    _sell(client, item)
    _caught_up(replica)

    first = _report(replica, "gerente_replica")
    assert first["source"] == "replica"
    assert first["body"]["sales"] == {"count": 1, "total": "12.50", "igv": "1.91", "icbper": "0.00"}
    assert "Datos de la réplica de reportes" in first["page"] and 'data-source="replica"' in first["page"]

    # Freeze the replica: a sale the primary commits now is not in the report (it is read there).
    _replica_sql(replica, "SELECT pg_wal_replay_pause()")
    _sell(client, item)
    frozen = _report(replica, "gerente_replica")
    assert frozen["source"] == "replica" and frozen["body"]["sales"]["count"] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sales_sale")
        assert cursor.fetchone()[0] == 2  # the primary has both

    _replica_sql(replica, "SELECT pg_wal_replay_resume()")
    _caught_up(replica)
    assert _report(replica, "gerente_replica")["body"]["sales"]["count"] == 2

    # The replica goes down: the primary answers, and the page says so.
    replica["stop"]()
    _sell(client, item)
    fallback = _report(replica, "gerente_replica")
    assert fallback["source"] == "primary" and fallback["body"]["sales"]["count"] == 3
    assert "La réplica de reportes no responde" in fallback["page"] and 'data-source="primary"' in fallback["page"]
