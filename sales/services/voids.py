"""Voids (anulación) of a whole sale: the void's SUNAT document (a Comunicación de Baja for a
factura, a Resumen Diario line with ConditionCode 3 for a boleta) is issued at once, everything
is restocked and every payment refunded from the open session of the register used.

Locks, inside one ``transaction.atomic()``: the sale row ``FOR NO KEY UPDATE`` (a return and a
void of one sale are decided one at a time, as in :mod:`sales.services.returns`), the register's
open session ``FOR SHARE``, the sale's SUNAT document (``sunat_void_issue``), the stock rows in id
order.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sales import money
from sales.models import CashSession, MovementKind, PaymentMethod, Refund, RefundKind, Sale, SaleVoid, StoreProduct
from sales.selectors.history import sale_state
from stores.models import Register
from stores.selectors import store_user_is_manager
from stores.services import APPROVAL_REQUIRED, audit_event_record
from sunat.services import VoidRefused, sunat_void_issue

from .errors import TillError, constraint_violated
from .returns import OTHER_STORE, SALE_STATE
from .sessions import SESSION_NONE
from .stock import stock_movements_record_bulk

NO_DOCUMENT = "La venta no tiene comprobante electrónico: no hay nada que anular ante SUNAT."
HAS_RETURNS = "La venta tiene devoluciones: no se puede anular; devuelva lo que falta con una nota de crédito."
VOID_STATE = {
    "voiding": "La venta ya se está anulando.",
    "voided": "La venta ya está anulada.",
    "partially_returned": HAS_RETURNS,
    "returned": HAS_RETURNS,
}

_HOLD_SESSION_SQL = f"""
SELECT id FROM {CashSession._meta.db_table}
WHERE company_id = %s AND register_id = %s AND status = 'open'
FOR SHARE
"""


def session_hold(*, register: Register) -> int:
    """Hold ``register``'s open session ``FOR SHARE`` in the caller's transaction (a close waits
    for it) and return its id; 409 without one."""
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_SESSION_SQL, [register.company_id, register.pk])
        row = cursor.fetchone()
    if row is None:
        raise TillError.single("session", SESSION_NONE, status=409)
    return row[0]


def sale_void_request(
    *,
    user: User,
    sale: Sale,
    register: Register,
    reason: str,
    approver: User | None,
    request_id: str = "",
    demo: bool = False,
) -> SaleVoid:
    """Void ``sale`` through ``register``'s open session.

    409: a demo-history sale, a document SUNAT rejected, a sale with returns, one already voiding
    or voided, past ``SUNAT_VOID_WINDOW_DAYS`` (the answer says to use a return with reason 01;
    the rule is ``sunat_void_refusal``'s), no open session on ``register``. A cashier needs
    ``approver`` (403). Writes the void, its RA/RC (``sunat_void_issue``), the refunds (cash as
    the cash the sale kept, tendered − change; card, Yape and Plin as paid), the ``return`` stock
    movements of every line, and the audit event, in one transaction.

    ``demo`` (``seed_demo --history-days`` only): voids a demo-history sale, the RA/RC as demo
    history too (dated by the services' clock).
    """
    if register.store_id != sale.store_id:
        raise TillError.single("register", OTHER_STORE)
    manager = store_user_is_manager(user=user, store=register.store)
    if approver is None and not manager:
        raise TillError.single("approval", APPROVAL_REQUIRED, status=403)
    with transaction.atomic():
        locked = Sale.objects.select_for_update(no_key=True, of=("self",)).get(pk=sale.pk, company_id=sale.company_id)
        state = sale_state(sale=locked, demo_allowed=demo)
        if state in SALE_STATE or state in VOID_STATE:
            raise TillError.single("sale", SALE_STATE.get(state) or VOID_STATE[state], status=409)
        session_id = session_hold(register=register)
        now = timezone.now()
        try:
            with transaction.atomic():
                void = SaleVoid.objects.create(
                    company_id=locked.company_id,
                    store_id=register.store_id,
                    register=register,
                    session_id=session_id,
                    sale=locked,
                    requested_by=user,
                    approved_by=approver if approver is not None else user,
                    reason=reason,
                    requested_at=now,
                    request_id=request_id[:64],
                )
        except IntegrityError as exc:  # the sale row lock makes this unreachable; the constraint stays the last word
            if constraint_violated(exc) == "sales_salevoid_sale_id_key":
                raise TillError.single("sale", VOID_STATE["voiding"], status=409) from None
            raise
        if locked.sunat_document is None:
            raise TillError.single("sale", NO_DOCUMENT, status=409)
        try:
            void.sunat_document = sunat_void_issue(
                company=register.company,
                store=register.store,
                original=locked.sunat_document,
                reason=reason,
                request_id=request_id,
                demo=demo,
            )
        except VoidRefused as exc:
            raise TillError.single("sale", exc.message, status=409) from None
        void.save(update_fields=["sunat_document"])
        payments = list(locked.payments.all())
        Refund.objects.bulk_create(
            [
                Refund(
                    company_id=locked.company_id,
                    store_id=register.store_id,
                    session_id=session_id,
                    sale=locked,
                    kind=RefundKind.VOID,
                    sale_void=void,
                    method=p.method,
                    amount=p.amount,
                    handed=money.cash_kept(applied=p.amount, rounding=p.rounding)
                    if p.method == PaymentMethod.CASH
                    else p.amount,
                )
                for p in payments
            ]
        )
        lines = list(locked.lines.all())
        stock_movements_record_bulk(
            items=[
                (
                    StoreProduct(pk=line.store_product_id, company_id=locked.company_id, store_id=locked.store_id),
                    line.quantity,
                )
                for line in lines
            ],
            kind=MovementKind.RETURN,
            created_by=user,
            note=f"Anulación {locked.full_number}",
            sale=locked,
        )
        if approver is not None:
            audit_event_record(
                company_id=locked.company_id,
                store_id=register.store_id,
                actor=user,
                approver=approver,
                action="approval.granted",
                data={"username": approver.get_username(), "for": "sale.void"},
            )
        audit_event_record(
            company_id=locked.company_id,
            store_id=register.store_id,
            actor=user,
            approver=void.approved_by,
            action="sale.void",
            object_type="sale",
            object_id=locked.public_id,
            data={
                "sale": locked.full_number,
                "total": money.as_text(locked.total),
                "reason": reason,
                "refunds": {r.method: money.as_text(r.amount) for r in payments},
            },
        )
    return void
