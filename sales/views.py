"""Cashier pages: the checkout page (``/pos/``, or "Abrir caja" when the register has no open
session), the till's sales list (``/pos/sales/``), the X/Z report (``/pos/sessions/<id>/report/``),
the blind close (``/pos/sessions/<id>/close/``) and the printable receipt (``/pos/receipts/<id>/``).

Pages only parse and render (STYLE.md): the cart is sent by ``pos.js`` to the JSON API
(``GET /api/v1/products``, ``POST /api/v1/checkout``), and the receipt reads the sale through
the tenancy-scoped selector, so another store's receipt is a 404 exactly like a missing one.
"""

from __future__ import annotations

import time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from stores.models import Company
from stores.selectors import (
    NotFound,
    RegisterInactive,
    register_access,
    register_key,
    register_list_for_user,
    store_user_is_manager,
)
from stores.validators import DOC_TYPE_CHOICES
from sunat import rules
from sunat.qr import qr_svg
from sunat.selectors import sunat_document_hash, sunat_receipt_get, sunat_status_label
from sunat.words import amount_in_words

from . import money
from .models import PaymentMethod, ReturnReason, SessionStatus
from .selectors import sale_receipt_get
from .selectors.history import (
    STATUS_LABELS,
    sale_detail_body,
    sale_detail_get,
    sale_list_for_till,
    sale_return_receipt_get,
)
from .selectors.sessions import cash_session_get_for_user, cash_session_open_get, cash_session_report
from .services.errors import TillError

HASH_POLL_INTERVAL = 0.1  # seconds between reads of xml_hash while the receipt waits
DOCUMENT_TITLES = {"01": "FACTURA ELECTRÓNICA", "03": "BOLETA DE VENTA ELECTRÓNICA"}
DOC_TYPE_LABELS = dict(DOC_TYPE_CHOICES)
PAYMENT_ORDER = {"cash": 0, "card": 1, "yape": 2, "plin": 3}


@login_required
@require_GET
def pos_page(request: HttpRequest) -> HttpResponse:
    """The checkout page for the cashier's register (``?register=CODE`` when they have several)."""
    register, choose = _register_or_choose(request)
    if choose is not None:
        return choose
    session = cash_session_open_get(register_id=register.pk, company_id=register.company_id)
    config = {
        "productsUrl": "/api/v1/products",
        "checkoutUrl": "/api/v1/checkout",
        "sessionsUrl": "/api/v1/sessions",
        "session": str(session.public_id) if session else None,
        "register": register_key(register),
        "store": register.store.code,
        "boletaIdThreshold": str(rules.BOLETA_ANONYMOUS_LIMIT),
        "icbperRate": str(rules.icbper_rate(on=rules.fiscal_date(timezone.now())) or Decimal("0.00")),
        "isManager": store_user_is_manager(user=request.user, store=register.store),
    }
    return render(
        request,
        "sales/pos.html",
        {
            "register": register,
            "register_key": register_key(register),
            "store": register.store,
            "company": register.company,
            "session": session,
            "opened_at": timezone.localtime(session.opened_at) if session else None,
            "pos_config": config,
            "boleta_id_threshold": str(rules.BOLETA_ANONYMOUS_LIMIT),
        },
    )


def _register_or_choose(request: HttpRequest) -> tuple[object, HttpResponse | None]:
    """The user's register for a till page (``?register=CODE`` when they have several), or the
    page that makes them choose."""
    code = request.GET.get("register") or None
    try:
        return register_access(user=request.user, code=code), None
    except RegisterInactive as exc:
        return None, render(request, "sales/pos_choose_register.html", {"inactive": exc.message}, status=403)
    except NotFound:
        registers = list(
            register_list_for_user(user=request.user).select_related("store").order_by("store__code", "code")
        )
        status = 404 if code else (200 if registers else 403)
        response = render(
            request, "sales/pos_choose_register.html", {"registers": registers, "unknown_code": code}, status=status
        )
        return None, response


@login_required
@require_GET
def sales_page(request: HttpRequest) -> HttpResponse:
    """The till's sales: the open session's (or today's), search by number or buyer document,
    reprint."""
    register, choose = _register_or_choose(request)
    if choose is not None:
        return choose
    q = request.GET.get("q", "")[:40]
    rows = sale_list_for_till(user=request.user, register=register, day=None, q=q)
    for row in rows:
        row["status_label"] = STATUS_LABELS[row["status"]]
        row["sunat_label"] = sunat_status_label(row["sunat_status"])
        row["issued_time"] = row["issued_at"][11:16]
    session = cash_session_open_get(register_id=register.pk, company_id=register.company_id)
    return render(
        request,
        "sales/pos_sales.html",
        {
            "register": register,
            "register_key": register_key(register),
            "store": register.store,
            "company": register.company,
            "session": session,
            "rows": rows,
            "q": q,
        },
    )


