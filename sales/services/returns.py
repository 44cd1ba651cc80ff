"""Returns: part or all of a sale comes back as a credit note (07), exactly once.

``sale_return_quote`` prices a return from the sale's own lines (never from the client) by the
contract's formula (``sales.money.return_line_amounts``); ``sale_return_create`` writes it.

Locks, in this order, inside one ``transaction.atomic()`` (voids take the same first two):

1. the sale row ``FOR NO KEY UPDATE``: returns and voids of one sale are decided one at a time;
2. the sale's lines ``FOR UPDATE``, in line order: what is left to return is read under the lock;
3. the refunding register's open session ``FOR SHARE`` with its note series (``series_number_take``);
4. the restocked products' stock rows, in id order (``stock_movements_record_bulk``).

So two returns racing on one line never take back more than was sold (and the database's check
``sale_line_returned_within_sold`` refuses it anyway, invariant 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sales import money
from sales.models import (
    MovementKind,
    PaymentMethod,
    Refund,
    RefundKind,
    Sale,
    SaleLine,
    SaleReturn,
    SaleReturnLine,
    StoreProduct,
)
from sales.selectors.history import sale_state
from stores.models import Register
from stores.selectors import store_user_is_manager
from stores.services import APPROVAL_REQUIRED, audit_event_record
from sunat import rules
from sunat.services import sunat_document_issue

from .errors import TillError
from .numbering import series_number_take
from .snapshots import return_snapshot_build
from .stock import stock_movements_record_bulk

UNKNOWN_LINE = "La venta no tiene la línea {n}."
WHOLE_UNITS = "Línea {n}: «{name}» se devuelve por unidades enteras."
TOO_SMALL = "Línea {n}: el importe a devolver de «{name}» es demasiado pequeño para una nota de crédito."
OVER_LEFT = "Línea {n}: quedan {left} por devolver de «{name}»."
REFUNDS_TOTAL = "Los reembolsos deben sumar S/ {total}, el total de la nota de crédito."
REFUND_OVER_PAID = (
    "No se puede devolver S/ {amount} por {method}: la venta pagó S/ {left} con ese medio (ya descontado lo devuelto)."
)
OTHER_STORE = "La devolución se registra en una caja de la tienda de la venta."
SALE_STATE = {
    "rejected": "SUNAT rechazó el comprobante de esta venta: no admite devoluciones.",
    "voiding": "La venta se está anulando: no admite devoluciones.",
    "voided": "La venta está anulada: no admite devoluciones.",
    "demo": "Es una venta de demostración que SUNAT nunca recibió: no admite devoluciones ni anulaciones.",
}
METHOD_LABELS = dict(PaymentMethod.choices)


@dataclass(frozen=True)
class ReturnLineIn:
    line: int  # the sale line's number (1…)
    quantity: Decimal
    restock: bool


@dataclass(frozen=True)
class RefundIn:
    method: str
    amount: Decimal  # fiscal


@dataclass(frozen=True)
class QuotedLine:
    sale_line: SaleLine
    quantity: Decimal
    restock: bool
    amounts: money.LineAmounts


@dataclass(frozen=True)
class ReturnQuote:
    lines: tuple[QuotedLine, ...]
    totals: money.DocumentTotals
    over_left: tuple[str, ...]  # 409 messages (quantities over what is left), checked after the 400s


def sale_return_quote(*, sale_lines: dict[int, SaleLine], lines: Sequence[ReturnLineIn]) -> ReturnQuote:
    """Price the return of ``lines`` from the sale's lines (keyed by line number) as they are now.

    400 (:class:`TillError`): an unknown line, a fractional quantity of an item sold by units, a
    line whose amount or taxed IGV would be 0.00 (SUNAT 3111). Quantities over what is left to
    return are not refused here: they come back in ``over_left`` (a 409, which the contract checks
    after the 400s)."""
    errors: list[str] = []
    quoted: list[QuotedLine] = []
    over: list[str] = []
    for item in lines:
        line = sale_lines.get(item.line)
        if line is None:
            errors.append(UNKNOWN_LINE.format(n=item.line))
            continue
        if line.unit_code != "KGM" and item.quantity % 1 != 0:
            errors.append(WHOLE_UNITS.format(n=item.line, name=line.description))
            continue
        before = line.returned_quantity
        after = before + item.quantity
        if after > line.quantity:
            # Priced as asked (so the refunds can be checked first, as the contract orders), refused after.
            over.append(
                OVER_LEFT.format(
                    n=item.line, left=format((line.quantity - before).normalize(), "f"), name=line.description
                )
            )
        amounts = money.return_line_amounts(
            unit_price=line.unit_price,
            sold_quantity=line.quantity,
            sold_base=line.base,
            affectation=line.affectation,
            icbper_rate=line.icbper_rate,
            returned_before=before,
            returned_after=after,
        )
        if amounts.amount == 0 or rules.taxed_line_igv_missing(
            affectation=line.affectation, base=amounts.base, igv=amounts.igv
        ):
            errors.append(TOO_SMALL.format(n=item.line, name=line.description))
            continue
        quoted.append(QuotedLine(sale_line=line, quantity=item.quantity, restock=item.restock, amounts=amounts))
    if errors:
        raise TillError({"lines": errors}, 400)
    totals = money.document_totals([(q.sale_line.affectation, q.amounts) for q in quoted])
    return ReturnQuote(lines=tuple(quoted), totals=totals, over_left=tuple(over))


@dataclass(frozen=True)
class _RefundPlan:
    method: str
    amount: Decimal
    handed: Decimal


def _refunds_plan(*, sale: Sale, total: Decimal, refunds: Sequence[RefundIn]) -> list[_RefundPlan]:
    """Check the refunds against the note's ``total`` and what the sale paid (400 otherwise), and
    hand cash back rounded up to S/ 0.10, capped at the cash the sale kept and has not handed back."""
    by_method: dict[str, Decimal] = {}
    for refund in refunds:
        by_method[refund.method] = by_method.get(refund.method, money.ZERO) + refund.amount
    if sum(by_method.values(), money.ZERO) != total:
        raise TillError.single("refunds", REFUNDS_TOTAL.format(total=money.as_text(total)))
    paid: dict[str, Decimal] = {}
    kept = money.ZERO
    for payment in sale.payments.all():
        paid[payment.method] = paid.get(payment.method, money.ZERO) + payment.amount
        if payment.method == PaymentMethod.CASH:
            kept += money.cash_kept(applied=payment.amount, rounding=payment.rounding)
    refunded: dict[str, Decimal] = {}
    handed_cash = money.ZERO
    for earlier in Refund.objects.filter(company_id=sale.company_id, sale=sale):
        refunded[earlier.method] = refunded.get(earlier.method, money.ZERO) + earlier.amount
        if earlier.method == PaymentMethod.CASH:
            handed_cash += earlier.handed
    plan = []
    for method, amount in by_method.items():
        if method == PaymentMethod.CASH:
            plan.append(
                _RefundPlan(method, amount, money.cash_refund_handed(amount=amount, kept_left=kept - handed_cash))
            )
            continue
        left = paid.get(method, money.ZERO) - refunded.get(method, money.ZERO)
        if amount > left:
            message = REFUND_OVER_PAID.format(
                amount=money.as_text(amount), method=METHOD_LABELS[method], left=money.as_text(left)
            )
            raise TillError.single("refunds", message)
        plan.append(_RefundPlan(method, amount, amount))
    return plan


def sale_return_validate(*, sale: Sale, lines: Sequence[ReturnLineIn], refunds: Sequence[RefundIn]) -> ReturnQuote:
    """The checks of a return, without locks (before an approval is asked for): the sale's state
    (409), then the quote and refund checks (400); :func:`sale_return_create` repeats them under
    its locks. The state comes first: a voided sale has refunded every payment, and its refunds'
    400 would hide why."""
    _sale_state_check(sale=sale, demo=False)
    sale_lines = {line.line_no: line for line in SaleLine.objects.filter(company_id=sale.company_id, sale=sale)}
    quote = sale_return_quote(sale_lines=sale_lines, lines=lines)
    _refunds_plan(sale=sale, total=quote.totals.total, refunds=refunds)
    return quote


def _sale_state_check(*, sale: Sale, demo: bool) -> None:
    state = sale_state(sale=sale, demo_allowed=demo)
    if state in SALE_STATE:
        raise TillError.single("sale", SALE_STATE[state], status=409)


def _sale_lock(sale: Sale) -> Sale:
    return Sale.objects.select_for_update(no_key=True, of=("self",)).get(pk=sale.pk, company_id=sale.company_id)


def sale_return_create(
    *,
    user: User,
    sale: Sale,
    register: Register,
    reason_code: str,
    reason: str,
    lines: Sequence[ReturnLineIn],
    refunds: Sequence[RefundIn],
    approver: User | None,
    request_id: str = "",
    demo: bool = False,
) -> SaleReturn:
    """Return ``lines`` of ``sale`` through ``register``'s open session; one transaction.

    A cashier needs ``approver`` (403). The caller runs the 400 checks first
    (:func:`sale_return_validate`: unknown line, units, SUNAT 3111, refunds that do not add up or
    exceed what a method paid); under the locks a quantity over what is left is a 409 (two
    returns racing) and the 409s of state (a sale SUNAT rejected, voiding or voided) come first,
    then the same 400s again, then no open session on ``register`` (409). Writes the return and its lines, the refunds, the lines' returned quantities, the
    restocked lines' ``return`` stock movements, the credit note's ``SunatDocument`` (sent once
    SUNAT holds the sale's) and the audit event. Locks: see the module's docstring.

    A demo-history sale (``sale_state`` → ``"demo"``) is a 409 unless ``demo`` (``seed_demo
    --history-days`` only), whose credit note is demo history too.
    """
    if register.store_id != sale.store_id:
        raise TillError.single("register", OTHER_STORE)
    manager = store_user_is_manager(user=user, store=register.store)
    if approver is None and not manager:
        raise TillError.single("approval", APPROVAL_REQUIRED, status=403)
    with transaction.atomic():
        locked = _sale_lock(sale)
        sale_lines = {
            line.line_no: line
            for line in SaleLine.objects.select_for_update(of=("self",))
            .filter(company_id=sale.company_id, sale=locked)
            .order_by("line_no")
        }
        # Under the locks, the sale's state and what is left to return come first: a return that
        # raced a void, or another return for the same quantities, is a 409 (the caller ran every
        # 400 check before it started).
        _sale_state_check(sale=locked, demo=demo)
        quote = sale_return_quote(sale_lines=sale_lines, lines=lines)
        if quote.over_left:
            raise TillError({"lines": list(quote.over_left)}, 409)
        plan = _refunds_plan(sale=locked, total=quote.totals.total, refunds=refunds)

        taken = series_number_take(register=register, document_type="07", family=locked.series[0])
        now = timezone.now()
        totals = quote.totals
        sale_return = SaleReturn.objects.create(
            company_id=locked.company_id,
            store_id=register.store_id,
            register=register,
            session_id=taken.session_id,
            sale=locked,
            cashier=user,
            approved_by=approver if approver is not None else (user if manager else None),
            reason_code=reason_code,
            reason=reason,
            document_series_id=taken.series_id,
            series=taken.series,
            number=taken.number,
            gravadas=totals.gravadas,
            exoneradas=totals.exoneradas,
            inafectas=totals.inafectas,
            igv=totals.igv,
            icbper=totals.icbper,
            total=totals.total,
            issued_at=now,
            request_id=request_id[:64],
        )
        returned_lines = SaleReturnLine.objects.bulk_create(
            [
                SaleReturnLine(
                    company_id=locked.company_id,
                    store_id=register.store_id,
                    sale_return=sale_return,
                    sale_line=q.sale_line,
                    line_no=n,
                    quantity=q.quantity,
                    restock=q.restock,
                    base=q.amounts.base,
                    igv=q.amounts.igv,
                    icbper=q.amounts.icbper,
                    amount=q.amounts.amount,
                )
                for n, q in enumerate(quote.lines, start=1)
            ]
        )
        for q in quote.lines:
            # Guarded like stock: the database check refuses more than was sold (invariant 12).
            SaleLine.objects.filter(pk=q.sale_line.pk).update(returned_quantity=F("returned_quantity") + q.quantity)
        Refund.objects.bulk_create(
            [
                Refund(
                    company_id=locked.company_id,
                    store_id=register.store_id,
                    session_id=taken.session_id,
                    sale=locked,
                    kind=RefundKind.RETURN,
                    sale_return=sale_return,
                    method=p.method,
                    amount=p.amount,
                    handed=p.handed,
                )
                for p in plan
            ]
        )
        restocked = [
            (
                StoreProduct(pk=q.sale_line.store_product_id, company_id=locked.company_id, store_id=locked.store_id),
                q.quantity,
            )
            for q in quote.lines
            if q.restock
        ]
        if restocked:
            stock_movements_record_bulk(
                items=restocked, kind=MovementKind.RETURN, created_by=user, note=sale_return.full_number, sale=locked
            )
        snapshot = return_snapshot_build(
            company=register.company,
            store=register.store,
            sale=locked,
            sale_return=sale_return,
            lines=[(q.sale_line, row) for q, row in zip(quote.lines, returned_lines, strict=True)],
        )
        sale_return.sunat_document = sunat_document_issue(
            company=register.company,
            store=register.store,
            snapshot=snapshot,
            request_id=request_id,
            original=locked.sunat_document,
            demo=demo,
        )
        sale_return.save(update_fields=["sunat_document"])
        if approver is not None:
            audit_event_record(
                company_id=locked.company_id,
                store_id=register.store_id,
                actor=user,
                approver=approver,
                action="approval.granted",
                data={"username": approver.get_username(), "for": "sale.return"},
            )
        audit_event_record(
            company_id=locked.company_id,
            store_id=register.store_id,
            actor=user,
            approver=sale_return.approved_by,
            action="sale.return",
            object_type="sale_return",
            object_id=sale_return.public_id,
            data={
                "sale": locked.full_number,
                "note": sale_return.full_number,
                "reason_code": reason_code,
                "total": money.as_text(totals.total),
                "lines": [
                    {"line": q.sale_line.line_no, "quantity": format(q.quantity.normalize(), "f"), "restock": q.restock}
                    for q in quote.lines
                ],
                "refunds": {p.method: money.as_text(p.handed) for p in plan},
            },
        )
    return sale_return
