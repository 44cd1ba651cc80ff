"""Writes of the stores app: managers' approvals (PIN), the audit log, memberships.

Approvals: a cashier's sensitive action carries ``{"username", "pin"}`` of a manager of the
store (or an admin of its company). :func:`approval_verify` checks it *before* the action's
transaction: a refusal commits its audit event and its counter on its own and raises, so the
refused action then writes nothing; a grant is recorded by the action itself, in its own
transaction, with :func:`audit_event_record`.

Audit: an append-only chain per company. :func:`audit_event_record` appends in the caller's
transaction, holding the company's chain head (``stores_auditchain``) locked until that
transaction ends; :func:`audit_event_hash` is the one definition of an event's hash, used by the
writer and by ``manage.py audit_verify`` (both in :mod:`stores.audit`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from .audit import audit_data_canonical, audit_event_hash
from .models import ApprovalFailure, ApproverPin, AuditChain, AuditEvent, Company, Membership, Store
from .selectors import store_user_is_manager

APPROVAL_REQUIRED = "Se requiere la autorización de un supervisor."
APPROVAL_REFUSED = "Autorización rechazada: usuario o PIN incorrectos, o no es supervisor de esta tienda."
APPROVAL_LOCKED = "Demasiados intentos fallidos con este supervisor: vuelva a intentarlo en {minutes} min."
APPROVAL_INVALID = "Indique el usuario y el PIN del supervisor."
PIN_FORMAT = "El PIN debe tener de 4 a 8 dígitos."

PIN_MAX_FAILURES = 5
PIN_FAILURE_WINDOW = timedelta(minutes=15)
PIN_RE = re.compile(r"[0-9]{4,8}\Z")  # ``match``: ASCII digits only, no trailing newline


class ApprovalError(Exception):
    """A missing or refused approval: ``status`` 403, or 429 with ``retry_after`` seconds."""

    def __init__(self, message: str, *, status: int = 403, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApprovalIn:
    """What the client sent as ``"approval"``."""

    username: str
    pin: str


# ---------------------------------------------------------------------------------- audit log


def audit_event_record(
    *,
    company_id: int,
    action: str,
    store_id: int | None = None,
    actor: User | None = None,
    approver: User | None = None,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to ``company_id``'s chain, in the caller's transaction (asserted).

    The chain head row is taken with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (created
    on the company's first event), which locks it until the caller's transaction ends: events of
    one company are appended one at a time, each with the next number and the hash of the one
    before, and an action rolled back takes its event (and its number) with it.
    """
    assert connection.in_atomic_block, "audit_event_record must run in the action's transaction"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditChain._meta.db_table} (company_id, last_seq, last_hash) VALUES (%s, 0, '') "
            f"ON CONFLICT (company_id) DO UPDATE SET last_seq = {AuditChain._meta.db_table}.last_seq "
            "RETURNING last_seq, last_hash",
            [company_id],
        )
        last_seq, last_hash = cursor.fetchone()
    event = AuditEvent(
        company_id=company_id,
        seq=last_seq + 1,
        store_id=store_id,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        approver_id=approver.pk if approver is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=audit_data_canonical(data),
        created_at=timezone.now(),
        prev_hash=last_hash,
    )
    event.hash = audit_event_hash(event)
    event.save(force_insert=True)
    AuditChain.objects.filter(pk=company_id).update(last_seq=event.seq, last_hash=event.hash)
    return event


# ---------------------------------------------------------------------------------- approvals


def approval_parse(value: Any) -> ApprovalIn | None:
    """The body's ``"approval"``: None when absent; :class:`ApprovalError` (403) when malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApprovalError(APPROVAL_INVALID)
    username, pin = value.get("username"), value.get("pin")
    if not isinstance(username, str) or not isinstance(pin, str) or not username.strip() or not pin:
        raise ApprovalError(APPROVAL_INVALID)
    if not PIN_RE.match(pin):
        raise ApprovalError(PIN_FORMAT)  # no PIN of another shape exists: nothing to check or count
    return ApprovalIn(username=username.strip()[:150], pin=pin)


def _failures_recent(*, company_id: int, username: str) -> list:
    since = timezone.now() - PIN_FAILURE_WINDOW
    return list(
        ApprovalFailure.objects.filter(company_id=company_id, username=username, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )


def _refusal_record(*, store: Store, actor: User, username: str, action: str, reason: str, count: bool) -> None:
    """The refusal's audit event and (unless the manager is already locked) its counter, committed."""
    with transaction.atomic():
        if count:
            now = timezone.now()
            ApprovalFailure.objects.create(company_id=store.company_id, username=username, created_at=now)
            ApprovalFailure.objects.filter(
                company_id=store.company_id, username=username, created_at__lt=now - PIN_FAILURE_WINDOW
            ).delete()
        audit_event_record(
            company_id=store.company_id,
            store_id=store.pk,
            actor=actor,
            action="approval.refused",
            data={"username": username, "for": action, "reason": reason},
        )


