"""Idempotency keys for the till's ``POST``s that create something (sessions, movements, closes,
returns, voids), with the checkout's semantics: a replay by the same user with the same body gets
the first answer (status code and body) again; another user or body gets a 409.

:func:`idempotent_run` runs the action and stores its answer in one transaction, so an action that
fails stores nothing and can be retried with the same key. Two requests racing with one key meet
at the key's unique index: the second waits for the first to commit, then replays its answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from sales.models import IdempotentRequest

from .errors import TillError, constraint_violated

KEY_REUSED = "Esta clave de idempotencia ya se usó con otra solicitud; genere una nueva."


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def _replay_of(row: IdempotentRequest, *, user: User, endpoint: str, fingerprint: str) -> Answer:
    if row.user_id != user.pk or row.endpoint != endpoint or row.fingerprint != fingerprint:
        raise TillError.single("idempotency_key", KEY_REUSED, status=409)
    return Answer(status=row.status_code, body=row.response)


def idempotent_replay(*, company_id: int, user: User, key: uuid.UUID, endpoint: str, fingerprint: str) -> Answer | None:
    """The stored answer for ``key`` (a replay), None for a new key; 409 for another user or body.
    A read outside any transaction: call it before checks that must not run twice (approvals)."""
    row = IdempotentRequest.objects.filter(company_id=company_id, key=key).first()
    return None if row is None else _replay_of(row, user=user, endpoint=endpoint, fingerprint=fingerprint)


def idempotent_run(
    *,
    company_id: int,
    user: User,
    key: uuid.UUID,
    endpoint: str,
    fingerprint: str,
    action: Callable[[], Answer],
) -> Answer:
    """Reserve ``key``, run ``action`` and store its answer, in one ``transaction.atomic()``.

    The key's row is inserted first (a savepoint): a concurrent request with the same key blocks
    on the unique index until this transaction ends, then replays the stored answer (or runs
    itself if this one rolled back). ``action`` runs inside the transaction; a :class:`TillError`
    from it rolls everything back, the key included.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    company_id=company_id, user=user, key=key, endpoint=endpoint, fingerprint=fingerprint
                )
        except IntegrityError as exc:
            if constraint_violated(exc) != "idempotent_request_key_unique":
                raise
            existing = IdempotentRequest.objects.get(company_id=company_id, key=key)
            return _replay_of(existing, user=user, endpoint=endpoint, fingerprint=fingerprint)
        answer = action()
        IdempotentRequest.objects.filter(pk=row.pk).update(status_code=answer.status, response=answer.body)
    return answer
