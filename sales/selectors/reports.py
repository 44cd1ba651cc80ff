"""The owner's reports: the daily report (``GET /api/v1/reports/daily``), the figures of the
``/reports/`` page and the sales register of the exports. Reads only; run them inside
:func:`sales.reports_db.reports_reading` so they go to the reports' replica when there is one.

Which day, store and user a figure counts for (ARCHITECTURE.md, "Reports"):

* a sale on its Lima date and hour, its store and its cashier;
* a return (credit note) on the note's issue time, the store of the register that made it and
  the user who made it; its total is the note's total;
* a void on the time it was requested, the store of the register used and the user who
  requested it; its total is the sale's (a voided sale also stays in ``sales``);
* ``net_total = sales.total − returns.total − voids.total`` (for every cut: store, cashier, hour);
* ``payments``: what the day's sales were paid with, cash as the cash kept (tendered − change,
  so after cash rounding); ``refunds``: what left the drawers for the day's returns and voids
  (cash as handed, rounded up to S/ 0.10 and capped, like the Z report);
* ``cash_difference``: the sum of the cash differences of the sessions opened by that user and
  closed that day (Lima);
* ``top_products``: the day's sold lines by product, by total (goods plus ICBPER);
* ``sunat``: the documents of those stores issued that day, by SUNAT status.

Every query filters by ``company_id`` and ``store_id`` and a time range on an index that starts
with the store (``sale_store_issued_idx``, ``sale_return_store_issued_idx``,
``sale_void_store_requested_idx``) and groups on the server: the number of queries does not
depend on the number of rows.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, F, Max, Model, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate

from sales import money
from sales.models import (
    CashSession,
    Payment,
    PaymentMethod,
    Refund,
    RefundKind,
    Sale,
    SaleLine,
    SaleReturn,
    SaleVoid,
    SessionStatus,
    StoreProduct,
)
from sales.services.errors import TillError
from stores.models import Store
from stores.selectors import store_list_managed_by
from sunat.selectors import (
    SunatDocumentRow,
    sunat_document_status_counts,
    sunat_document_statuses,
    sunat_documents_unsettled,
    sunat_status_label,
)

from .history import local_day_bounds
from .sessions import METHODS, zero_by_method

MAX_RANGE_DAYS = 366
TOP_PRODUCTS = 10
NOT_A_MANAGER = "Los reportes son para gerentes de tienda y administradores de la empresa."
STORE_NOT_FOUND = "Tienda no encontrada."
STORE_AMBIGUOUS = "Hay varias tiendas con el código {code}: indique RUC/código (por ejemplo 20000000001/{code})."
RANGE_TOO_LONG = f"El rango no puede pasar de {MAX_RANGE_DAYS} días."
RANGE_REVERSED = "La fecha final es anterior a la inicial."


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class ReportScope:
    """The stores a report covers: ``store`` when one was chosen, else every store the user
    manages (``stores``)."""

    stores: tuple[Store, ...]
    store: Store | None

    @property
    def store_ids(self) -> list[int]:
        return [s.pk for s in self.stores]

    @property
    def company_ids(self) -> list[int]:
        return sorted({s.company_id for s in self.stores})


def report_scope(*, user: User, store_code: str | None) -> ReportScope:
    """The stores ``user`` may read reports of, narrowed to ``store_code`` (a store code, or
    ``RUC/code`` when codes repeat across companies). 403 for a user who manages no store (a
    cashier), 404 for a code outside the user's stores (alike for one that does not exist)."""
    managed = list(store_list_managed_by(user=user).select_related("company").order_by("company__ruc", "code"))
    if not managed:
        raise TillError.single("user", NOT_A_MANAGER, status=403)
    code = (store_code or "").strip()
    if not code:
        return ReportScope(stores=tuple(managed), store=None)
    ruc, _, store_part = code.rpartition("/")
    found = [s for s in managed if s.code == store_part and (not ruc or s.company.ruc == ruc)]
    if not found:
        raise TillError.single("store", STORE_NOT_FOUND, status=404)
    if len(found) > 1:
        raise TillError.single("store", STORE_AMBIGUOUS.format(code=store_part))
    return ReportScope(stores=(found[0],), store=found[0])