def _session_page(request: HttpRequest, session_id: UUID):
    try:
        return cash_session_get_for_user(user=request.user, public_id=session_id)
    except TillError:
        raise Http404("Turno no encontrado") from None


@login_required
@require_GET
def session_report_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The X report (open session) or the Z report (closed), printable on 80 mm."""
    session = _session_page(request, session_id)
    report = cash_session_report(session=session)
    methods = [("cash", "Efectivo"), ("card", "Tarjeta"), ("yape", "Yape"), ("plin", "Plin")]
    rows = [
        {
            "label": label,
            "payments": report["payments"][m],
            "refunds": report["refunds"][m],
            "expected": report["expected"][m],
            "counted": report["counted"][m] if report["counted"] else None,
            "difference": report["difference"][m] if report["difference"] else None,
        }
        for m, label in methods
    ]
    return render(
        request,
        "sales/session_report.html",
        {
            "session": session,
            "report": report,
            "rows": rows,
            "store": session.store,
            "company": session.store.company,
            "register": session.register,
            "register_key": register_key(session.register),
            "opened_at": timezone.localtime(session.opened_at),
            "closed_at": timezone.localtime(session.closed_at) if session.closed_at else None,
            "printed_at": timezone.localtime(),
            "denominations": sorted(
                ((Decimal(k), n) for k, n in (session.denominations or {}).items()), key=lambda kv: -kv[0]
            ),
        },
    )


@login_required
@require_GET
def session_close_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The blind close: the cashier counts (by denomination, or the total) before seeing what
    the drawer should hold; the Z report opens after the close."""
    session = _session_page(request, session_id)
    if session.status == SessionStatus.CLOSED:
        return redirect("pos-session-report", session_id=session.public_id)
    config = {
        "closeUrl": f"/api/v1/sessions/{session.public_id}/close",
        "reportUrl": f"/pos/sessions/{session.public_id}/report/",
        "denominations": [format(d, ".2f") for d in money.DENOMINATIONS],
        "isManager": store_user_is_manager(user=request.user, store=session.store),
    }
    return render(
        request,
        "sales/session_close.html",
        {
            "session": session,
            "store": session.store,
            "register": session.register,
            "register_key": register_key(session.register),
            "opened_at": timezone.localtime(session.opened_at),
            "close_config": config,
            "bills": [d for d in money.DENOMINATIONS if d >= 10],
            "coins": [d for d in money.DENOMINATIONS if d < 10],
        },
    )


def _wait_for_hash(*, document_id: int, current: str) -> str:
    """Poll the document's ``xml_hash`` for up to ``RECEIPT_HASH_WAIT_SECONDS``.

    Each read is its own autocommit query on that single column, outside any transaction, so it
    sees the worker's commit as soon as it happens and holds no lock or snapshot while sleeping.
    With the native pool, the connection goes back to the pool during each sleep, so waiting
    receipts do not hold connections the tills need. Inside a transaction (never the case for
    this view; a guard for callers) it does not wait at all.
    """
    if current:
        return current
    connection = connections["default"]
    if connection.in_atomic_block:
        return ""
    pooled = bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))
    deadline = time.monotonic() + float(getattr(settings, "RECEIPT_HASH_WAIT_SECONDS", 2.0))
    while time.monotonic() < deadline:
        if pooled:
            connection.close()  # returns it to the pool; the next query takes one again
        time.sleep(HASH_POLL_INTERVAL)
        value = sunat_document_hash(document_id=document_id)
        if value:
            return value
    return ""


@login_required
@require_GET
def receipt_page(request: HttpRequest, sale_id: UUID) -> HttpResponse:
    """The 80 mm receipt. Waits briefly for the signature hash; prints without it past that. The
    SUNAT side (hash, QR, status) comes from ``sunat.selectors``; the company from its printed
    fields only (no secret is read or decrypted)."""
    sale = sale_receipt_get(user=request.user, public_id=sale_id)  # Http404 alike for other stores
    receipt = None
    if sale.sunat_document_id:
        _wait_for_hash(document_id=sale.sunat_document_id, current="")
        receipt = sunat_receipt_get(document_id=sale.sunat_document_id, company_id=sale.company_id)
    payments = sorted(sale.payments.all(), key=lambda p: (PAYMENT_ORDER.get(p.method, 9), p.pk))
    lines = list(sale.lines.all())
    notes = sorted(sale.returns.all(), key=lambda r: (r.issued_at, r.pk))
    context = {
        "sale": sale,
        "company": _letterhead(sale.company_id),
        "store": sale.store,
        "register": sale.register,
        "title": DOCUMENT_TITLES.get(sale.document_type, "COMPROBANTE ELECTRÓNICO"),
        "issued_at": timezone.localtime(sale.issued_at),
        "customer_doc_label": DOC_TYPE_LABELS.get(sale.customer_doc_type, ""),
        "anonymous": rules.buyer_is_anonymous(doc_type=sale.customer_doc_type, doc_number=sale.customer_doc_number),
        "lines": lines,
        "payments": payments,
        "tendered_total": sum(
            ((p.tendered if p.tendered is not None else p.amount) for p in payments), Decimal("0.00")
        ),
        "in_words": amount_in_words(sale.total),
        "receipt": receipt,
        "xml_hash": receipt.xml_hash if receipt is not None else "",
        "sunat_status": receipt.status_label if receipt is not None else "Sin comprobante",
        "sunat_status_code": receipt.status if receipt is not None else "",
        "qr_svg": qr_svg(receipt.qr_payload) if receipt is not None else None,
        "notes": notes,
    }
    return render(request, "sales/receipt.html", context)