def approval_verify(*, store: Store, actor: User, approval: ApprovalIn | None, action: str) -> User:
    """The manager who authorises ``actor``'s ``action`` in ``store`` with ``approval``.

    Must run outside the action's transaction (before it starts): a refusal — wrong PIN, unknown user, a user who
    is not a manager of this store or an admin of its company, or no PIN set — commits one
    ``approval.refused`` audit event and one failure for that username, then raises
    :class:`ApprovalError` (403). After ``PIN_MAX_FAILURES`` failures for one username within
    ``PIN_FAILURE_WINDOW`` it raises 429 (the attempt is audited but not counted, so the lock
    ends with the window). A missing approval raises 403 and records nothing.

    One transaction per attempt, holding a transaction-level advisory lock on (company, username)
    from the count of recent failures to the commit of this attempt's own: attempts with one
    username run one after another, so no more than ``PIN_MAX_FAILURES`` PINs are ever checked in
    a window, however many arrive at once. The PIN's hash is checked under the lock, holding a
    connection for as long as the hasher takes; only attempts with the same username wait. Inside
    a caller's transaction the refusal would roll back with it and the lock would outlive the
    audit chain's row lock (the order that deadlocks): hence "outside".
    """
    if approval is None:
        raise ApprovalError(APPROVAL_REQUIRED)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"approval:{store.company_id}:{approval.username}"],
            )
        outcome = _approval_check(store=store, actor=actor, approval=approval, action=action)
    if isinstance(outcome, ApprovalError):
        raise outcome
    return outcome


def _approval_check(*, store: Store, actor: User, approval: ApprovalIn, action: str) -> User | ApprovalError:
    """``approval_verify``'s check, under its lock: the manager, or the refusal (recorded) to raise
    once the transaction has committed it."""
    failures = _failures_recent(company_id=store.company_id, username=approval.username)
    if len(failures) >= PIN_MAX_FAILURES:
        retry_after = int((failures[-PIN_MAX_FAILURES] + PIN_FAILURE_WINDOW - timezone.now()).total_seconds()) + 1
        _refusal_record(
            store=store, actor=actor, username=approval.username, action=action, reason="locked", count=False
        )
        minutes = max(1, (retry_after + 59) // 60)
        return ApprovalError(APPROVAL_LOCKED.format(minutes=minutes), status=429, retry_after=max(1, retry_after))
    user = get_user_model().objects.filter(username=approval.username, is_active=True).first()
    pin_hash = None
    if user is not None and store_user_is_manager(user=user, store=store):
        pin_hash = (
            ApproverPin.objects.filter(company_id=store.company_id, user=user)
            .values_list("pin_hash", flat=True)
            .first()
        )
    if pin_hash is None:
        make_password(approval.pin)  # the same cost as a real check: no timing hint of who exists
        reason = "not_a_manager"
    elif user is not None and check_password(approval.pin, pin_hash):
        return user
    else:
        reason = "wrong_pin"
    _refusal_record(store=store, actor=actor, username=approval.username, action=action, reason=reason, count=True)
    return ApprovalError(APPROVAL_REFUSED)


def approval_pin_set(*, company: Company, user: User, pin: str, changed_by: User | None) -> None:
    """Set ``user``'s approval PIN in ``company`` (4–8 digits, hashed), audited. Raises
    ``ValueError`` with a Spanish message for a malformed PIN."""
    if not PIN_RE.match(pin or ""):
        raise ValueError(PIN_FORMAT)
    with transaction.atomic():
        ApproverPin.objects.update_or_create(company=company, user=user, defaults={"pin_hash": make_password(pin)})
        audit_event_record(
            company_id=company.pk,
            actor=changed_by,
            action="approval.pin_set",
            object_type="user",
            object_id=user.pk,
            data={"username": user.get_username()},
        )


# -------------------------------------------------------------------------------- memberships


def membership_audit(*, membership: Membership, actor: User | None, change: str, before: dict | None = None) -> None:
    """Record a membership created, changed or deleted (``change``), in the caller's transaction."""
    audit_event_record(
        company_id=membership.company_id,
        store_id=membership.store_id,
        actor=actor,
        action=f"membership.{change}",
        object_type="membership",
        object_id=membership.pk or "",
        data={
            "user": membership.user.get_username(),
            "role": membership.role,
            "store": membership.store.code if membership.store is not None else None,
            "before": before,
        },
    )