def report_range_check(*, start: date, end: date) -> None:
    """400 unless ``start <= end`` and the range spans at most :data:`MAX_RANGE_DAYS` days."""
    if end < start:
        raise TillError.single("to", RANGE_REVERSED)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise TillError.single("to", RANGE_TOO_LONG)


def range_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the Lima days ``start`` … ``end`` (inclusive) begin and end."""
    return local_day_bounds(start)[0], local_day_bounds(end)[1]


# --------------------------------------------------------------------------- figures


@dataclass
class Cut:
    """Count and money of one cut (a store, a cashier, an hour, a day)."""

    count: int = 0
    sales: Decimal = money.ZERO
    returns: Decimal = money.ZERO
    voids: Decimal = money.ZERO
    returns_count: int = 0
    voids_count: int = 0
    cash_difference: Decimal = money.ZERO
    sessions: int = 0

    @property
    def net_total(self) -> Decimal:
        return self.sales - self.returns - self.voids


@dataclass
class Figures:
    """Every sum of a report over a range of Lima days, read from the rows."""

    sales_count: int = 0
    sales_total: Decimal = money.ZERO
    sales_igv: Decimal = money.ZERO
    sales_icbper: Decimal = money.ZERO
    returns_count: int = 0
    returns_total: Decimal = money.ZERO
    voids_count: int = 0
    voids_total: Decimal = money.ZERO
    payments: dict[str, Decimal] = field(default_factory=zero_by_method)
    refunds: dict[str, Decimal] = field(default_factory=zero_by_method)
    rounding: Decimal = money.ZERO  # cash rounding on the sales (≥ 0: the customers' favour)
    by_store: dict[int, Cut] = field(default_factory=lambda: defaultdict(Cut))
    by_user: dict[int, Cut] = field(default_factory=lambda: defaultdict(Cut))
    by_hour: dict[int, Cut] = field(default_factory=lambda: defaultdict(Cut))

    @property
    def net_total(self) -> Decimal:
        return self.sales_total - self.returns_total - self.voids_total


def _sum(value: Decimal | None) -> Decimal:
    return value if value is not None else money.ZERO


def _sales_of(scope: ReportScope, lo: datetime, hi: datetime) -> dict:
    """The filter of a sale's child rows (lines, payments) by their sale's store and issue time:
    spelled on the sale (not only on the child's own ``store_id``) so that the sales are found on
    ``sale_store_issued_idx`` and their children by ``sale_id``."""
    return {"sale__store_id__in": scope.store_ids, "sale__issued_at__gte": lo, "sale__issued_at__lt": hi}


def _grouped(
    model: type[Model],
    *,
    tenancy: dict,
    when: str,
    lo: datetime,
    hi: datetime,
    user: str,
    total: str = "total",
    **extra: Any,
) -> list[dict]:
    """``model``'s rows in ``[lo, hi)`` by ``when``, grouped by store, user and Lima hour: count and
    sum of ``total`` (plus ``extra`` aggregates), one query."""
    return list(
        model._default_manager.filter(**tenancy, **{f"{when}__gte": lo, f"{when}__lt": hi})
        .annotate(hour=ExtractHour(when))
        .values("store_id", user, "hour")
        .annotate(n=Count("id"), total=Sum(total), **extra)
        .order_by()
    )


def _tally(figures: Figures, rows: list[dict], *, user: str, count: str, amount: str) -> tuple[int, Decimal]:
    """Add each grouped row to its store's, user's and hour's cut (``count`` and ``amount`` name the
    :class:`Cut` fields); return the rows' total count and amount."""
    n, total = 0, money.ZERO
    for row in rows:
        n += row["n"]
        total += row["total"]
        for cut in (figures.by_store[row["store_id"]], figures.by_user[row[user]], figures.by_hour[row["hour"]]):
            setattr(cut, count, getattr(cut, count) + row["n"])
            setattr(cut, amount, getattr(cut, amount) + row["total"])
    return n, total


