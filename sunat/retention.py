"""Retention of the SUNAT exchange history (``SunatAttempt``), run by the worker's retention loop.

What stays, and why:

* every ``SunatDocument`` with its signed XML, CDR, status, SUNAT code and description — the legal
  record an accountant or SUNAT asks for (years; see docs/runbook.md), never deleted here;
* every attempt of the last ``SUNAT_ATTEMPT_RETENTION_DAYS`` (90 by default) — what an on-call
  engineer reads while an incident is fresh;
* past that, each document's latest ``KEEP_LATEST`` attempts — how it ended (typically
  "timeout → getStatusCdr → accepted"), so the admin's history of an old document is never empty.

What goes: the older exchanges of documents that needed more, i.e. the retry storms of past
outages, which are most of the table's growth and nobody's record.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection

KEEP_LATEST = 3
# Each pass looks only at attempts that crossed the retention age within this span, so its cost
# follows the traffic of that span, not the table's history (attempts older than it were looked
# at by earlier passes; a worker stopped for longer leaves those behind, harmlessly).
LOOKBACK = timedelta(days=7)


def sunat_attempts_purge(
    *, older_than: timedelta, keep_latest: int = KEEP_LATEST, lookback: timedelta | None = LOOKBACK, batch: int = 1000
) -> int:
    """Delete attempts started more than ``older_than`` ago (and less than ``older_than +
    lookback``; ``lookback=None`` looks at all of them) that are not among their document's
    ``keep_latest`` newest. Returns rows deleted.

    Each batch is one short autocommit statement (``FOR UPDATE SKIP LOCKED``: a concurrent pass
    of another worker skips the rows this one holds); the candidates come from the ``started_at``
    index of ``ops`` migration 0002 and the newer-attempts probe from ``(document, started_at)``.
    """
    newest = older_than.total_seconds()
    window = "" if lookback is None else "AND a.started_at >= now() - make_interval(secs => %(oldest)s)"
    params = {
        "newest": newest,
        "oldest": newest + (lookback or timedelta(0)).total_seconds(),
        "keep": keep_latest,
        "batch": batch,
        "since": None,
    }
    total = 0
    while True:
        # Keyset over started_at: rows before the last one a batch deleted were all decided (deleted
        # or kept), so the next batch starts there instead of probing the kept ones again.
        since = "" if params["since"] is None else "AND a.started_at >= %(since)s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"""DELETE FROM sunat_sunatattempt WHERE id IN (
                        SELECT a.id FROM sunat_sunatattempt a
                        WHERE a.started_at < now() - make_interval(secs => %(newest)s) {window} {since}
                          AND (SELECT count(*) FROM (
                                   SELECT 1 FROM sunat_sunatattempt b
                                   WHERE b.document_id = a.document_id
                                     AND (b.started_at, b.id) > (a.started_at, a.id)
                                   LIMIT %(keep)s) newer) >= %(keep)s
                        ORDER BY a.started_at
                        LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
                    RETURNING started_at""",
                params,
            )
            started = [row[0] for row in cursor.fetchall()]
        total += len(started)
        if len(started) < batch:
            return total
        params["since"] = max(started)
