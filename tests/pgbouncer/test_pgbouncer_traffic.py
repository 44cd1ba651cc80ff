"""Traffic through a local PgBouncer in transaction mode (marked ``pgbouncer``)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.test import Client

from bodegapos.settings.database import database_config
from sales.models import Sale
from sales.tests.factories import cashier_make, company_make, product_make, store_make
from sunat.models import SunatJob

pytestmark = pytest.mark.pgbouncer


def _test_db() -> str:
    return connections["default"].settings_dict["NAME"]


def test_database_url_pgbouncer_mode_translates():
    config = database_config("postgresql://u:p@127.0.0.1:6432/db?pgbouncer=true&connection_limit=5&pool_timeout=3")
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True and config["PGBOUNCER"] is True
    assert config["OPTIONS"]["pool"]["max_size"] == 5 and config["OPTIONS"]["pool"]["timeout"] == 3.0
    assert "pgbouncer" not in config["OPTIONS"] and "connection_limit" not in config["OPTIONS"]
    # Django's default stays: client-side binding, nothing prepared (PgBouncer 1.18 needs that).
    assert "prepare_threshold" not in config["OPTIONS"] and "server_side_binding" not in config["OPTIONS"]


@pytest.mark.django_db(transaction=True)
def test_raw_query_through_pgbouncer(pgbouncer):
    with psycopg.connect(pgbouncer.dsn(_test_db())) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == _test_db()
    pools = pgbouncer.pool(_test_db())
    assert (
        pools and pools.get("sv_active", 0) + pools.get("sv_idle", 0) + pools.get("sv_used", 0) <= pgbouncer.pool_size
    )


def _sell(client: Client, sp) -> int:
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
    return client.post("/api/v1/checkout", json.dumps(body), content_type="application/json").status_code


@pytest.fixture
def till(transactional_db):
    company = company_make()
    store, register = store_make(company=company, code="0000", n=1)
    sp = product_make(store=store, price="2.50", stock="5000")
    cashier = cashier_make(store=store)
    return {"store": store, "register": register, "sp": sp, "cashier": cashier}


@pytest.mark.django_db(transaction=True)
def test_checkouts_through_pgbouncer(till, default_through_pgbouncer):
    assert connection.settings_dict["PORT"] == str(default_through_pgbouncer.port)
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")  # NULL over the Unix socket behind PgBouncer
    client = Client()
    client.force_login(till["cashier"])
    statuses = [_sell(client, till["sp"]) for _ in range(10)]
    assert statuses == [201] * 10
    numbers = sorted(Sale.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 11))
    assert SunatJob.objects.count() == 10
    # Server-side cursors are off: iterating outside a transaction survives other clients.
    assert len(list(Sale.objects.all().iterator(chunk_size=2))) == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_and_skip_locked_through_pgbouncer(till, default_through_pgbouncer):
    errors: list[BaseException] = []
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def cashier_loop():
        try:
            client = Client()
            client.force_login(till["cashier"])
            barrier.wait(timeout=60)
            for _ in range(5):
                code = _sell(client, till["sp"])
                with lock:
                    statuses.append(code)
        except threading.BrokenBarrierError as exc:
            errors.append(exc)
        except BaseException as exc:
            errors.insert(0, exc)  # the root cause first
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cashier_loop) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, (
        sorted({repr(e) for e in errors}),
        [t.name for t in threading.enumerate()],
        connections["default"].pool.get_stats() if connections["default"].pool else None,
    )
    assert statuses == [201] * 40
    assert sorted(Sale.objects.values_list("number", flat=True)) == list(range(1, 41))
    # The worker's claim pattern works in transaction mode: disjoint rows per claimer.
    claimed: list[list[int]] = []

    def claim():
        with transaction.atomic():
            ids = list(
                SunatJob.objects.select_for_update(skip_locked=True)
                .filter(status="pending")
                .order_by("id")
                .values_list("id", flat=True)[:5]
            )
            claimed.append(ids)
            barrier2.wait(timeout=10)
        connections.close_all()

    barrier2 = threading.Barrier(2)
    pair = [threading.Thread(target=claim) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    assert len(claimed) == 2 and not set(claimed[0]) & set(claimed[1]) and all(len(c) == 5 for c in claimed)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_thousand_clients_server_side_stays_within_pool(till, default_through_pgbouncer):
    """1 000 client connections held open and busy through PgBouncer: the server side never
    exceeds the pool size, and checkouts keep succeeding meanwhile."""
    bouncer = default_through_pgbouncer
    dbname = _test_db()
    clients: list[psycopg.Connection] = []
    try:
        for _ in range(1000):
            # prepare_threshold=None: PgBouncer 1.18 in transaction mode cannot track prepared
            # statements (psycopg would prepare after 5 runs and hit another server connection).
            clients.append(psycopg.connect(bouncer.dsn(dbname), autocommit=True, prepare_threshold=None))
        stop = threading.Event()
        errors: list[BaseException] = []
        samples: list[dict] = []
        server_counts: list[int] = []

        def busy(chunk: list[psycopg.Connection]):
            try:
                while not stop.is_set():
                    for c in chunk:
                        c.execute("SELECT pg_sleep(0.002)")
                        if stop.is_set():
                            break
            except BaseException as exc:
                errors.append(exc)

        def sampler():
            # Direct to PostgreSQL (not through PgBouncer): count this database's backends.
            with psycopg.connect(
                host=bouncer_backend["host"],
                port=bouncer_backend["port"],
                dbname=dbname,
                user="postgres",
                autocommit=True,
            ) as d:
                while not stop.is_set():
                    samples.append(bouncer.pool(dbname))
                    server_counts.append(
                        d.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            [dbname],
                        ).fetchone()[0]
                    )
                    time.sleep(0.05)

        bouncer_backend = _backend_of(bouncer)
        # Backends of this database that PgBouncer does not own (left by earlier tests or other
        # tools) are counted once before the load and excluded from the server-side check.
        with psycopg.connect(
            host=bouncer_backend["host"], port=bouncer_backend["port"], dbname=dbname, user="postgres", autocommit=True
        ) as d:
            total = d.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [dbname]
            ).fetchone()[0]
        before = bouncer.pool(dbname)
        direct_baseline = total - sum(
            before.get(k, 0) for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
        )
        workers = [threading.Thread(target=busy, args=(clients[i::50],)) for i in range(50)]
        for t in workers:
            t.start()
        watch = threading.Thread(target=sampler)
        watch.start()
        time.sleep(0.5)
        client = Client()
        client.force_login(till["cashier"])
        statuses = [_sell(client, till["sp"]) for _ in range(20)]
        stop.set()
        for t in workers:
            t.join()
        watch.join()
        connections.close_all()
    finally:
        for c in clients:
            c.close()
    assert not errors, errors[:3]
    assert statuses == [201] * 20
    assert samples and server_counts
    peak_clients = max(s.get("cl_active", 0) + s.get("cl_waiting", 0) for s in samples)
    peak_servers = max(
        s.get("sv_active", 0) + s.get("sv_idle", 0) + s.get("sv_used", 0) + s.get("sv_tested", 0) + s.get("sv_login", 0)
        for s in samples
    )
    assert peak_clients >= 1000
    assert peak_servers <= bouncer.pool_size
    # PostgreSQL's own view agrees, within one backend: a server connection PgBouncer has just
    # replaced stays in pg_stat_activity until its backend process has exited.
    assert max(server_counts) - direct_baseline <= bouncer.pool_size + 1
    print(
        f"peak clients {peak_clients}, peak server connections {peak_servers} / pool {bouncer.pool_size}, "
        f"pg_stat_activity max {max(server_counts)}"
    )


def _backend_of(bouncer) -> dict:
    text = (bouncer.workdir / "pgbouncer.ini").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("* = "))
    parts = dict(p.split("=", 1) for p in line[4:].split())
    return {"host": parts["host"], "port": int(parts["port"])}