def report_figures(*, scope: ReportScope, start: date, end: date) -> Figures:
    """The figures of the Lima days ``start`` … ``end`` over ``scope``'s stores: seven grouped
    queries (sales, payments, returns, voids, refunds of each, closed sessions)."""
    lo, hi = range_bounds(start, end)
    tenancy = {"company_id__in": scope.company_ids, "store_id__in": scope.store_ids}
    figures = Figures()

    sales = _grouped(
        Sale, tenancy=tenancy, when="issued_at", lo=lo, hi=hi, user="cashier_id", igv=Sum("igv"), icbper=Sum("icbper")
    )
    figures.sales_count, figures.sales_total = _tally(figures, sales, user="cashier_id", count="count", amount="sales")
    figures.sales_igv = sum((row["igv"] for row in sales), money.ZERO)
    figures.sales_icbper = sum((row["icbper"] for row in sales), money.ZERO)

    paid = (
        Payment.objects.filter(**tenancy, **_sales_of(scope, lo, hi))
        .values("method")
        .annotate(amount=Sum("amount"), rounding=Sum("rounding"))
        .order_by()
    )
    for row in paid:
        if row["method"] == PaymentMethod.CASH:
            figures.payments["cash"] = money.cash_kept(applied=row["amount"], rounding=row["rounding"])
            figures.rounding += row["rounding"]
        else:
            figures.payments[row["method"]] = row["amount"]

    returns = _grouped(SaleReturn, tenancy=tenancy, when="issued_at", lo=lo, hi=hi, user="cashier_id")
    figures.returns_count, figures.returns_total = _tally(
        figures, returns, user="cashier_id", count="returns_count", amount="returns"
    )
    voids = _grouped(
        SaleVoid, tenancy=tenancy, when="requested_at", lo=lo, hi=hi, user="requested_by_id", total="sale__total"
    )
    figures.voids_count, figures.voids_total = _tally(
        figures, voids, user="requested_by_id", count="voids_count", amount="voids"
    )

    for kind, when in ((RefundKind.RETURN, "sale_return__issued_at"), (RefundKind.VOID, "sale_void__requested_at")):
        refunded = (
            Refund.objects.filter(**tenancy, kind=kind, **{f"{when}__gte": lo, f"{when}__lt": hi})
            .values("method")
            .annotate(handed=Sum("handed"))
            .order_by()
        )
        for row in refunded:
            figures.refunds[row["method"]] += row["handed"]

    closed = (
        CashSession.objects.filter(**tenancy, status=SessionStatus.CLOSED, closed_at__gte=lo, closed_at__lt=hi)
        .values("opened_by_id")
        .annotate(difference=Sum("cash_difference"), n=Count("id"))
        .order_by()
    )
    for row in closed:
        cut = figures.by_user[row["opened_by_id"]]
        cut.cash_difference += _sum(row["difference"])
        cut.sessions += row["n"]
    return figures


def usernames(user_ids: Iterable[int]) -> dict[int, str]:
    User = get_user_model()
    return dict(User.objects.filter(pk__in=list(user_ids)).values_list("pk", User.USERNAME_FIELD))


def top_products(*, scope: ReportScope, start: date, end: date, limit: int = TOP_PRODUCTS) -> list[dict]:
    """The products that sold most (by total: goods plus ICBPER) on the range's sales, as
    ``{"product_id", "barcode", "name", "quantity", "total"}`` (Decimals)."""
    lo, hi = range_bounds(start, end)
    rows = (
        SaleLine.objects.filter(
            company_id__in=scope.company_ids, store_id__in=scope.store_ids, **_sales_of(scope, lo, hi)
        )
        .values("product_id")
        .annotate(
            barcode=Max("barcode"),
            name=Max("description"),
            quantity=Sum("quantity"),
            total=Sum(F("amount") + F("icbper")),
        )
        .order_by("-total", "-quantity", "product_id")[:limit]
    )
    return list(rows)


