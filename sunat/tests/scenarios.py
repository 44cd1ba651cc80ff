"""The scenario matrix: snapshots of every kind of document a bodega issues (issue 3 acceptance).

Amounts come from ``sales.money`` (a test-only import: the ``sunat`` app itself never imports
``sales``), the way checkout builds them. ``SCENARIOS`` maps a name to a zero-argument factory so
each test gets a fresh snapshot; ``scenario(name)`` builds one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sales.money import LineAmounts, document_totals, line_amounts, q2
from sunat.snapshot import (
    Customer,
    DocumentSnapshot,
    Installment,
    Line,
    PaymentTerms,
    Reference,
    SummarySnapshot,
    Supplier,
    Totals,
    VoidedLine,
    VoidedSnapshot,
    summary_line_from,
    void_snapshot_build,
)

D = Decimal
ZERO = D("0.00")
ICBPER_RATE = D("0.50")

SUPPLIER = Supplier(
    ruc="20000000001",
    legal_name="BODEGAS DEMO S.A.C.",
    trade_name="BODEGA DEMO",
    address="AV. LOS ÁLAMOS 123, URB. SANTA ROSA",
    ubigeo="150101",
    department="LIMA",
    province="LIMA",
    district="LIMA",
    establishment_code="0001",
)
ANONYMOUS = Customer(doc_type="0", doc_number="-", name="CLIENTES VARIOS")
DNI_CUSTOMER = Customer(doc_type="1", doc_number="45678912", name="MARÍA PÉREZ ÑAHUI")
RUC_CUSTOMER = Customer(
    doc_type="6", doc_number="20100066603", name="DISTRIBUIDORA EL SOL S.A.C.", address="JR. HUALLAGA 456, LIMA"
)


def issued_at() -> datetime:
    """Today, 18:30 in Lima (SUNAT's rules reject dates too far from the sending date)."""
    today_lima = (datetime.now(UTC) - timedelta(hours=5)).date()
    return datetime(today_lima.year, today_lima.month, today_lima.day, 23, 30, tzinfo=UTC)


# (description, sku, unit, price incl. IGV, quantity, affectation, bag?)
ARROZ = ("ARROZ COSTEÑO 750G", "P001", "NIU", D("4.20"), D("2"), "10", False)
GASEOSA = ("GASEOSA INCA KOLA 500ML", "P002", "NIU", D("2.50"), D("3"), "10", False)
LIBRO = ("LIBRO ESCOLAR", "P003", "NIU", D("25.00"), D("1"), "20", False)
PAPA = ("PAPA AMARILLA (KG)", "P004", "KGM", D("3.59"), D("1.235"), "30", False)
QUESO = ("QUESO FRESCO (KG)", "P005", "KGM", D("18.90"), D("0.457"), "10", False)
BOLSA = ("BOLSA PLÁSTICA", "P006", "NIU", D("0.10"), D("2"), "10", True)
HUEVOS = ("HUEVOS (KG)", "P007", "KGM", D("7.80"), D("2.150"), "30", False)


def paid_line(number: int, spec) -> tuple[Line, str, object]:
    _description, _sku, _unit, price, quantity, affectation, bag = spec
    amounts = line_amounts(
        price=price, quantity=quantity, affectation=affectation, icbper_rate=ICBPER_RATE if bag else ZERO
    )
    return line_of(number, spec, quantity=quantity, amounts=amounts), affectation, amounts


def line_of(number: int, spec, *, quantity: Decimal, amounts: LineAmounts) -> Line:
    """The snapshot line of ``spec`` for ``quantity`` with its ``sales.money`` amounts."""
    description, sku, unit, price, _sold, affectation, bag = spec
    return Line(
        number=number,
        code=sku,
        description=description,
        unit_code=unit,
        quantity=quantity,
        unit_price=price,
        unit_value=amounts.unit_value,
        line_value=amounts.base,
        affectation=affectation,
        igv=amounts.igv,
        icbper=amounts.icbper,
        icbper_unit=ICBPER_RATE if bag else ZERO,
    )


def free_line(number: int, *, description: str, value_with_igv: Decimal, quantity: Decimal, affectation: str) -> Line:
    """A free item (catalog 07: 11–16 gravado, 21 exonerado, 31–37 inafecto) at its referential value."""
    taxed = affectation.startswith("1")
    amounts = line_amounts(price=value_with_igv, quantity=quantity, affectation="10" if taxed else "30")
    return Line(
        number=number,
        code=f"G{number:03d}",
        description=description,
        unit_code="NIU",
        quantity=quantity,
        unit_price=amounts.unit_value,  # referential unit value, PriceTypeCode 02
        unit_value=ZERO,
        line_value=amounts.base,
        affectation=affectation,
        igv=amounts.igv if taxed else ZERO,
    )


def make_document(
    *,
    document_type: str,
    series: str,
    number: int,
    specs=(),
    free=(),
    customer: Customer = ANONYMOUS,
    payment_terms: PaymentTerms | None = None,
    reference: Reference | None = None,
) -> DocumentSnapshot:
    lines: list[Line] = []
    paid: list[tuple[str, object]] = []
    for spec in specs:
        line, affectation, amounts = paid_line(len(lines) + 1, spec)
        lines.append(line)
        paid.append((affectation, amounts))
    for kwargs in free:
        lines.append(free_line(len(lines) + 1, **kwargs))
    return assemble(
        document_type=document_type,
        series=series,
        number=number,
        lines=lines,
        paid=paid,
        customer=customer,
        payment_terms=payment_terms,
        reference=reference,
    )


def assemble(
    *,
    document_type: str,
    series: str,
    number: int,
    lines: list[Line],
    paid: list[tuple[str, object]],
    customer: Customer,
    payment_terms: PaymentTerms | None = None,
    reference: Reference | None = None,
) -> DocumentSnapshot:
    """A snapshot of ``lines`` whose header totals are ``sales.money``'s sums of ``paid``
    (``(affectation, amounts)`` of the paid lines) plus the free lines' referential values."""
    totals = document_totals(paid)
    free_lines = [line for line in lines if line.is_free]
    snapshot_totals = Totals(
        gravadas=totals.gravadas,
        exoneradas=totals.exoneradas,
        inafectas=totals.inafectas,
        igv=totals.igv,
        icbper=totals.icbper,
        total=totals.total,
        gratuitas=sum((line.line_value for line in free_lines), ZERO),
        igv_gratuitas=sum((line.igv for line in free_lines), ZERO),
    )
    if document_type == "01" and payment_terms is None:
        payment_terms = PaymentTerms(method="Contado")
    return DocumentSnapshot(
        document_type=document_type,
        series=series,
        number=number,
        issued_at=issued_at(),
        supplier=SUPPLIER,
        customer=customer,
        lines=tuple(lines),
        totals=snapshot_totals,
        payment_terms=payment_terms,
        reference=reference,
    )


def spec(description: str, price: str, quantity: str = "1", affectation: str = "10", unit: str = "NIU", bag=False):
    return (description, f"S{abs(hash(description)) % 10_000:04d}", unit, D(price), D(quantity), affectation, bag)


FREE_GRAVADO = dict(description="GALLETA DE REGALO", value_with_igv=D("1.18"), quantity=D("2"), affectation="11")
FREE_EXONERADO = dict(description="FOLLETO DE REGALO", value_with_igv=D("3.00"), quantity=D("1"), affectation="21")
FREE_INAFECTO = dict(description="PLÁTANO DE MUESTRA", value_with_igv=D("0.50"), quantity=D("4"), affectation="31")


def _boleta(number: int, specs, **kwargs) -> DocumentSnapshot:
    return make_document(document_type="03", series="B001", number=number, specs=specs, **kwargs)


def _factura(number: int, specs, **kwargs) -> DocumentSnapshot:
    return make_document(document_type="01", series="F001", number=number, specs=specs, customer=RUC_CUSTOMER, **kwargs)


def boleta_700_anonymous() -> DocumentSnapshot:
    # 280 × 2.50 = 700.00 exactly: the largest total without the buyer's document.
    return _boleta(9, [spec("CERVEZA PILSEN 630ML CAJA", "2.50", "280")])


def boleta_700_01_dni() -> DocumentSnapshot:
    # S/ 700.01: one céntimo over the limit, so the buyer's DNI is required (2396 / RC 2514).
    return _boleta(
        10,
        [spec("CERVEZA PILSEN 630ML CAJA", "2.50", "280"), spec("CARAMELO", "0.01", "1", "30")],
        customer=DNI_CUSTOMER,
    )


def factura_credito() -> DocumentSnapshot:
    base = _factura(12, [ARROZ, GASEOSA, QUESO])
    total = base.totals.total
    half_a = D("10.00")
    installments = (
        Installment(amount=half_a, due_date=issued_at().date() + timedelta(days=15)),
        Installment(amount=total - half_a, due_date=issued_at().date() + timedelta(days=45)),
    )
    return _factura(
        12,
        [ARROZ, GASEOSA, QUESO],
        payment_terms=PaymentTerms(method="Credito", amount=total, installments=installments),
    )


def boleta_999_lines() -> DocumentSnapshot:
    specs = [
        spec(f"PRODUCTO {i:03d}", f"{1 + (i % 37) * D('0.35'):.2f}", str(1 + i % 3), ("10", "20", "30")[i % 3])
        for i in range(999)
    ]
    return _boleta(15, specs, customer=DNI_CUSTOMER)


def credit_note_factura() -> DocumentSnapshot:
    return make_document(
        document_type="07",
        series="FC01",
        number=1,
        specs=[GASEOSA],
        customer=RUC_CUSTOMER,
        reference=Reference(
            document_type="01", number="F001-11", reason_code="07", description="DEVOLUCIÓN DE GASEOSAS"
        ),
    )


def credit_note_boleta() -> DocumentSnapshot:
    return make_document(
        document_type="07",
        series="BC01",
        number=1,
        specs=[ARROZ, LIBRO, PAPA],
        customer=DNI_CUSTOMER,
        reference=Reference(document_type="03", number="B001-8", reason_code="06", description="DEVOLUCIÓN TOTAL"),
    )


def debit_note_factura() -> DocumentSnapshot:
    return make_document(
        document_type="08",
        series="FD01",
        number=1,
        specs=[spec("AJUSTE DE PRECIO ARROZ", "1.18", "5")],
        customer=RUC_CUSTOMER,
        reference=Reference(document_type="01", number="F001-11", reason_code="02", description="AUMENTO EN EL VALOR"),
    )


def debit_note_boleta() -> DocumentSnapshot:
    return make_document(
        document_type="08",
        series="BD01",
        number=1,
        specs=[spec("PENALIDAD", "10.00", "1", "30")],
        customer=DNI_CUSTOMER,
        reference=Reference(document_type="03", number="B001-8", reason_code="03", description="PENALIDADES"),
    )


def summary_rc(condition_lines=None) -> SummarySnapshot:
    day = issued_at().astimezone(UTC).date()
    if condition_lines is None:
        condition_lines = [
            (_boleta(1, [ARROZ, GASEOSA]), "1"),
            (_boleta(2, [LIBRO, PAPA, BOLSA]), "1"),
            (boleta_700_01_dni(), "1"),
            (_boleta(3, [QUESO, HUEVOS]), "2"),
            (_boleta(4, [ARROZ]), "3"),
            (credit_note_boleta(), "1"),
            (debit_note_boleta(), "1"),
        ]
    return SummarySnapshot(
        supplier=SUPPLIER,
        reference_date=day,
        issue_date=day,
        sequence=1,
        lines=tuple(summary_line_from(s, condition=c) for s, c in condition_lines),
    )


def voided_ra() -> VoidedSnapshot:
    day = issued_at().astimezone(UTC).date()
    return VoidedSnapshot(
        supplier=SUPPLIER,
        reference_date=day,
        issue_date=day,
        sequence=1,
        lines=(
            VoidedLine(document_type="01", series="F001", number=11, reason="ERROR EN EL RUC DEL CLIENTE"),
            VoidedLine(document_type="07", series="FC01", number=1, reason="NOTA EMITIDA POR ERROR"),
        ),
    )


# ------------------------------------------------------------------- credit notes of returns


def returned_line(number: int, spec, *, before: Decimal, after: Decimal) -> tuple[Line, str, LineAmounts]:
    """One line of a return's credit note, with the contract's formula (ARCHITECTURE.md, "Returns
    → credit notes"), the way the till builds it: ``spec`` is the sold line (its quantity the sold
    one); ``before`` and ``after`` are the line's returned quantity before and after this return.

    amount = q2(price × after) − q2(price × before); gravado base = q2(line_base × after / sold)
    − q2(line_base × before / sold), exonerado/inafecto base = amount; IGV = amount − base;
    ICBPER = q2(rate × after) − q2(rate × before). Any sequence of notes adds up to the line.
    """
    _description, _sku, _unit, price, sold, affectation, bag = spec
    rate = ICBPER_RATE if bag else ZERO
    sold_amounts = line_amounts(price=price, quantity=sold, affectation=affectation, icbper_rate=rate)
    amount = q2(price * after) - q2(price * before)
    if affectation == "10":
        base = q2(sold_amounts.base * after / sold) - q2(sold_amounts.base * before / sold)
    else:
        base = amount
    amounts = LineAmounts(
        amount=amount,
        base=base,
        igv=amount - base,
        icbper=q2(rate * after) - q2(rate * before),
        unit_value=sold_amounts.unit_value,
    )
    return line_of(number, spec, quantity=after - before, amounts=amounts), affectation, amounts


def return_note(
    *, original: DocumentSnapshot, series: str, number: int, reason_code: str, description: str, returns
) -> DocumentSnapshot:
    """A credit note (07) of ``original`` for ``returns``: ``[(spec, before, after), …]``."""
    lines: list[Line] = []
    paid: list[tuple[str, object]] = []
    for spec_, before, after in returns:
        line, affectation, amounts = returned_line(len(lines) + 1, spec_, before=D(before), after=D(after))
        lines.append(line)
        paid.append((affectation, amounts))
    return assemble(
        document_type="07",
        series=series,
        number=number,
        lines=lines,
        paid=paid,
        customer=original.customer,
        reference=Reference(
            document_type=original.document_type,
            number=original.full_number,
            reason_code=reason_code,
            description=description,
        ),
    )


SOLD = [ARROZ, LIBRO, PAPA, QUESO, BOLSA, HUEVOS, GASEOSA]  # gravado, exonerado, inafecto, KGM, ICBPER
# A first partial return (reason 07) of SOLD: some units, part of the weighed lines, one bag.
FIRST_RETURN = {
    "ARROZ COSTEÑO 750G": "1",
    "PAPA AMARILLA (KG)": "0.500",
    "QUESO FRESCO (KG)": "0.200",
    "BOLSA PLÁSTICA": "1",
    "LIBRO ESCOLAR": "1",
    "HUEVOS (KG)": "1.075",
}


def sold_boleta() -> DocumentSnapshot:
    return _boleta(21, SOLD, customer=DNI_CUSTOMER)


def sold_factura() -> DocumentSnapshot:
    return _factura(22, SOLD)


def _note_series(original: DocumentSnapshot) -> str:
    return "BC01" if original.document_type == "03" else "FC01"


def note_whole(original: DocumentSnapshot, *, reason_code: str, number: int = 11) -> DocumentSnapshot:
    """Everything returned at once: reason 01 (anulación de la operación) or 06 (devolución total)."""
    text = {"01": "ANULACIÓN DE LA OPERACIÓN", "06": "DEVOLUCIÓN TOTAL"}[reason_code]
    return return_note(
        original=original,
        series=_note_series(original),
        number=number,
        reason_code=reason_code,
        description=text,
        returns=[(s, "0", s[4]) for s in SOLD],
    )


def note_first_partial(original: DocumentSnapshot, *, number: int = 12) -> DocumentSnapshot:
    return return_note(
        original=original,
        series=_note_series(original),
        number=number,
        reason_code="07",
        description="DEVOLUCIÓN POR ÍTEM: PRODUCTO EN MAL ESTADO",
        returns=[(s, "0", FIRST_RETURN[s[0]]) for s in SOLD if s[0] in FIRST_RETURN],
    )


def note_rest(original: DocumentSnapshot, *, reason_code: str = "07", number: int = 13) -> DocumentSnapshot:
    """What the first partial return left: the rest of every line (before = first return)."""
    return return_note(
        original=original,
        series=_note_series(original),
        number=number,
        reason_code=reason_code,
        description="DEVOLUCIÓN DEL RESTO",
        returns=[(s, FIRST_RETURN.get(s[0], "0"), s[4]) for s in SOLD if D(FIRST_RETURN.get(s[0], "0")) < s[4]],
    )


def rc_void(*documents: DocumentSnapshot) -> SummarySnapshot:
    """A Resumen Diario voiding ``documents`` (ConditionCode 3), as ``sunat_void_issue`` builds
    each line."""
    single = void_snapshot_build(
        original=documents[0], reason="", issue_date=issued_at().astimezone(UTC).date(), sequence=1
    )
    return dataclasses.replace(single, lines=tuple(summary_line_from(d, condition="3") for d in documents))


def ra_void(*documents: DocumentSnapshot) -> VoidedSnapshot:
    """A Comunicación de Baja of ``documents``, each line as ``sunat_void_issue`` builds it."""
    day = issued_at().astimezone(UTC).date()
    lines = [
        void_snapshot_build(original=d, reason="ERROR EN LA VENTA", issue_date=day, sequence=1).lines[0]
        for d in documents
    ]
    return dataclasses.replace(
        void_snapshot_build(original=documents[0], reason="", issue_date=day, sequence=1), lines=tuple(lines)
    )


SCENARIOS: dict[str, Callable[[], object]] = {
    "boleta-gravado": lambda: _boleta(1, [ARROZ, GASEOSA]),
    "boleta-exonerado": lambda: _boleta(2, [LIBRO]),
    "boleta-inafecto": lambda: _boleta(3, [HUEVOS]),
    "boleta-gratuito": lambda: _boleta(4, [ARROZ], free=[FREE_GRAVADO, FREE_EXONERADO, FREE_INAFECTO]),
    "boleta-solo-gratuito": lambda: _boleta(5, [], free=[FREE_GRAVADO]),
    "boleta-icbper": lambda: _boleta(6, [BOLSA, GASEOSA]),
    "boleta-pesado-kgm": lambda: _boleta(7, [PAPA, QUESO]),
    "boleta-mixta": lambda: _boleta(8, [ARROZ, LIBRO, PAPA, QUESO, BOLSA, HUEVOS, GASEOSA]),
    "boleta-700-anonima": boleta_700_anonymous,
    "boleta-700.01-dni": boleta_700_01_dni,
    "factura-contado": lambda: _factura(11, [ARROZ, LIBRO, PAPA, BOLSA]),
    "factura-credito-2-cuotas": factura_credito,
    "factura-gratuito-icbper": lambda: _factura(13, [GASEOSA, BOLSA], free=[FREE_GRAVADO]),
    "boleta-0.01": lambda: _boleta(14, [spec("CARAMELO", "0.01", "1", "30")]),
    "factura-monto-grande": lambda: _factura(16, [spec("MERCADERÍA AL POR MAYOR", "9999.99", "1000")]),
    "boleta-999-lineas": boleta_999_lines,
    "nc-factura": credit_note_factura,
    "nc-boleta": credit_note_boleta,
    "nd-factura": debit_note_factura,
    "nd-boleta": debit_note_boleta,
    "rc-condiciones-1-2-3": summary_rc,
    "rc-anulacion": lambda: summary_rc([(_boleta(20, [ARROZ]), "3")]),
    "ra-facturas": voided_ra,
    # Credit notes of returns (contract formula), of a boleta and of a factura.
    "nc-boleta-01-anulacion": lambda: note_whole(sold_boleta(), reason_code="01"),
    "nc-boleta-06-devolucion-total": lambda: note_whole(sold_boleta(), reason_code="06"),
    "nc-boleta-07-parcial": lambda: note_first_partial(sold_boleta()),
    "nc-boleta-07-resto": lambda: note_rest(sold_boleta()),
    "nc-boleta-06-resto": lambda: note_rest(sold_boleta(), reason_code="06"),
    "nc-factura-01-anulacion": lambda: note_whole(sold_factura(), reason_code="01"),
    "nc-factura-06-devolucion-total": lambda: note_whole(sold_factura(), reason_code="06"),
    "nc-factura-07-parcial": lambda: note_first_partial(sold_factura()),
    "nc-factura-07-resto": lambda: note_rest(sold_factura()),
    # Voids as sunat_void_issue builds them.
    "rc-anulacion-boleta": lambda: rc_void(sold_boleta()),
    "rc-anulacion-nota-de-boleta": lambda: rc_void(note_first_partial(sold_boleta())),
    "rc-anulacion-boleta-y-nota": lambda: rc_void(sold_boleta(), note_first_partial(sold_boleta())),
    "ra-anulacion-factura": lambda: ra_void(sold_factura()),
    "ra-anulacion-factura-y-nota": lambda: ra_void(sold_factura(), note_first_partial(sold_factura())),
}


def scenario(name: str):
    return SCENARIOS[name]()


def referenced_names(snapshot) -> list[str]:
    """The file names (``{RUC}-{TT}-{SERIE}-{NUM}``) of the documents ``snapshot`` names and
    SUNAT must already hold: a note's original, an RA's lines, an RC's ConditionCode 3 lines."""
    ruc = snapshot.supplier.ruc
    if isinstance(snapshot, DocumentSnapshot):
        ref = snapshot.reference
        return [f"{ruc}-{ref.document_type}-{ref.number}"] if ref else []
    if isinstance(snapshot, VoidedSnapshot):
        return [f"{ruc}-{line.document_type}-{line.series}-{line.number}" for line in snapshot.lines]
    return [f"{ruc}-{line.document_type}-{line.number}" for line in snapshot.lines if line.condition == "3"]


# ------------------------------------------------------------------------- test helpers

_CERTIFICATE_CACHE: dict = {}


def dev_certificate():
    """One self-signed certificate (LoadedCertificate) per test process for SUPPLIER."""
    from sunat.certificates import certificate_load, development_certificate_create

    if "cert" not in _CERTIFICATE_CACHE:
        pfx, password = development_certificate_create(ruc=SUPPLIER.ruc, legal_name=SUPPLIER.legal_name)
        _CERTIFICATE_CACHE["pfx"] = (pfx, password)
        _CERTIFICATE_CACHE["cert"] = certificate_load(pfx=pfx, password=password)
    return _CERTIFICATE_CACHE["cert"]


def supplier_company_create():
    """The SUPPLIER company with the double's SOL credentials and a development certificate."""
    from stores.models import Company
    from sunat.certificates import company_certificate_set, development_certificate_create
    from sunat.services import sunat_account_ensure

    company = Company.objects.create(
        ruc=SUPPLIER.ruc, legal_name=SUPPLIER.legal_name, address=SUPPLIER.address, ubigeo=SUPPLIER.ubigeo
    )
    sunat_account_ensure(company=company, sol_user="MODDATOS", sol_password="moddatos")
    pfx, password = development_certificate_create(ruc=company.ruc, legal_name=company.legal_name)
    company_certificate_set(company=company, pfx=pfx, password=password)
    return company


def schemas_missing_reason() -> str | None:
    """Why SUNAT's files can't be used here (tests skip with it), or None."""
    from sunat.validation import SchemasNotFound, schema_dir, sfs_available

    try:
        schema_dir()
    except SchemasNotFound as exc:
        return str(exc)
    if not sfs_available():
        return "saxonche or SUNAT's SFS stylesheets are not available"
    return None


def signed(name_or_snapshot):
    """``(snapshot, SignedDocument, xml_file_name)`` for a scenario name or a snapshot."""
    from sunat import xml as ubl
    from sunat.signing import document_sign

    snapshot = scenario(name_or_snapshot) if isinstance(name_or_snapshot, str) else name_or_snapshot
    document = document_sign(xml=ubl.build(snapshot), certificate=dev_certificate())
    return snapshot, document, ubl.file_name(snapshot) + ".xml"


def signed_bytes_sunat_rejects(document) -> None:
    """Store, as ``document``'s signed bytes, a version SUNAT's rules reject in a CDR (a factura
    to a DNI: 2800), as if the builder had a bug. For tests of a rejected original."""
    from sunat import xml as ubl
    from sunat.certificates import company_certificate_load
    from sunat.models import SunatDocument
    from sunat.signing import document_sign

    document = SunatDocument.objects.select_related("company").get(pk=document.pk)
    unsigned = ubl.build(DocumentSnapshot.from_json(document.snapshot))
    customer = b'<cbc:ID schemeID="6">20100066603</cbc:ID>'
    assert customer in unsigned, "the scenario's factura customer"
    broken = unsigned.replace(customer, b'<cbc:ID schemeID="1">45678912</cbc:ID>')
    signed_ = document_sign(xml=broken, certificate=company_certificate_load(company=document.company))
    SunatDocument.objects.filter(pk=document.pk).update(signed_xml=signed_.xml, xml_hash=signed_.digest_value)
