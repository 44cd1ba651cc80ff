"""The raw-SQL baseline: the same writes a checkout makes, straight through psycopg (no Django,
no HTTP): the register's open cash session held FOR SHARE and its series row locked and
incremented in one statement, lines priced from the database, guarded
stock decrements in id order, SUNAT document + job + NOTIFY, sale (whose unique key is the
idempotency check, as in the app), lines, payment, stock movements — one transaction per sale.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal

from psycopg_pool import ConnectionPool

TWO = Decimal("0.01")


def _q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)  # baseline only; the app rounds in sales.money


def sale_write(conn, *, cashier: dict, quantities: dict[str, Decimal], key: uuid.UUID) -> tuple[str, Decimal]:
    """One sale of ``quantities`` (barcode → units) at ``cashier``'s register (a dict of
    ``company_id``, ``store_id``, ``register_id``, ``user_id``), in one transaction on the psycopg
    connection ``conn``; returns the document's number and the total. Raises ``RuntimeError`` when
    a product's stock is short (the transaction rolls back). Shared with the lean Django view
    (``bench.load.lean``), so both references make the same writes."""
    chosen = list(quantities)
    with conn.transaction():
        cur = conn.cursor()
        cur.execute(
            "WITH open_session AS MATERIALIZED (SELECT id FROM sales_cashsession WHERE company_id = %s AND register_id = %s "
            "AND status = 'open' FOR SHARE) UPDATE stores_documentseries ds SET last_number = ds.last_number + 1 "
            "FROM open_session WHERE ds.register_id = %s AND ds.document_type = '03' "
            "RETURNING ds.id, ds.series, ds.last_number, open_session.id",
            [cashier["company_id"], cashier["register_id"], cashier["register_id"]],
        )
        series_id, series, number, session_id = cur.fetchone()
        cur.execute(
            "SELECT sp.id, sp.price, p.id, p.sku, p.barcode, p.name, p.unit_code, p.affectation FROM sales_storeproduct sp "
            "JOIN sales_product p ON p.id = sp.product_id WHERE sp.store_id = %s AND p.barcode = ANY(%s) AND sp.is_active "
            "ORDER BY sp.id",
            [cashier["store_id"], chosen],
        )
        rows = cur.fetchall()
        lines = []
        for sp_id, price, product_id, sku, barcode, name, unit, affectation in rows:
            qty = quantities[barcode]
            cur.execute(
                "UPDATE sales_storeproduct SET stock = stock - %s WHERE id = %s AND stock >= %s", [qty, sp_id, qty]
            )
            if cur.rowcount != 1:
                raise RuntimeError("stock")
            amount = _q2(price * qty)
            base = _q2(amount / Decimal("1.18")) if affectation == "10" else amount
            lines.append(
                (sp_id, product_id, sku, barcode, name, unit, qty, price, base, amount - base, amount, affectation)
            )
        total = sum(line[10] for line in lines)
        igv = sum(line[9] for line in lines)
        snapshot = {
            "company": {"ruc": "20000000001"},
            "series": series,
            "number": number,
            "total": str(total),
            "igv": str(igv),
            "lines": [
                {"sku": ln[2], "name": ln[4], "qty": str(ln[6]), "price": str(ln[7]), "amount": str(ln[10])}
                for ln in lines
            ],
        }
        cur.execute(
            "INSERT INTO sunat_sunatdocument (company_id, store_id, document_type, series, number, issued_at, snapshot, status, "
            "total, xml_hash, response_code, response_description, observations, ticket, is_demo, created_at, updated_at) "
            "VALUES (%s, %s, '03', %s, %s, now(), %s, 'pending', %s, '', '', '', '[]', '', false, now(), now()) RETURNING id",
            [cashier["company_id"], cashier["store_id"], series, number, json.dumps(snapshot), total],
        )
        document_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO sunat_jobs (company_id, document_id, kind, status, attempts, lease_owner, last_error, errors, request_id) "
            "VALUES (%s, %s, 'send', 'pending', 0, '', '', '[]', '')",
            [cashier["company_id"], document_id],
        )
        cur.execute(
            "INSERT INTO sales_sale (public_id, company_id, store_id, register_id, cashier_id, document_series_id, document_type, "
            "series, number, idempotency_key, fingerprint, customer_doc_type, customer_doc_number, customer_name, customer_address, "
            "gravadas, exoneradas, inafectas, igv, icbper, total, cash_rounding, change, issued_at, sunat_document_id, session_id, "
            "request_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, '03', %s, %s, %s, %s, '0', '-', 'CLIENTES VARIOS', '', %s, 0, 0, %s, 0, %s, 0, %s, "
            "now(), %s, %s, '') RETURNING id",
            [
                uuid.uuid4(),
                cashier["company_id"],
                cashier["store_id"],
                cashier["register_id"],
                cashier["user_id"],
                series_id,
                series,
                number,
                key,
                key.hex,
                total - igv,
                igv,
                total,
                Decimal("200.00") - total,
                document_id,
                session_id,
            ],
        )
        sale_id = cur.fetchone()[0]
        cur.executemany(
            "INSERT INTO sales_saleline (company_id, store_id, sale_id, line_no, product_id, store_product_id, sku, barcode, "
            "description, unit_code, quantity, unit_price, unit_value, base, igv, icbper, icbper_rate, amount, affectation, "
            "returned_quantity) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, %s, %s, 0)",
            [
                (
                    cashier["company_id"],
                    cashier["store_id"],
                    sale_id,
                    n + 1,
                    ln[1],
                    ln[0],
                    ln[2],
                    ln[3],
                    ln[4],
                    ln[5],
                    ln[6],
                    ln[7],
                    ln[8] / ln[6],
                    ln[8],
                    ln[9],
                    ln[10],
                    ln[11],
                )
                for n, ln in enumerate(lines)
            ],
        )
        cur.execute(
            "INSERT INTO sales_payment (company_id, store_id, sale_id, method, amount, tendered, change, rounding) "
            "VALUES (%s, %s, %s, 'cash', %s, 200.00, %s, 0)",
            [cashier["company_id"], cashier["store_id"], sale_id, total, Decimal("200.00") - total],
        )
        cur.executemany(
            "INSERT INTO sales_stockmovement (company_id, store_id, store_product_id, kind, quantity, sale_id, created_at, "
            "created_by_id, note) VALUES (%s, %s, %s, 'sale', %s, %s, now(), %s, '')",
            [(cashier["company_id"], cashier["store_id"], ln[0], -ln[6], sale_id, cashier["user_id"]) for ln in lines],
        )
    return f"{series}-{number}", total


def process_run(
    conninfo: str, pool_size: int, cashiers: list[dict], per_cashier: int, seed: int, prepare_threshold: int | None
) -> dict:
    """``prepare_threshold``: as the app's connection (bodegapos.settings.database): psycopg's 5 direct,
    ``None`` (nothing prepared) through PgBouncer."""
    pool = ConnectionPool(
        conninfo, min_size=pool_size, max_size=pool_size, kwargs={"prepare_threshold": prepare_threshold}, open=True
    )
    out: list = []
    barrier = threading.Barrier(len(cashiers) + 1)

    def run(cashier: dict, n: int) -> None:
        rng = random.Random(seed + n)
        barrier.wait()
        for _ in range(per_cashier):
            began = time.perf_counter()
            status = 201
            try:
                chosen = rng.sample(cashier["barcodes"], k=min(2, len(cashier["barcodes"])))
                quantities = {code: Decimal(rng.randint(1, 2)) for code in chosen}
                with pool.connection() as conn:
                    sale_write(conn, cashier=cashier, quantities=quantities, key=uuid.uuid4())
            except Exception:
                status = 0
            out.append((time.perf_counter() - began, status))

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(cashiers)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    pool.close()
    return {"latencies": [o[0] for o in out], "statuses": [o[1] for o in out], "wall": wall, "login_errors": []}
