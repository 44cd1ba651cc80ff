"""The till's sales list and a sale's detail (``GET /api/v1/sales``, ``/api/v1/sales/<id>``,
``/pos/sales/``), scoped to the user's stores: "not yours" and "does not exist" look alike."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from sales import money
from sales.models import CashSession, Sale, SaleLine, SaleReturn, SaleVoid, SessionStatus
from sales.services.errors import TillError
from stores.models import Register
from stores.selectors import store_list_for_user
from sunat import rules
from sunat.selectors import sunat_document_is_demo, sunat_document_statuses

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
    """The instants a Lima calendar day starts and ends (the project's TIME_ZONE): the day is
    ``start <= t < end`` (``end`` is the next day's first instant)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def sale_list_for_till(*, user: User, register: Register, day: date | None, q: str) -> list[dict]:
    """The register's sales as list rows (contract fields), newest first (at most ``LIST_LIMIT``).

    ``q`` (a number such as ``B001-12``, or the buyer's document number) searches every sale of
    the register's store, on ``day`` when given; without ``q``: the sales of ``day`` (a Lima
    date) when given, else those of the register's open session, else today's. Four queries
    whatever the number of rows.
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
            start, end = local_day_bounds(day)
            sales = sales.filter(issued_at__gte=start, issued_at__lt=end)
    else:
        sales = sales.filter(register_id=register.pk)
        session_id = None
        if day is None:
            session_id = (
                CashSession.objects.filter(
                    company_id=register.company_id, register_id=register.pk, status=SessionStatus.OPEN
                )
                .values_list("id", flat=True)
                .first()
            )
        if session_id is not None:
            sales = sales.filter(session_id=session_id)
        else:
            start, end = local_day_bounds(day or timezone.localdate())
            sales = sales.filter(issued_at__gte=start, issued_at__lt=end)
    rows = list(sales_states_annotate(sales.select_related("cashier")).order_by("-issued_at", "-id")[:LIST_LIMIT])
    return sale_rows(rows)


def sale_rows(sales: list[Sale]) -> list[dict]:
    """List rows for annotated sales (:func:`sales_states_annotate`), with their SUNAT statuses."""
    statuses = sale_statuses(sales)
    sunat = sunat_document_statuses(document_ids=[s.sunat_document_id for s in sales])
    return [
        sale_row_body(sale, status=statuses[sale.pk], sunat_status=sunat.get(sale.sunat_document_id, "pending"))
        for sale in sales
    ]


def sales_states_annotate(sales: QuerySet[Sale]) -> QuerySet[Sale]:
    """Annotate what ``sale_status`` needs: any quantity returned, everything returned, the void's
    SUNAT document (one query for a whole list)."""
    lines = SaleLine.objects.filter(sale=OuterRef("pk"))
    return sales.annotate(
        any_returned=Exists(lines.filter(returned_quantity__gt=0)),
        all_returned=~Exists(lines.filter(returned_quantity__lt=F("quantity"))),
        void_document_id=F("void__sunat_document_id"),
        has_void=Exists(SaleVoid.objects.filter(sale=OuterRef("pk"))),
    )


def sale_statuses(sales: list[Sale]) -> dict[int, str]:
    """``{sale id: status}``: ``voided`` (SUNAT accepted the void), ``voiding`` (a void requested,
    not accepted yet — or rejected, until a person acts), ``returned`` (every quantity came back),
    ``partially_returned`` or ``completed``. ``sales`` come from :func:`sales_states_annotate`."""
    void_states = sunat_document_statuses(document_ids=[getattr(s, "void_document_id") for s in sales])  # noqa: B009 - annotations mypy cannot see
    statuses = {}
    for sale in sales:
        # The annotations of sales_states_annotate (not model fields: read by name).
        has_void, void_document_id = getattr(sale, "has_void"), getattr(sale, "void_document_id")  # noqa: B009 - annotations mypy cannot see
        any_returned, all_returned = getattr(sale, "any_returned"), getattr(sale, "all_returned")  # noqa: B009 - annotations mypy cannot see
        if has_void:
            accepted = void_states.get(void_document_id) in ("accepted", "observed")
            statuses[sale.pk] = "voided" if accepted else "voiding"
        elif any_returned:
            statuses[sale.pk] = "returned" if all_returned else "partially_returned"
        else:
            statuses[sale.pk] = "completed"
    return statuses


def sale_state(*, sale: Sale, demo_allowed: bool = False) -> str:
    """What the till may still do with ``sale``: ``demo`` (demo history SUNAT never saw; unless
    ``demo_allowed``, for the history's own returns and voids), ``rejected`` (SUNAT rejected its
    document), ``voiding``/``voided``, or its status."""
    if sale.sunat_document_id and not demo_allowed and sunat_document_is_demo(document_id=sale.sunat_document_id):
        return "demo"
    if (
        sale.sunat_document_id
        and sunat_document_statuses(document_ids=[sale.sunat_document_id]).get(sale.sunat_document_id) == "rejected"
    ):
        return "rejected"
    annotated = sales_states_annotate(Sale.objects.filter(pk=sale.pk)).get()
    return sale_statuses([annotated])[annotated.pk]


def sale_row_body(sale: Sale, *, status: str, sunat_status: str) -> dict:
    """One row of the sales list (contract fields)."""
    return {
        "id": str(sale.public_id),
        "number": sale.full_number,
        "document_type": sale.document_type,
        "total": money.as_text(sale.total),
        "issued_at": timezone.localtime(sale.issued_at).isoformat(timespec="seconds"),
        "cashier": sale.cashier.get_username(),
        "status": status,
        "sunat_status": sunat_status,
        "receipt_url": f"/pos/receipts/{sale.public_id}/",
    }


def sale_detail_get(*, user: User, public_id: uuid.UUID | str) -> Sale:
    """The sale (annotated for its status) with its lines, payments and returns, in the user's
    stores; a 404 :class:`TillError` for another store's sale and a missing one alike."""
    try:
        return (
            sales_states_annotate(sale_list_for_user(user=user))
            .select_related("cashier", "store", "register")
            .prefetch_related("lines", "payments", "returns")
            .get(public_id=public_id)
        )
    except (Sale.DoesNotExist, ValueError, ValidationError):
        raise TillError.single("sale", SALE_NOT_FOUND, status=404) from None


def sale_detail_body(sale: Sale) -> dict:
    """``GET /api/v1/sales/<id>`` (contract fields); ``line`` numbers start at 1 in cart order."""
    customer = None
    if not rules.buyer_is_anonymous(doc_type=sale.customer_doc_type, doc_number=sale.customer_doc_number):
        customer = {
            "doc_type": sale.customer_doc_type,
            "doc_number": sale.customer_doc_number,
            "name": sale.customer_name,
        }
    returns = sorted(sale.returns.all(), key=lambda r: (r.issued_at, r.pk))
    sunat = sunat_document_statuses(document_ids=[sale.sunat_document_id, *(r.sunat_document_id for r in returns)])
    row = sale_row_body(
        sale, status=sale_statuses([sale])[sale.pk], sunat_status=sunat.get(sale.sunat_document_id, "pending")
    )
    return {
        **{k: v for k, v in row.items() if k != "cashier"},
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
        "returns": [
            {
                "id": str(r.public_id),
                "number": r.full_number,
                "total": money.as_text(r.total),
                "sunat_status": sunat.get(r.sunat_document_id, "pending"),
                "receipt_url": f"/pos/returns/{r.public_id}/",
            }
            for r in returns
        ],
    }


def sale_for_action(*, user: User, public_id: uuid.UUID | str) -> Sale:
    """The sale a return or void acts on (with its store and register), in the user's stores; a
    404 :class:`TillError` for another store's sale and a missing one alike."""
    try:
        return sale_list_for_user(user=user).select_related("store", "register").get(public_id=public_id)
    except (Sale.DoesNotExist, ValueError, ValidationError):
        raise TillError.single("sale", SALE_NOT_FOUND, status=404) from None


def sale_return_receipt_get(*, user: User, public_id: uuid.UUID | str) -> SaleReturn:
    """A credit note for its receipt (with its sale, lines and refunds), in the user's stores;
    Http404 alike for other stores' notes and missing ones."""
    try:
        return (
            SaleReturn.objects.filter(store__in=store_list_for_user(user=user))
            .select_related("sale", "store", "register", "cashier")
            .prefetch_related("lines__sale_line", "refunds")
            .get(public_id=public_id)
        )
    except (SaleReturn.DoesNotExist, ValueError, ValidationError):
        raise Http404("Nota de crédito no encontrada") from None
