"""``GET /api/v1/sales`` (the till's sales list) and ``GET /api/v1/sales/<id>`` (one sale)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, JsonResponse

from sales.selectors.history import sale_detail_body, sale_detail_get, sale_list_for_till
from sales.services.errors import TillError

from . import api_view, json_response
from .sessions import register_for

BAD_DATE = "Fecha inválida: use AAAA-MM-DD."


def date_param(value: str | None, *, field: str = "date") -> date | None:
    """A ``YYYY-MM-DD`` query parameter; a 400 when it does not parse."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise TillError.single(field, BAD_DATE) from None


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
