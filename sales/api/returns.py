"""``POST /api/v1/returns`` (a credit note for returned quantities), ``POST /api/v1/sales/<id>/void``
(anulación) and ``GET /api/v1/sales/<id>/return-quote`` (what a return would refund, for the
till's page). Thin: parse, the 400 checks, the approval, the service inside
:func:`sales.services.idempotency.idempotent_run`, render."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from sales import money
from sales.models import SaleLine
from sales.schemas.common import body_fingerprint, body_parse, data_parse
from sales.schemas.till import ReturnBody, ReturnLineBody, VoidBody
from sales.selectors.history import sale_for_action
from sales.services.errors import TillError
from sales.services.idempotency import Answer, idempotent_replay, idempotent_run
from sales.services.returns import RefundIn, ReturnLineIn, sale_return_create, sale_return_quote, sale_return_validate
from sales.services.voids import sale_void_request
from sunat.selectors import sunat_document_statuses

from . import api_view, json_response
from .sessions import approver_for, register_for

METHODS = ("cash", "card", "yape", "plin")


def _refunded(sale_return) -> dict[str, str]:
    handed = {m: money.ZERO for m in METHODS}
    for refund in sale_return.refunds.all():
        handed[refund.method] += refund.handed
    return {m: money.as_text(v) for m, v in handed.items()}


@api_view(("POST",))
def returns(request: HttpRequest) -> JsonResponse:
    body = body_parse(ReturnBody, request.body)
    sale = sale_for_action(user=request.user, public_id=body.sale)
    register = register_for(user=request.user, code=body.register_code)
    lines = [ReturnLineIn(line=line.line, quantity=line.quantity, restock=line.restock) for line in body.lines]
    refunds = [RefundIn(method=r.method, amount=r.amount) for r in body.refunds]
    key = {"company_id": sale.company_id, "user": request.user, "key": body.idempotency_key}
    fingerprint = body_fingerprint(body)
    answer = idempotent_replay(**key, endpoint="sale.return", fingerprint=fingerprint)
    if answer is None:
        sale_return_validate(sale=sale, lines=lines, refunds=refunds)  # the 400s come before the approval
        approver = approver_for(request=request, store=sale.store, raw=body.approval, action="sale.return")

        def create() -> Answer:
            created = sale_return_create(
                user=request.user,
                sale=sale,
                register=register,
                reason_code=body.reason_code,
                reason=body.reason,
                lines=lines,
                refunds=refunds,
                approver=approver,
                request_id=getattr(request, "request_id", ""),
            )
            return Answer(
                201,
                {
                    "id": str(created.public_id),
                    "number": created.full_number,
                    "document_type": "07",
                    "sale": str(sale.public_id),
                    "total": money.as_text(created.total),
                    "igv": money.as_text(created.igv),
                    "icbper": money.as_text(created.icbper),
                    "refunded": _refunded(created),
                    "sunat_status": "pending",
                    "receipt_url": f"/pos/returns/{created.public_id}/",
                },
            )

        answer = idempotent_run(**key, endpoint="sale.return", fingerprint=fingerprint, action=create)
    return json_response(answer.body, status=answer.status)


@api_view(("POST",))
def sale_void(request: HttpRequest, sale_id: str) -> JsonResponse:
    sale = sale_for_action(user=request.user, public_id=sale_id)
    body = body_parse(VoidBody, request.body)
    register = register_for(user=request.user, code=body.register_code)
    key = {"company_id": sale.company_id, "user": request.user, "key": body.idempotency_key}
    fingerprint = body_fingerprint(body, target=str(sale.public_id))
    answer = idempotent_replay(**key, endpoint="sale.void", fingerprint=fingerprint)
    if answer is None:
        approver = approver_for(request=request, store=sale.store, raw=body.approval, action="sale.void")

        def void() -> Answer:
            requested = sale_void_request(
                user=request.user,
                sale=sale,
                register=register,
                reason=body.reason,
                approver=approver,
                request_id=getattr(request, "request_id", ""),
            )
            status = sunat_document_statuses(document_ids=[requested.sunat_document_id]).get(
                requested.sunat_document_id, "pending"
            )
            return Answer(202, {"id": str(sale.public_id), "status": "voiding", "sunat_status": status})

        answer = idempotent_run(**key, endpoint="sale.void", fingerprint=fingerprint, action=void)
    return json_response(answer.body, status=answer.status)


@api_view(("GET",))
def return_quote(request: HttpRequest, sale_id: str) -> JsonResponse:
    """``?line=N&quantity=Q`` pairs (repeated): the note's amounts as a return would compute them
    now (nothing is written)."""
    sale = sale_for_action(user=request.user, public_id=sale_id)
    numbers, quantities = request.GET.getlist("line"), request.GET.getlist("quantity")
    if len(numbers) != len(quantities):
        raise TillError.single("lines", "Indique pares line=N&quantity=Q válidos.")
    if not numbers:
        raise TillError.single("lines", "Indique al menos una línea con cantidad mayor que cero.")
    try:  # each pair as a return's line (the body's own rules: 3 decimals, 0 < quantity <= 9999)
        parsed = [
            data_parse(ReturnLineBody, {"line": n, "quantity": q}) for n, q in zip(numbers, quantities, strict=True)
        ]
    except TillError as exc:
        raise TillError({"lines": [m for messages in exc.errors.values() for m in messages]}, 400) from None
    lines = [ReturnLineIn(line=p.line, quantity=p.quantity, restock=True) for p in parsed]
    quote = sale_return_quote(
        sale_lines={line.line_no: line for line in SaleLine.objects.filter(company_id=sale.company_id, sale=sale)},
        lines=lines,
    )
    return json_response(
        {
            "total": money.as_text(quote.totals.total),
            "igv": money.as_text(quote.totals.igv),
            "icbper": money.as_text(quote.totals.icbper),
            "lines": [{"line": q.sale_line.line_no, "amount": money.as_text(q.amounts.total)} for q in quote.lines],
            "over_left": list(quote.over_left),
        }
    )
