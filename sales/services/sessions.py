"""Cash sessions (turnos de caja): open, cash in and out, close with a blind count and the Z.

Locks (all inside the action's ``transaction.atomic()``):

* a sale, return or void holds the register's open session ``FOR SHARE`` while it writes
  (checkout does it in its series ``UPDATE``, without a round trip of its own);
* a cash movement and the close hold it ``FOR UPDATE``: a movement waits for the sales in flight
  and checks the drawer against what they committed; the close computes the Z after every sale
  that took the session before it has committed, and a sale that comes after the close finds the
  session closed (409). So no sale falls outside every session and no Z misses a committed sale.

Every action writes its audit event in its own transaction (invariant 13); a cashier's cash out,
and a close whose difference exceeds the company's threshold, need a manager's approval
(``stores.services.approval_verify``, checked by the caller before the transaction).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from sales import money
from sales.models import CashMovement, CashMovementKind, CashSession, SessionStatus
from sales.selectors.sessions import (
    METHODS,
    cash_session_figures,
    cash_session_report_build,
)
from stores.models import Company, Register
from stores.selectors import store_user_is_manager
from stores.services import APPROVAL_REQUIRED, audit_event_record

from .errors import TillError, constraint_violated

SESSION_NONE = "La caja no tiene un turno abierto: ábralo con el fondo inicial."
SESSION_CLOSED = "El turno de caja ya está cerrado."
SESSION_ALREADY_OPEN = "La caja ya tiene un turno abierto."
CASH_OUT_TOO_MUCH = "No hay tanto efectivo en caja: se esperan S/ {expected}."


def cash_session_open(*, user: User, register: Register, opening_float: Decimal) -> CashSession:
    """Open ``register``'s session with the counted float. One open session per register: the
    partial unique index ``cash_session_one_open_per_register`` decides (also for two opens
    racing), and the loser gets a 409. Audited in the same transaction."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                session = CashSession.objects.create(
                    company_id=register.company_id,
                    store_id=register.store_id,
                    register=register,
                    opened_at=timezone.now(),
                    opened_by=user,
                    opening_float=opening_float,
                )
        except IntegrityError as exc:
            if constraint_violated(exc) == "cash_session_one_open_per_register":
                raise TillError.single("session", SESSION_ALREADY_OPEN, status=409) from None
            raise
        audit_event_record(
            company_id=register.company_id,
            store_id=register.store_id,
            actor=user,
            action="session.open",
            object_type="cash_session",
            object_id=session.public_id,
            data={"register": register.code, "opening_float": money.as_text(opening_float)},
        )
    return session


def cash_session_lock(*, session: CashSession) -> CashSession:
    """Lock ``session`` ``FOR UPDATE`` in the caller's transaction and re-read it; 409 when it is
    closed (by the time the lock is granted)."""
    locked = (
        CashSession.objects.select_for_update(of=("self",))
        .select_related("register__store", "opened_by")
        .get(pk=session.pk)
    )
    if locked.status != SessionStatus.OPEN:
        raise TillError.single("session", SESSION_CLOSED, status=409)
    return locked


def _approval_audit(*, session: CashSession, actor: User, approver: User, action: str) -> None:
    audit_event_record(
        company_id=session.company_id,
        store_id=session.store_id,
        actor=actor,
        approver=approver,
        action="approval.granted",
        data={"username": approver.get_username(), "for": action},
    )


