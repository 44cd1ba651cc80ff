"""The owner's pages: ``/reports/`` (the chain's day and week at a glance, with charts) and the
sales register exports ``/reports/sales.xlsx`` and ``/reports/sales.csv``.

Thin: parse the query, read through :mod:`sales.selectors.reports` inside
:func:`sales.reports_db.reports_reading` (the replica when it answers), render. A cashier gets
403, a store outside the user's stores 404 (alike for one that does not exist), a bad date or
range 400 with the reason in Spanish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from sales import charts, money
from sales.api import errors_response
from sales.api.history import date_param
from sales.exports import csv_stream, xlsx_stream
from sales.models import PaymentMethod
from sales.reports_db import ReportSource, reports_reading
from sales.selectors.reports import (
    ReportScope,
    cashier_report,
    report_days,
    report_figures,
    report_range_check,
    report_scope,
    sales_register_rows,
    slow_products,
    store_label,
    top_products,
    unsettled_documents,
)
from sales.services.errors import TillError
from sunat.selectors import sunat_document_status_counts, sunat_status_label

from .selectors.history import local_day_bounds

METHOD_LABELS = dict(PaymentMethod.choices)
WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


def _scope_or_raise(request: HttpRequest) -> ReportScope:
    try:
        return report_scope(user=request.user, store_code=request.GET.get("store"))
    except TillError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.errors) from None
        if exc.status == 404:
            raise Http404("Tienda no encontrada") from None
        raise


def _freshness(source: ReportSource) -> dict:
    replayed = timezone.localtime(source.replayed_at) if source.replayed_at else None
    return {
        "source": source,
        "replayed_at": replayed,
        "lag": round(source.lag_seconds) if source.lag_seconds is not None else None,
    }


@login_required
@require_GET
def reports_page(request: HttpRequest) -> HttpResponse:
    """The chosen day (``date``, default today in Lima) for the chosen store (``store``) or the
    whole chain: figures, charts, cashiers over 30 days, products, SUNAT, the exports."""
    with reports_reading() as source:
        scope = _scope_or_raise(request)
        menu = scope if scope.store is None else report_scope(user=request.user, store_code=None)
        base = {
            "scope": scope,
            "choices": [(f"{s.company.ruc}/{s.code}", f"{s.code} {s.name}") for s in menu.stores],
            "store_param": request.GET.get("store", ""),
            "selected": f"{scope.store.company.ruc}/{scope.store.code}" if scope.store else "",
            **_freshness(source),
        }
        try:
            day = date_param(request.GET.get("date")) or timezone.localdate()
        except TillError as exc:
            return render(request, "sales/reports.html", {**base, "error": exc.errors["date"][0]}, status=400)
        context = {**base, **_page_context(scope=scope, day=day)}
    return render(request, "sales/reports.html", context)


def _page_context(*, scope: ReportScope, day: date) -> dict:
    figures = report_figures(scope=scope, start=day, end=day)
    week_ago = report_figures(scope=scope, start=day - timedelta(days=7), end=day - timedelta(days=7))
    days = report_days(scope=scope, start=day - timedelta(days=13), end=day)
    ordered = sorted(days)
    last, before = ordered[7:], ordered[:7]
    cashiers = cashier_report(scope=scope, end=day)
    lo, hi = local_day_bounds(day)
    sunat = sunat_document_status_counts(company_ids=scope.company_ids, store_ids=scope.store_ids, start=lo, end=hi)
    stores = {s.pk: s for s in scope.stores}
    unsettled = unsettled_documents(scope=scope)
    store_rows = [
        {
            "store": s,
            "count": figures.by_store[s.pk].count,
            "net_total": figures.by_store[s.pk].net_total,
            "week_ago": week_ago.by_store[s.pk].net_total,
        }
        for s in scope.stores
    ]
    payments = {m: figures.payments[m] for m in METHOD_LABELS}
    return {
        "scope": scope,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "figures": figures,
        "average_ticket": money.average(figures.sales_total, figures.sales_count),
        "payments": [(METHOD_LABELS[m], v) for m, v in payments.items()],
        "refunds": [(METHOD_LABELS[m], v) for m, v in figures.refunds.items()],
        "store_rows": store_rows,
        "cashiers": cashiers,
        "top": top_products(scope=scope, start=day, end=day),
        "slow": slow_products(scope=scope, start=day - timedelta(days=29), end=day),
        "sunat": [(sunat_status_label(k), v, k) for k, v in sunat.items()],
        "unsettled": [
            {
                "row": d,
                "store": store_label(stores[d.store_id]) if d.store_id in stores else "",
                "issued_at": timezone.localtime(d.issued_at),
                "admin_url": reverse("admin:sunat_sunatdocument_change", args=[d.document_id]),
            }
            for d in unsettled
        ],
        "export_from": day.replace(day=1),
        "export_to": day,
        "chart_hours": charts.chart_by_hour(hours=[(h, figures.by_hour[h].net_total) for h in range(24)]),
        "chart_payments": charts.chart_payment_mix(payments=payments, labels=METHOD_LABELS),
        "chart_weeks": charts.chart_weeks(
            labels=[f"{WEEKDAYS[d.weekday()]} {d:%d/%m}" for d in last],
            this_week=[days[d].net_total for d in last],
            last_week=[days[d].net_total for d in before],
        ),
        "chart_stores": charts.chart_stores(
            stores=[(f"{r['store'].code} {r['store'].name}", r["net_total"], r["week_ago"]) for r in store_rows]
        ),
        "chart_cash": charts.chart_cash_differences(cashiers=[(c["username"], c["cash_difference"]) for c in cashiers]),
        "week_total": sum((days[d].net_total for d in last), money.ZERO),
        "week_before_total": sum((days[d].net_total for d in before), money.ZERO),
    }


# --------------------------------------------------------------------------- exports


def _export(
    request: HttpRequest, *, extension: str, content_type: str, writer: Callable[..., Iterator[bytes]]
) -> HttpResponse:
    """The sales register of ``from`` … ``to`` (Lima days; default: this month so far) for
    ``store`` or every store the user manages, streamed."""
    try:
        with reports_reading() as source:
            scope = report_scope(user=request.user, store_code=request.GET.get("store"))
            today = timezone.localdate()
            start = date_param(request.GET.get("from"), field="from") or today.replace(day=1)
            end = date_param(request.GET.get("to"), field="to") or today
            report_range_check(start=start, end=end)
    except TillError as exc:
        return errors_response(exc.errors, exc.status)
    where = f"-{scope.store.code}" if scope.store else ""
    filename = f"registro-ventas{where}-{start:%Y%m%d}-{end:%Y%m%d}.{extension}"
    title = f"Registro de ventas {start:%d/%m/%Y} – {end:%d/%m/%Y}"

    def stream() -> Iterator[bytes]:
        with reports_reading(source):  # the generator runs after the view has returned
            yield from writer(sales_register_rows(scope=scope, start=start, end=end), title=title)

    response = StreamingHttpResponse(stream(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Reports-Source"] = "replica" if source.replica else "primary"
    return response


@login_required
@require_GET
def sales_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        extension="xlsx",
        writer=xlsx_stream,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
@require_GET
def sales_csv(request: HttpRequest) -> HttpResponse:
    return _export(
        request, extension="csv", writer=lambda rows, title: csv_stream(rows), content_type="text/csv; charset=utf-8"
    )
