"""Cashier pages: the checkout page (``/pos/``) and the printable receipt (``/pos/receipts/<id>/``).

Pages only parse and render (STYLE.md): the cart is sent by ``pos.js`` to the JSON API
(``GET /api/v1/products``, ``POST /api/v1/checkout``), and the receipt reads the sale through
the tenancy-scoped selector, so another store's receipt is a 404 exactly like a missing one.
"""

from __future__ import annotations

import time
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from stores.selectors import NotFound, register_access, register_key, register_list_for_user
from stores.validators import DOC_TYPE_CHOICES
from sunat.models import DocumentStatus, SunatDocument
from sunat.qr import qr_payload, qr_svg
from sunat.words import amount_in_words

from .models import IcbperRate
from .selectors import sale_receipt_get

LIMA = ZoneInfo("America/Lima")
BOLETA_ID_THRESHOLD = Decimal("700.00")  # a boleta above this needs the buyer's ID (SUNAT)
HASH_POLL_INTERVAL = 0.1  # seconds between reads of xml_hash while the receipt waits
DOCUMENT_TITLES = {"01": "FACTURA ELECTRÓNICA", "03": "BOLETA DE VENTA ELECTRÓNICA"}
DOC_TYPE_LABELS = dict(DOC_TYPE_CHOICES)
PAYMENT_ORDER = {"cash": 0, "card": 1, "yape": 2, "plin": 3}


def _current_icbper_rate() -> Decimal:
    """The ICBPER per bag in force today (Lima), for the page's running total only; the checkout
    service prices the sale from the same table."""
    today = timezone.localtime(timezone.now(), LIMA).date()
    rate = IcbperRate.objects.filter(valid_from__lte=today).order_by("-valid_from").values_list("amount", flat=True)
    return rate.first() or Decimal("0.00")


@login_required
@require_GET
def pos_page(request: HttpRequest) -> HttpResponse:
    """The checkout page for the cashier's register (``?register=CODE`` when they have several)."""
    code = request.GET.get("register") or None
    try:
        register = register_access(user=request.user, code=code)
    except NotFound:
        registers = list(register_list_for_user(user=request.user).select_related("store").order_by("store__code", "code"))
        status = 404 if code else (200 if registers else 403)
        return render(
            request,
            "sales/pos_choose_register.html",
            {"registers": registers, "unknown_code": code},
            status=status,
        )
    config = {
        "productsUrl": "/api/v1/products",
        "checkoutUrl": "/api/v1/checkout",
        "register": register_key(register),
        "store": register.store.code,
        "boletaIdThreshold": str(BOLETA_ID_THRESHOLD),
        "icbperRate": str(_current_icbper_rate()),
    }
    return render(
        request,
        "sales/pos.html",
        {"register": register, "store": register.store, "company": register.company, "pos_config": config},
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
        value = SunatDocument.objects.filter(pk=document_id).values_list("xml_hash", flat=True).first()
        if value:
            return value
    return ""


@login_required
@require_GET
def receipt_page(request: HttpRequest, sale_id: UUID) -> HttpResponse:
    """The 80 mm receipt. Waits briefly for the signature hash; prints without it past that."""
    sale = sale_receipt_get(user=request.user, public_id=sale_id)  # Http404 alike for other stores
    document = sale.sunat_document
    if document is not None:
        document.xml_hash = _wait_for_hash(document_id=document.pk, current=document.xml_hash)
        if document.xml_hash:
            # Status may have moved together with the hash; re-read it cheaply.
            document.status = (
                SunatDocument.objects.filter(pk=document.pk).values_list("status", flat=True).first() or document.status
            )
    payments = sorted(sale.payments.all(), key=lambda p: (PAYMENT_ORDER.get(p.method, 9), p.pk))
    lines = list(sale.lines.all())
    qr = None
    if document is not None:
        qr = qr_svg(qr_payload(document=document))
    context = {
        "sale": sale,
        "company": sale.company,
        "store": sale.store,
        "register": sale.register,
        "title": DOCUMENT_TITLES.get(sale.document_type, "COMPROBANTE ELECTRÓNICO"),
        "issued_at": timezone.localtime(sale.issued_at, LIMA),
        "customer_doc_label": DOC_TYPE_LABELS.get(sale.customer_doc_type, ""),
        "anonymous": sale.customer_doc_type in ("0", "-", "") and sale.customer_doc_number in ("-", ""),
        "lines": lines,
        "payments": payments,
        "tendered_total": sum(((p.tendered if p.tendered is not None else p.amount) for p in payments), Decimal("0.00")),
        "in_words": amount_in_words(sale.total),
        "document": document,
        "xml_hash": document.xml_hash if document is not None else "",
        "sunat_status": DocumentStatus(document.status).label if document is not None else "Sin comprobante",
        "sunat_status_code": document.status if document is not None else "",
        "qr_svg": qr,
    }
    return render(request, "sales/receipt.html", context)