def slow_products(*, scope: ReportScope, start: date, end: date, limit: int = TOP_PRODUCTS) -> list[dict]:
    """The active products with stock in the scope's stores that sold least over the range
    (nothing at all first), as ``{"product_id", "barcode", "name", "quantity", "stock"}``."""
    lo, hi = range_bounds(start, end)
    sold = dict(
        SaleLine.objects.filter(
            company_id__in=scope.company_ids, store_id__in=scope.store_ids, **_sales_of(scope, lo, hi)
        )
        .values("product_id")
        .annotate(quantity=Sum("quantity"))
        .order_by()
        .values_list("product_id", "quantity")
    )
    stocked = (
        StoreProduct.objects.filter(
            company_id__in=scope.company_ids,
            store_id__in=scope.store_ids,
            is_active=True,
            product__is_active=True,
            stock__gt=0,
        )
        .values("product_id")
        .annotate(barcode=Max("product__barcode"), name=Max("product__name"), stock=Sum("stock"))
        .order_by()
    )
    rows = [{**row, "quantity": sold.get(row["product_id"], Decimal("0.000"))} for row in stocked]
    rows.sort(key=lambda r: (r["quantity"], -r["stock"], r["name"]))
    return rows[:limit]


def report_days(*, scope: ReportScope, start: date, end: date) -> dict[date, Cut]:
    """``{Lima date: Cut}`` for every day of the range (zeros included): count and net total per
    day, three grouped queries."""
    lo, hi = range_bounds(start, end)
    tenancy = {"company_id__in": scope.company_ids, "store_id__in": scope.store_ids}
    days = {start + timedelta(days=i): Cut() for i in range((end - start).days + 1)}
    for model, when, attr in ((Sale, "issued_at", "sales"), (SaleReturn, "issued_at", "returns")):
        rows = (
            model.objects.filter(**tenancy, **{f"{when}__gte": lo, f"{when}__lt": hi})
            .annotate(day=TruncDate(when))
            .values("day")
            .annotate(n=Count("id"), total=Sum("total"))
            .order_by()
        )
        for row in rows:
            cut = days[row["day"]]
            setattr(cut, attr, getattr(cut, attr) + row["total"])
            if model is Sale:
                cut.count += row["n"]
    voids = (
        SaleVoid.objects.filter(**tenancy, requested_at__gte=lo, requested_at__lt=hi)
        .annotate(day=TruncDate("requested_at"))
        .values("day")
        .annotate(total=Sum("sale__total"))
        .order_by()
    )
    for row in voids:
        days[row["day"]].voids += row["total"]
    return days


def store_label(store: Store) -> str:
    return store.code


def daily_report(*, scope: ReportScope, day: date) -> dict:
    """``GET /api/v1/reports/daily`` (contract fields), for ``day`` over ``scope``."""
    figures = report_figures(scope=scope, start=day, end=day)
    users = usernames(figures.by_user)
    lo, hi = local_day_bounds(day)
    stores = {s.pk: s for s in scope.stores}
    return {
        "date": day.isoformat(),
        "store": store_label(scope.store) if scope.store else None,
        "sales": {
            "count": figures.sales_count,
            "total": money.as_text(figures.sales_total),
            "igv": money.as_text(figures.sales_igv),
            "icbper": money.as_text(figures.sales_icbper),
        },
        "returns": {"count": figures.returns_count, "total": money.as_text(figures.returns_total)},
        "voids": {"count": figures.voids_count, "total": money.as_text(figures.voids_total)},
        "net_total": money.as_text(figures.net_total),
        "payments": {m: money.as_text(figures.payments[m]) for m in METHODS},
        "refunds": {m: money.as_text(figures.refunds[m]) for m in METHODS},
        "by_store": [
            {
                "store": store_label(s),
                "count": figures.by_store[s.pk].count,
                "net_total": money.as_text(figures.by_store[s.pk].net_total),
            }
            for s in stores.values()
        ],
        "by_cashier": [
            {
                "username": users.get(user_id, str(user_id)),
                "count": cut.count,
                "net_total": money.as_text(cut.net_total),
                "cash_difference": money.as_text(cut.cash_difference),
            }
            for user_id, cut in sorted(figures.by_user.items(), key=lambda item: users.get(item[0], ""))
        ],
        "by_hour": [
            {"hour": h, "count": figures.by_hour[h].count, "net_total": money.as_text(figures.by_hour[h].net_total)}
            for h in range(24)
        ],
        "top_products": [
            {
                "barcode": p["barcode"],
                "name": p["name"],
                "quantity": format(p["quantity"], "f"),
                "total": money.as_text(p["total"]),
            }
            for p in top_products(scope=scope, start=day, end=day)
        ],
        "sunat": sunat_document_status_counts(
            company_ids=scope.company_ids, store_ids=scope.store_ids, start=lo, end=hi
        ),
    }