def cash_movement_create(
    *,
    user: User,
    session: CashSession,
    kind: str,
    amount: Decimal,
    reason: str,
    approver: User | None,
) -> CashMovement:
    """Put cash into or take it out of the drawer. A cashier's cash out needs ``approver`` (a
    manager whose approval the caller verified); a cash out above the cash expected in the
    drawer is refused (409). Holds the session ``FOR UPDATE``; audited in the same transaction."""
    manager = store_user_is_manager(user=user, store=session.store)
    if kind == CashMovementKind.OUT and approver is None and not manager:
        raise TillError.single("approval", APPROVAL_REQUIRED, status=403)
    with transaction.atomic():
        locked = cash_session_lock(session=session)
        if kind == CashMovementKind.OUT:
            expected = cash_session_figures(session=locked).expected(opening_float=locked.opening_float)["cash"]
            if amount > expected:
                raise TillError.single("amount", CASH_OUT_TOO_MUCH.format(expected=money.as_text(expected)), status=409)
        approved_by = approver if approver is not None else (user if manager and kind == CashMovementKind.OUT else None)
        movement = CashMovement.objects.create(
            company_id=locked.company_id,
            store_id=locked.store_id,
            register_id=locked.register_id,
            session=locked,
            kind=kind,
            amount=amount,
            reason=reason,
            created_at=timezone.now(),
            created_by=user,
            approved_by=approved_by,
        )
        if approver is not None:
            _approval_audit(session=locked, actor=user, approver=approver, action=f"cash.{kind}")
        audit_event_record(
            company_id=locked.company_id,
            store_id=locked.store_id,
            actor=user,
            approver=approved_by,
            action=f"cash.{kind}",
            object_type="cash_movement",
            object_id=movement.public_id,
            data={"session": str(locked.public_id), "amount": money.as_text(amount), "reason": reason},
        )
    return movement


def cash_session_close(
    *,
    user: User,
    session: CashSession,
    counted: dict[str, Decimal],
    denominations: dict[str, int] | None,
    note: str,
    approver: User | None,
) -> CashSession:
    """Close ``session`` with the cashier's blind count and store its Z report.

    Holds the session ``FOR UPDATE`` while it computes the figures, so the Z includes every sale
    committed in the session (a sale waiting for the lock then finds it closed). A difference
    above the company's threshold in any method needs ``approver`` unless ``user`` is a manager
    (403 otherwise, nothing written). ``z_number`` is the register's last Z + 1: only one session
    of a register is ever open, so closes of one register never run at once (the unique
    constraint ``cash_session_z_unique`` guards it anyway). Audited in the same transaction.
    """
    with transaction.atomic():
        locked = cash_session_lock(session=session)
        figures = cash_session_figures(session=locked)
        expected = figures.expected(opening_float=locked.opening_float)
        difference = {m: counted[m] - expected[m] for m in METHODS}
        threshold = (
            Company.objects.filter(pk=locked.company_id).values_list("cash_difference_threshold", flat=True).get()
        )
        over = any(abs(d) > threshold for d in difference.values())
        manager = store_user_is_manager(user=user, store=locked.store)
        if over and approver is None and not manager:
            raise TillError.single("approval", APPROVAL_REQUIRED, status=403)
        last_z = (
            CashSession.objects.filter(
                company_id=locked.company_id, register_id=locked.register_id, z_number__isnull=False
            )
            .order_by("-z_number")
            .values_list("z_number", flat=True)
            .first()
        )
        locked.status = SessionStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = user
        locked.close_approved_by = approver if over and approver is not None else (user if over else None)
        locked.z_number = (last_z or 0) + 1
        locked.denominations = denominations
        locked.note = note
        locked.cash_difference = difference["cash"]
        locked.z_report = cash_session_report_build(session=locked, figures=figures, counted=counted, kind="Z")
        locked.save()
        if over and approver is not None:
            _approval_audit(session=locked, actor=user, approver=approver, action="session.close")
        audit_event_record(
            company_id=locked.company_id,
            store_id=locked.store_id,
            actor=user,
            approver=locked.close_approved_by,
            action="session.close",
            object_type="cash_session",
            object_id=locked.public_id,
            data={
                "z_number": locked.z_number,
                "counted": {m: money.as_text(counted[m]) for m in METHODS},
                "expected": {m: money.as_text(expected[m]) for m in METHODS},
                "difference": {m: money.as_text(difference[m]) for m in METHODS},
                "over_threshold": over,
            },
        )
    return locked