def _letterhead(company_id: int) -> Company:
    """The company as a receipt prints it: legal and trade name, RUC, address (no secret is read)."""
    return Company.objects.only("ruc", "legal_name", "trade_name", "address", "district").get(pk=company_id)


@login_required
@require_GET
def return_receipt_page(request: HttpRequest, return_id: UUID) -> HttpResponse:
    """The credit note's 80 mm receipt: NOTA DE CRÉDITO ELECTRÓNICA, the document it modifies,
    the reason, the returned lines, totals, amount in words, refunds, and the QR with the note's
    hash (waits briefly for the signature, like the sale's receipt)."""
    sale_return = sale_return_receipt_get(user=request.user, public_id=return_id)  # Http404 alike
    sale = sale_return.sale
    receipt = None
    if sale_return.sunat_document_id:
        _wait_for_hash(document_id=sale_return.sunat_document_id, current="")
        receipt = sunat_receipt_get(document_id=sale_return.sunat_document_id, company_id=sale_return.company_id)
    refunds: dict[str, Decimal] = {}
    for refund in sale_return.refunds.all():
        refunds[refund.method] = refunds.get(refund.method, Decimal("0.00")) + refund.handed
    context = {
        "note": sale_return,
        "sale": sale,
        "company": _letterhead(sale_return.company_id),
        "store": sale_return.store,
        "register": sale_return.register,
        "register_key": register_key(sale_return.register),
        "issued_at": timezone.localtime(sale_return.issued_at),
        "modified_title": DOCUMENT_TITLES.get(sale.document_type, "COMPROBANTE"),
        "customer_doc_label": DOC_TYPE_LABELS.get(sale.customer_doc_type, ""),
        "anonymous": rules.buyer_is_anonymous(doc_type=sale.customer_doc_type, doc_number=sale.customer_doc_number),
        "lines": [(row, row.sale_line) for row in sale_return.lines.all()],
        "refunds": [
            (dict(PaymentMethod.choices)[m], v)
            for m, v in sorted(refunds.items(), key=lambda kv: PAYMENT_ORDER.get(kv[0], 9))
        ],
        "in_words": amount_in_words(sale_return.total),
        "receipt": receipt,
        "qr_svg": qr_svg(receipt.qr_payload) if receipt is not None else None,
    }
    return render(request, "sales/return_receipt.html", context)


@login_required
@require_GET
def sale_return_page(request: HttpRequest, sale_id: UUID) -> HttpResponse:
    """Return some of a sale: quantities per line (restock or not), the reason, how to refund,
    and the manager's PIN for a cashier. The amounts come from the server (return-quote)."""
    sale = sale_detail_get_or_404(user=request.user, public_id=sale_id)
    detail = sale_detail_body(sale)
    register, choose = _register_or_choose(request)
    if choose is not None:
        return choose
    config = {
        "sale": detail["id"],
        "quoteUrl": f"/api/v1/sales/{detail['id']}/return-quote",
        "returnsUrl": "/api/v1/returns",
        "voidUrl": f"/api/v1/sales/{detail['id']}/void",
        "register": register_key(register),
        "isManager": store_user_is_manager(user=request.user, store=register.store),
        "paid": {p["method"]: p["amount"] for p in detail["payments"]},
        "salesUrl": f"/pos/sales/?register={register_key(register)}",
    }
    return render(
        request,
        "sales/sale_return.html",
        {
            "sale": detail,
            "register": register,
            "register_key": register_key(register),
            "store": register.store,
            "status_label": STATUS_LABELS[detail["status"]],
            "payments": [(dict(PaymentMethod.choices)[p["method"]], p["amount"]) for p in detail["payments"]],
            "reasons": ReturnReason.choices,
            "return_config": config,
            "lines": [
                {**line, "left": format(Decimal(line["quantity"]) - Decimal(line["returned_quantity"]), "f")}
                for line in detail["lines"]
            ],
        },
    )


def sale_detail_get_or_404(*, user, public_id) -> object:
    try:
        return sale_detail_get(user=user, public_id=public_id)
    except TillError:
        raise Http404("Venta no encontrada") from None
