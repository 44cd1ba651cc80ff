"""`manage.py restore_drill` run as an operator would: dump, restore into a fresh database,
counts, verify commands and deep health — against the suite's own test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from ops import restore_drill

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _drill(*args: str) -> subprocess.CompletedProcess:
    params = restore_drill.source_params()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIRECT_URL", "DJANGO_"))}
    env.update(
        DATABASE_URL=restore_drill.database_url(params, connection.settings_dict["NAME"]),
        DJANGO_SETTINGS_MODULE="bodegapos.settings.test",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "restore_drill", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _scratch_databases() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [connection.settings_dict["NAME"] + "_drill_%"]
        )
        return [row[0] for row in cursor.fetchall()]


def _sell(n: int) -> None:
    import json
    import uuid

    from django.test import Client

    from sales.tests.factories import cashier_make, company_make, product_make, store_make

    store, _ = store_make(company=company_make(), code="0000", n=1)
    sp = product_make(store=store, price="2.50", stock="100")
    client = Client()
    client.force_login(cashier_make(store=store))
    for _ in range(n):
        body = {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "5.00"}],
        }
        response = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content


def test_the_drill_restores_every_sale_and_document_and_the_copy_passes_deep_health():
    _sell(3)
    result = _drill()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "sales_sale: 3 filas (respaldo: 3)" in out
    assert "sunat_sunatdocument: 3 filas (respaldo: 3)" in out
    assert "manage.py migrate --check: ok" in out
    assert "manage.py audit_verify: " in out  # run once the audit app provides it, skipped before
    assert "/health?deep=true: degraded (HTTP 200)" in out  # no live worker against a restored copy
    assert "Simulacro de restauración correcto." in out
    assert _scratch_databases() == []  # the scratch database is dropped


def test_a_backup_that_does_not_restore_fails_in_one_line_and_leaves_nothing(tmp_path):
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP" + b"\x00" * 64)
    result = _drill("--dump", str(broken))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("CommandError: Simulacro de restauración fallido: pg_restore falló")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _scratch_databases() == []
    missing = _drill("--dump", str(tmp_path / "nowhere.dump"))
    assert missing.returncode == 1 and "no existe el archivo de respaldo" in missing.stderr


def test_counts_that_do_not_match_fail_the_drill(monkeypatch):
    """The comparison itself: a restored copy missing rows is a failed drill."""
    report = restore_drill.DrillReport(dump="x", scratch="y", expected={"sales_sale": 3})
    monkeypatch.setattr(
        restore_drill,
        "verify_restored",
        lambda **kw: {
            "restored": {"sales_sale": 2},
            "commands": {"migrate --check": "ok"},
            "health": {"http": 200, "status": "ok"},
        },
    )
    monkeypatch.setattr(restore_drill, "dump_with_counts", lambda **kw: report.expected)
    monkeypatch.setattr(restore_drill, "restore", lambda **kw: None)
    monkeypatch.setattr(restore_drill, "drop", lambda **kw: None)
    result = restore_drill.drill_run()
    assert result.problems == ["sales_sale: 3 filas en el respaldo, 2 restauradas"]
