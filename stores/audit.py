"""The audit chain's one rule: how an event is hashed, and how a company's chain is verified.

Each event stores ``prev_hash`` (the previous event's hash in its company, empty for the first)
and ``hash`` = SHA-256 over its canonical JSON and ``prev_hash``. Numbers (``seq``) run 1, 2, …
without gaps per company; the chain head (``AuditChain``) holds the last number and hash. Writing
is :func:`stores.services.audit_event_record`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .models import AuditChain, AuditEvent


def audit_data_canonical(data: dict[str, Any] | None) -> Any:
    """``data`` as it reads back from jsonb (Decimals and dates as strings): what gets hashed."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) of the event's fields and the previous event's hash."""
    payload = {
        "company": event.company_id,
        "seq": event.seq,
        "at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "store": event.store_id,
        "actor": event.actor_id,
        "approver": event.approver_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "prev": event.prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditBreak:
    """The first place a company's chain does not verify."""

    company_id: int
    seq: int
    event_id: int | None
    reason: str


def audit_chain_verify(*, company_id: int, chunk_size: int = 2000) -> AuditBreak | None:
    """Walk ``company_id``'s events in order: numbers without gaps from 1, each ``prev_hash`` equal
    to the previous ``hash``, each ``hash`` recomputed, and the chain head equal to the last event.
    Returns the first break, or None when the chain verifies. Reads in chunks (a server-side
    cursor where the connection allows it), so a long chain never sits in memory."""
    expected_seq, prev_hash = 1, ""
    events = AuditEvent.objects.filter(company_id=company_id).order_by("seq")
    for event in events.iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return AuditBreak(company_id, expected_seq, event.pk, f"falta el evento n.º {expected_seq}")
        if event.prev_hash != prev_hash:
            return AuditBreak(company_id, event.seq, event.pk, "el hash anterior no coincide con el evento previo")
        if audit_event_hash(event) != event.hash:
            return AuditBreak(company_id, event.seq, event.pk, "el contenido del evento fue alterado")
        expected_seq, prev_hash = event.seq + 1, event.hash
    head = AuditChain.objects.filter(company_id=company_id).values_list("last_seq", "last_hash").first()
    if head is not None and (head[0] != expected_seq - 1 or head[1] != prev_hash):
        return AuditBreak(
            company_id,
            expected_seq - 1,
            None,
            f"la cadena termina en el n.º {expected_seq - 1} pero su cabeza dice {head[0]}",
        )
    return None
