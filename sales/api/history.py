"""``GET /api/v1/sales`` (the till's sales list) and ``GET /api/v1/sales/<id>`` (one sale)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, JsonResponse

from sales.selectors.history import sale_detail_body, sale_detail_get, sale_list_for_till
from sales.services.errors import TillError

from . import api_view, json_response
from .sessions import register_for

BAD_DATE = "Fecha inválida: use AAAA-MM-DD."
# Dates a till or a report may ask for: the lists and reports step days on each side of the one
# asked (a week back, the next day), which must stay within what ``date`` and PostgreSQL hold.
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2099, 12, 31)
DATE_OUT_OF_RANGE = f"Fecha fuera de rango: use una fecha entre {DATE_MIN.isoformat()} y {DATE_MAX.isoformat()}."


def date_param(value: str | None, *, field: str = "date") -> date | None:
    """A ``YYYY-MM-DD`` query parameter between ``DATE_MIN`` and ``DATE_MAX``; a 400 otherwise."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise TillError.single(field, BAD_DATE) from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise TillError.single(field, DATE_OUT_OF_RANGE)
    return day


@api_view(("GET",))
def sales(request: HttpRequest) -> JsonResponse:
    register = register_for(user=request.user, code=request.GET.get("register"))
    rows = sale_list_for_till(
        user=request.user,
        register=register,
        day=date_param(request.GET.get("date")),
        q=request.GET.get("q", "")[:40],
    )
    return json_response(rows)


@api_view(("GET",))
def sale_detail(request: HttpRequest, sale_id: str) -> JsonResponse:
    return json_response(sale_detail_body(sale_detail_get(user=request.user, public_id=sale_id)))
