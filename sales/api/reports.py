"""``GET /api/v1/reports/daily`` (managers, company admins and superusers; cashiers 403)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from sales.reports_db import reports_reading
from sales.selectors.reports import daily_report, report_scope

from . import api_view, json_response
from .history import date_param


@api_view(("GET",))
def daily(request: HttpRequest) -> JsonResponse:
    """The day's report (``date`` defaults to today in Lima; ``store`` to every store the user
    manages). Read from the reports' replica when it answers; ``X-Reports-Source`` says which
    database answered (``replica`` or ``primary``)."""
    with reports_reading() as source:
        scope = report_scope(user=request.user, store_code=request.GET.get("store"))
        day = date_param(request.GET.get("date")) or timezone.localdate()
        body = daily_report(scope=scope, day=day)
    response = json_response(body)
    response["X-Reports-Source"] = "replica" if source.replica else "primary"
    return response
