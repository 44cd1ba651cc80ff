"""``/api/v1/sessions…``: open a register's cash session, read the open one, cash in/out, the X/Z
report and the close (ARCHITECTURE.md, "The day at the till"). Thin: parse, check the
approval, call a service inside :func:`sales.services.idempotency.idempotent_run`, render.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, JsonResponse

from sales import money
from sales.schemas.common import body_fingerprint, body_parse
from sales.schemas.till import CloseBody, MovementBody, SessionOpenBody
from sales.selectors.sessions import (
    METHODS,
    cash_session_body,
    cash_session_get_for_user,
    cash_session_open_get,
    cash_session_report,
)
from sales.services.checkout import REGISTER_NOT_FOUND
from sales.services.errors import TillError
from sales.services.idempotency import Answer, idempotent_replay, idempotent_run
from sales.services.sessions import cash_movement_create, cash_session_close, cash_session_open
from stores.models import Register, Store
from stores.selectors import NotFound, RegisterInactive, register_access
from stores.services import approval_parse, approval_verify

from . import api_view, json_response

NO_OPEN_SESSION = "La caja no tiene un turno abierto."


def register_for(*, user: AbstractBaseUser, code: str | None) -> Register:
    """The user's register named by ``code`` (or their only one); a 400 otherwise, a 403 with the
    reason when it, its store or its company is deactivated."""
    try:
        return register_access(user=user, code=code or None)
    except RegisterInactive as exc:
        raise TillError.single("register", exc.message, status=403) from None
    except NotFound:
        raise TillError.single("register", REGISTER_NOT_FOUND) from None


def approver_for(*, request: HttpRequest, store: Store, raw: object, action: str) -> AbstractBaseUser | None:
    """The manager approving ``action`` (their PIN checked now, outside any transaction), or None
    when the body carries no approval. A refusal raises (403/429) after recording itself."""
    approval = approval_parse(raw)
    if approval is None:
        return None
    return approval_verify(store=store, actor=request.user, approval=approval, action=action)


def _respond(answer: Answer) -> JsonResponse:
    return json_response(answer.body, status=answer.status)


@api_view(("POST",))
def sessions(request: HttpRequest) -> JsonResponse:
    """``POST /api/v1/sessions`` — open the register's session with the counted float."""
    body = body_parse(SessionOpenBody, request.body)
    register = register_for(user=request.user, code=body.register_code)
    key = {"company_id": register.company_id, "user": request.user, "key": body.idempotency_key}
    fingerprint = body_fingerprint(body, target=str(register.pk))
    answer = idempotent_replay(**key, endpoint="session.open", fingerprint=fingerprint)
    if answer is None:

        def open_session() -> Answer:
            session = cash_session_open(user=request.user, register=register, opening_float=body.opening_float)
            return Answer(201, cash_session_body(session))

        answer = idempotent_run(**key, endpoint="session.open", fingerprint=fingerprint, action=open_session)
    return _respond(answer)


@api_view(("GET",))
def session_current(request: HttpRequest) -> JsonResponse:
    """``GET /api/v1/sessions/current?register=CODE`` — the register's open session, or 404."""
    register = register_for(user=request.user, code=request.GET.get("register"))
    session = cash_session_open_get(register_id=register.pk, company_id=register.company_id)
    if session is None:
        raise TillError.single("session", NO_OPEN_SESSION, status=404)
    return json_response(cash_session_body(session))


@api_view(("POST",))
def session_movements(request: HttpRequest, session_id: str) -> JsonResponse:
    """``POST /api/v1/sessions/<id>/movements`` — cash in or out, with its reason."""
    session = cash_session_get_for_user(user=request.user, public_id=session_id)
    body = body_parse(MovementBody, request.body)
    key = {"company_id": session.company_id, "user": request.user, "key": body.idempotency_key}
    fingerprint = body_fingerprint(body, target=str(session.public_id))
    answer = idempotent_replay(**key, endpoint="session.movement", fingerprint=fingerprint)
    if answer is None:
        approver = approver_for(request=request, store=session.store, raw=body.approval, action=f"cash.{body.kind}")

        def move() -> Answer:
            movement = cash_movement_create(
                user=request.user,
                session=session,
                kind=body.kind,
                amount=body.amount,
                reason=body.reason,
                approver=approver,
            )
            return Answer(
                201,
                {
                    "id": str(movement.public_id),
                    "kind": movement.kind,
                    "amount": money.as_text(movement.amount),
                    "reason": movement.reason,
                },
            )

        answer = idempotent_run(**key, endpoint="session.movement", fingerprint=fingerprint, action=move)
    return _respond(answer)


@api_view(("GET",))
def session_report(request: HttpRequest, session_id: str) -> JsonResponse:
    """``GET /api/v1/sessions/<id>/report`` — the X report while open, the Z once closed."""
    session = cash_session_get_for_user(user=request.user, public_id=session_id)
    return json_response(cash_session_report(session=session))


@api_view(("POST",))
def session_close(request: HttpRequest, session_id: str) -> JsonResponse:
    """``POST /api/v1/sessions/<id>/close`` — the blind count; answers the Z report."""
    session = cash_session_get_for_user(user=request.user, public_id=session_id)
    body = body_parse(CloseBody, request.body)
    key = {"company_id": session.company_id, "user": request.user, "key": body.idempotency_key}
    fingerprint = body_fingerprint(body, target=str(session.public_id))
    answer = idempotent_replay(**key, endpoint="session.close", fingerprint=fingerprint)
    if answer is None:
        approver = approver_for(request=request, store=session.store, raw=body.approval, action="session.close")
        counted = {m: getattr(body.counted, m) for m in METHODS}

        def close() -> Answer:
            closed = cash_session_close(
                user=request.user,
                session=session,
                counted=counted,
                denominations=body.denomination_counts(),
                note=body.note,
                approver=approver,
            )
            return Answer(200, closed.z_report)

        answer = idempotent_run(**key, endpoint="session.close", fingerprint=fingerprint, action=close)
    return _respond(answer)