def cashier_report(*, scope: ReportScope, end: date, days: int = 30) -> list[dict]:
    """Each user's sales count, net total, closed sessions and cash difference over the ``days``
    Lima days ending on ``end`` (rules of the daily report), worst shortfall first."""
    figures = report_figures(scope=scope, start=end - timedelta(days=days - 1), end=end)
    users = usernames(figures.by_user)
    rows = [
        {
            "username": users.get(user_id, str(user_id)),
            "count": cut.count,
            "net_total": cut.net_total,
            "returns": cut.returns_count,
            "voids": cut.voids_count,
            "sessions": cut.sessions,
            "cash_difference": cut.cash_difference,
        }
        for user_id, cut in figures.by_user.items()
    ]
    rows.sort(key=lambda r: (r["cash_difference"], r["username"]))
    return rows


def unsettled_documents(*, scope: ReportScope, limit: int = 50) -> list[SunatDocumentRow]:
    """The scope's documents SUNAT has not accepted (pending, error, rejected), oldest first."""
    return sunat_documents_unsettled(company_ids=scope.company_ids, store_ids=scope.store_ids, limit=limit)


# --------------------------------------------------------------------------- the sales register

REGISTER_BATCH = 5_000
FIRST_BATCH = 500  # the first rows go out at once


@dataclass(frozen=True)
class RegisterRow:
    """One document of the sales register; a credit note's amounts are negative and it names
    the document it modifies."""

    issued_at: datetime
    store: str
    document_type: str
    series: str
    number: int
    buyer_doc_type: str
    buyer_doc_number: str
    buyer_name: str
    gravadas: Decimal
    exoneradas: Decimal
    inafectas: Decimal
    igv: Decimal
    icbper: Decimal
    total: Decimal
    status: str
    reference: str  # "03 B001-12" for a note; "" for a sale
    counts_in_total: bool  # False for a sale with a void (voiding or voided)


@dataclass
class RegisterTotals:
    documents: int = 0
    gravadas: Decimal = money.ZERO
    exoneradas: Decimal = money.ZERO
    inafectas: Decimal = money.ZERO
    igv: Decimal = money.ZERO
    icbper: Decimal = money.ZERO
    total: Decimal = money.ZERO

    def add(self, row: RegisterRow) -> None:
        self.documents += 1
        if row.counts_in_total:
            self.gravadas += row.gravadas
            self.exoneradas += row.exoneradas
            self.inafectas += row.inafectas
            self.igv += row.igv
            self.icbper += row.icbper
            self.total += row.total


VOIDED = "Anulado"
VOIDING = "Anulación pendiente"
AMOUNTS = ("gravadas", "exoneradas", "inafectas", "igv", "icbper", "total")


def _keyset_batches(queryset: QuerySet, *, when: str) -> Iterator[list]:
    """Rows of ``queryset`` in ``(when, id)`` order, a batch at a time (keyset pagination: each
    batch is one indexed query, nothing is held open between batches, memory stays flat)."""
    last = None
    size = FIRST_BATCH
    while True:
        page = queryset
        if last is not None:
            page = page.filter(Q(**{f"{when}__gt": last[0]}) | Q(**{when: last[0], "id__gt": last[1]}))
        batch = list(page.order_by(when, "id")[:size])
        if not batch:
            return
        yield batch
        last = (batch[-1][when], batch[-1]["id"])
        size = REGISTER_BATCH


