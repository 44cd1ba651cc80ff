"""JSON API of the till (thin views: parse, call a service or selector, render).

* ``GET /api/v1/products?q=TEXT[&register=CODE]`` — the cashier's store's products. ``CODE`` is
  ``CAJA1``, or ``0001/CAJA1`` (store/register) for a user of several stores; checkout's
  ``register`` takes the same forms.
* ``POST /api/v1/checkout`` — session auth + CSRF (``X-CSRFToken``); see ARCHITECTURE.md.
  ``ops.urls`` routes it under ops' ``RATELIMIT_CHECKOUT`` per register (429 + Retry-After).

A missing session or CSRF token is a 403 JSON answer here (pages redirect to the login instead).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from sales import money
from sales.models import Sale
from sales.schemas import checkout_body_parse
from sales.selectors import store_product_search
from sales.services.checkout import sale_checkout
from sales.services.errors import TillError

from . import api_view, errors_response, json_response
from .sessions import register_for


@api_view(("GET",))
def products(request: HttpRequest) -> JsonResponse:
    register = register_for(user=request.user, code=request.GET.get("register"))
    rows = store_product_search(store=register.store, q=request.GET.get("q", "")[:100])
    return json_response(
        [
            {
                "id": sp.product_id,
                "sku": sp.product.sku,
                "barcode": sp.product.barcode or "",
                "name": sp.product.name,
                "price": money.as_text(sp.price),
                "stock": str(sp.stock),
                "unit": sp.product.unit_code,
                "affectation": sp.product.affectation,
                "icbper": sp.product.is_plastic_bag,
            }
            for sp in rows
        ]
    )


def sale_checkout_body(sale: Sale) -> dict:
    """The checkout answer; identical for the first response and every replay."""
    return {
        "id": str(sale.public_id),
        "number": sale.full_number,
        "document_type": sale.document_type,
        "total": money.as_text(sale.total),
        "igv": money.as_text(sale.igv),
        "icbper": money.as_text(sale.icbper),
        "change": money.as_text(sale.change),
        "sunat_status": sale.sunat_document.status if sale.sunat_document else "pending",
        "receipt_url": f"/pos/receipts/{sale.public_id}/",
    }


@api_view(("POST",))
def checkout(request: HttpRequest) -> JsonResponse:
    try:
        data = checkout_body_parse(request.body)
        sale, created = sale_checkout(
            cashier=request.user,
            register=data.register,
            idempotency_key=data.idempotency_key,
            fingerprint=data.fingerprint,
            document_type=data.document_type,
            customer=data.customer,
            lines=data.lines,
            payments=data.payments,
            request_id=getattr(request, "request_id", ""),
        )
    except TillError as exc:
        return errors_response(exc.errors, exc.status)
    return json_response(sale_checkout_body(sale), status=201 if created else 200)
