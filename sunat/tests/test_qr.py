"""The printed-representation QR: payload fields in SUNAT's order and an inline SVG."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sunat.qr import qr_payload_from_snapshot, qr_svg
from sunat.snapshot import Customer, DocumentSnapshot, Line, Supplier, Totals

SUPPLIER = Supplier(
    ruc="20000000001",
    legal_name="BODEGAS DEMO S.A.C.",
    trade_name="",
    address="AV. DEMO 123",
    ubigeo="150101",
    department="LIMA",
    province="LIMA",
    district="LIMA",
    establishment_code="0000",
)


def snapshot(
    *, customer: Customer, issued_at: datetime, document_type: str = "03", series: str = "B001"
) -> DocumentSnapshot:
    line = Line(
        number=1,
        code="SKU1",
        description="ARROZ",
        unit_code="NIU",
        quantity=Decimal("1"),
        unit_price=Decimal("118.00"),
        unit_value=Decimal("100"),
        line_value=Decimal("100.00"),
        affectation="10",
        igv=Decimal("18.00"),
    )
    totals = Totals(
        gravadas=Decimal("100.00"),
        exoneradas=Decimal("0.00"),
        inafectas=Decimal("0.00"),
        igv=Decimal("18.00"),
        icbper=Decimal("0.50"),
        total=Decimal("118.50"),
    )
    return DocumentSnapshot(
        document_type=document_type,
        series=series,
        number=123,
        issued_at=issued_at,
        supplier=SUPPLIER,
        customer=customer,
        lines=(line,),
        totals=totals,
    )


def test_payload_has_sunat_fields_in_order_with_lima_date_and_trailing_pipe():
    # 02:00 UTC on the 28th is still the 27th in Lima.
    snap = snapshot(
        customer=Customer(doc_type="6", doc_number="20100070970", name="SUPERMERCADOS PERUANOS"),
        issued_at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        document_type="01",
        series="F001",
    )
    payload = qr_payload_from_snapshot(snapshot=snap, xml_hash="5zVcyL443M1vVGhdFNi+H9jcslo=")
    assert payload == "20000000001|01|F001|123|18.00|118.50|2026-11-27|6|20100070970|5zVcyL443M1vVGhdFNi+H9jcslo=|"


def test_payload_for_an_anonymous_boleta_without_hash_yet():
    snap = snapshot(
        customer=Customer(doc_type="0", doc_number="-", name="CLIENTES VARIOS"),
        issued_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )
    assert qr_payload_from_snapshot(snapshot=snap) == "20000000001|03|B001|123|18.00|118.50|2026-11-27|0|-||"


def test_payload_survives_the_json_round_trip():
    snap = snapshot(
        customer=Customer(doc_type="1", doc_number="10117410", name="JUAN PEREZ"),
        issued_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )
    again = DocumentSnapshot.from_json(snap.to_json())
    assert qr_payload_from_snapshot(snapshot=again, xml_hash="h=") == qr_payload_from_snapshot(
        snapshot=snap, xml_hash="h="
    )


def test_svg_is_inline_and_changes_with_the_payload():
    a = qr_svg("20000000001|03|B001|1|0.18|1.18|2026-11-27|0|-||")
    b = qr_svg("20000000001|03|B001|2|0.18|1.18|2026-11-27|0|-||")
    assert a.startswith("<svg") and a.rstrip().endswith("</svg>")
    assert "<?xml" not in a
    assert a != b