def _sale_rows(scope: ReportScope, lo: datetime, hi: datetime, codes: dict[int, str]) -> Iterator[RegisterRow]:
    sales = Sale.objects.filter(
        company_id__in=scope.company_ids, store_id__in=scope.store_ids, issued_at__gte=lo, issued_at__lt=hi
    ).values(
        "id",
        "issued_at",
        "store_id",
        "document_type",
        "series",
        "number",
        "customer_doc_type",
        "customer_doc_number",
        "customer_name",
        *AMOUNTS,
        "sunat_document_id",
        void_document_id=F("void__sunat_document_id"),
        void_id=F("void__id"),
    )
    for batch in _keyset_batches(sales, when="issued_at"):
        statuses = sunat_document_statuses(
            document_ids=[r["sunat_document_id"] for r in batch] + [r["void_document_id"] for r in batch]
        )
        for r in batch:
            if r["void_id"] is not None:
                voided = statuses.get(r["void_document_id"]) in ("accepted", "observed")
                status = VOIDED if voided else VOIDING
            else:
                status = sunat_status_label(statuses.get(r["sunat_document_id"], "pending"))
            yield RegisterRow(
                issued_at=r["issued_at"],
                store=codes[r["store_id"]],
                document_type=r["document_type"],
                series=r["series"],
                number=r["number"],
                buyer_doc_type=r["customer_doc_type"],
                buyer_doc_number=r["customer_doc_number"],
                buyer_name=r["customer_name"],
                **{a: r[a] for a in AMOUNTS},
                status=status,
                reference="",
                counts_in_total=r["void_id"] is None,
            )


def _note_rows(scope: ReportScope, lo: datetime, hi: datetime, codes: dict[int, str]) -> Iterator[RegisterRow]:
    notes = SaleReturn.objects.filter(
        company_id__in=scope.company_ids, store_id__in=scope.store_ids, issued_at__gte=lo, issued_at__lt=hi
    ).values(
        "id",
        "issued_at",
        "store_id",
        "series",
        "number",
        *AMOUNTS,
        "sunat_document_id",
        sale_type=F("sale__document_type"),
        sale_series=F("sale__series"),
        sale_number=F("sale__number"),
        buyer_doc_type=F("sale__customer_doc_type"),
        buyer_doc_number=F("sale__customer_doc_number"),
        buyer_name=F("sale__customer_name"),
    )
    for batch in _keyset_batches(notes, when="issued_at"):
        statuses = sunat_document_statuses(document_ids=[r["sunat_document_id"] for r in batch])
        for r in batch:
            yield RegisterRow(
                issued_at=r["issued_at"],
                store=codes[r["store_id"]],
                document_type="07",
                series=r["series"],
                number=r["number"],
                buyer_doc_type=r["buyer_doc_type"],
                buyer_doc_number=r["buyer_doc_number"],
                buyer_name=r["buyer_name"],
                **{a: -r[a] for a in AMOUNTS},
                status=sunat_status_label(statuses.get(r["sunat_document_id"], "pending")),
                reference=f"{r['sale_type']} {r['sale_series']}-{r['sale_number']}",
                counts_in_total=True,
            )


def sales_register_rows(*, scope: ReportScope, start: date, end: date) -> Iterator[RegisterRow]:
    """The sales register of the Lima days ``start`` … ``end``: every sale and credit note of the
    scope's stores in issue order (sales and notes merged as they stream), a batch of rows per
    query; memory does not grow with the range."""
    lo, hi = range_bounds(start, end)
    codes = {s.pk: store_label(s) for s in scope.stores}
    return heapq.merge(
        _sale_rows(scope, lo, hi, codes), _note_rows(scope, lo, hi, codes), key=lambda row: row.issued_at
    )


def report_scope_for_page(*, user: User) -> bool:
    """Whether the user sees the reports at all (the page's menu link)."""
    return store_list_managed_by(user=user).exists()


__all__ = [
    "ReportScope",
    "report_scope",
    "daily_report",
    "cashier_report",
    "report_figures",
    "report_days",
    "top_products",
    "slow_products",
    "sales_register_rows",
]
