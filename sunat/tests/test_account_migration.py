"""sunat 0007 moves each company's SUNAT values off ``stores_company``; stores 0005 drops them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sunat.fields import fernet

BEFORE = [
    ("stores", "0004_company_is_active"),
    ("sunat", "0006_summary_sequences"),
    ("worker", "0005_finish_and_claim_function"),
]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_accounts_move_with_their_ciphertext_and_the_company_columns_go():
    _migrate(BEFORE)
    try:
        secret = fernet().encrypt(b"moddatos").decode()
        pfx = fernet().encrypt(b"PFX-BYTES")
        with connection.cursor() as cursor:
            insert = (
                "INSERT INTO stores_company (ruc, legal_name, trade_name, address, ubigeo, department, province, "
                "district, sol_user, sol_password, certificate, certificate_password, certificate_subject, "
                "certificate_expires_at, sunat_paused_at, sunat_pause_reason, cash_difference_threshold, is_active, "
                "created_at) VALUES (%s, 'E', '', 'AV 1', '150101', 'LIMA', 'LIMA', 'LIMA', %s, %s, %s, %s, %s, "
                "%s, %s, %s, 5, true, now()) RETURNING id"
            )
            cursor.execute(
                insert, ["20000000001", "MODDATOS", secret, pfx, secret, "CN=X", "2030-01-01T00:00Z", None, ""]
            )
            (configured,) = cursor.fetchone()
            cursor.execute(insert, ["20100066603", "", "", None, "", "", None, "2026-12-01T10:00Z", "0102 - clave SOL"])
            (paused,) = cursor.fetchone()
            cursor.execute(insert, ["20100070970", "", "", None, "", "", None, None, ""])
            (bare,) = cursor.fetchone()
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

        from sunat.models import SunatAccount

        accounts = {a.company_id: a for a in SunatAccount.objects.all()}
        assert set(accounts) == {configured, paused}  # a company with nothing SUNAT gets no account
        account = accounts[configured]
        assert (account.sol_user, account.sol_password, account.certificate_password) == (
            "MODDATOS",
            "moddatos",
            "moddatos",
        )
        assert bytes(account.certificate) == b"PFX-BYTES" and account.certificate_subject == "CN=X"
        assert account.certificate_expires_at.year == 2030 and account.paused_at is None
        assert accounts[paused].paused_at is not None and accounts[paused].pause_reason == "0102 - clave SOL"
        assert not {"sol_user", "sol_password", "certificate", "sunat_paused_at"} & _columns("stores_company")
        assert bare not in accounts
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
