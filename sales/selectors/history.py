"""The till's sales list and a sale's detail (``GET /api/v1/sales``, ``/api/v1/sales/<id>``,
``/pos/sales/``), scoped to the user's stores: "not yours" and "does not exist" look alike."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from sales import money
from sales.models import CashSession, Sale, SessionStatus
from sales.services.errors import TillError
from stores.models import Register

from . import sale_list_for_user

LIST_LIMIT = 200
SALE_NOT_FOUND = "Venta no encontrada."
NUMBER_RE = re.compile(r"^(?P<series>[A-Za-z0-9]{4})-(?P<number>\d{1,8})$")
STATUS_LABELS = {
    "completed": "Completada",
    "partially_returned": "Devuelta en parte",
    "returned": "Devuelta",
    "voiding": "Anulándose",
    "voided": "Anulada",
}


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants a Lima calendar day starts and ends (the project's TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def sale_list_for_till(*, user: AbstractBaseUser, register: Register, day: date | None, q: str) -> list[Sale]:
    """The register's sales, newest first (at most ``LIST_LIMIT``).

    ``q`` (a number such as ``B001-12``, or the buyer's document number) searches every sale of
    the register's store, on ``day`` when given; without ``q``: the sales of ``day`` (a Lima
    date) when given, else those of the register's open session, else today's.
    """
    sales = sale_list_for_user(user=user).filter(company_id=register.company_id)
    q = (q or "").strip()
    if q:
        sales = sales.filter(store_id=register.store_id)
        match = NUMBER_RE.match(q)
        if match:
            sales = sales.filter(series=match["series"].upper(), number=int(match["number"]))
        else:
            sales = sales.filter(customer_doc_number=q[:15])
        if day is not None:
            sales = sales.filter(issued_at__range=local_day_bounds(day))
    else:
        sales = sales.filter(register_id=register.pk)
        session_id = None
        if day is None:
            session_id = (
                CashSession.objects.filter(company_id=register.company_id, register_id=register.pk, status=SessionStatus.OPEN)
                .values_list("id", flat=True)
                .first()
            )
        if session_id is not None:
            sales = sales.filter(session_id=session_id)
        else:
            start, end = local_day_bounds(day or timezone.localdate())
            sales = sales.filter(issued_at__gte=start, issued_at__lt=end)
    return list(
        sales.select_related("cashier", "sunat_document").order_by("-issued_at", "-id")[:LIST_LIMIT]
    )


def sale_status(sale: Sale) -> str:
    """``completed``, ``partially_returned``, ``returned``, ``voiding`` or ``voided``."""
    return "completed"


def sale_row_body(sale: Sale) -> dict:
    """One row of the sales list (contract fields)."""
    return {
        "id": str(sale.public_id),
        "number": sale.full_number,
        "document_type": sale.document_type,
        "total": money.as_text(sale.total),
        "issued_at": timezone.localtime(sale.issued_at).isoformat(timespec="seconds"),
        "cashier": sale.cashier.get_username(),
        "status": sale_status(sale),
        "sunat_status": sale.sunat_document.status if sale.sunat_document_id else "pending",
        "receipt_url": f"/pos/receipts/{sale.public_id}/",
    }


def sale_detail_get(*, user: AbstractBaseUser, public_id: uuid.UUID | str) -> Sale:
    """The sale with its lines and payments, in the user's stores; a 404 :class:`TillError` for
    another store's sale and a missing one alike."""
    try:
        return (
            sale_list_for_user(user=user)
            .select_related("cashier", "sunat_document", "store", "register")
            .prefetch_related("lines", "payments")
            .get(public_id=public_id)
        )
    except (Sale.DoesNotExist, ValueError, ValidationError):
        raise TillError.single("sale", SALE_NOT_FOUND, status=404) from None


def sale_detail_body(sale: Sale) -> dict:
    """``GET /api/v1/sales/<id>`` (contract fields); ``line`` numbers start at 1 in cart order."""
    customer = None
    if not (sale.customer_doc_type == "0" and sale.customer_doc_number == "-"):
        customer = {"doc_type": sale.customer_doc_type, "doc_number": sale.customer_doc_number, "name": sale.customer_name}
    return {
        **{k: v for k, v in sale_row_body(sale).items() if k != "cashier"},
        "igv": money.as_text(sale.igv),
        "icbper": money.as_text(sale.icbper),
        "customer": customer,
        "lines": [
            {
                "line": line.line_no,
                "barcode": line.barcode,
                "name": line.description,
                "quantity": format(line.quantity, "f"),
                "returned_quantity": format(line.returned_quantity, "f"),
                "unit_price": money.as_text(line.unit_price),
                "total": money.as_text(line.amount + line.icbper),
            }
            for line in sorted(sale.lines.all(), key=lambda line: line.line_no)
        ],
        "payments": [
            {"method": p.method, "amount": money.as_text(p.amount)}
            for p in sorted(sale.payments.all(), key=lambda p: p.pk)
        ],
        "returns": [],
    }

