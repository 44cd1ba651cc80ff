"""The SQL of the SUNAT queue: claim, finish, retry, pause, snooze, give back, reap, purge.

Every function is one short statement or one short transaction; none of them is ever called
with a network call in between (the SUNAT call happens between ``jobs_claim`` and the
``job_finish`` that follows it, in autocommit mode, outside any transaction).

Invariants:

* All times (``run_at``, leases, jitter, error timestamps) come from the database clock
  (``now()``), never from Python.
* ``jobs_claim`` selects through a CTE fence with ``FOR UPDATE SKIP LOCKED`` and ``LIMIT`` =
  free slots, in the order of the partial index ``sunat_jobs_claim_idx`` (run_at, id WHERE
  status = 'pending'), so two workers never get the same job and the plan has no Sort.
* Every write after a claim is guarded by ``id = … AND lease_owner = me AND status =
  'running'`` (a fencing token): when the reaper has already given the job to someone else, a
  late finish changes nothing and returns ``False``.
* A job whose request may have reached SUNAT (``verify_next``, an expired lease) runs next as
  kind ``verify``: ``sunat_job_perform`` then asks SUNAT before sending again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction

from sunat.models import JobKind, JobStatus, SunatAccount, SunatJob
from sunat.outcomes import JobOutcome, NextStep

# Kinds whose jobs must run one at a time per (company, series): summaries (RC/RA) and their
# ticket polls go in the order they were issued. Single documents (sendBill) do not need it.
ORDERED_KINDS = (JobKind.SEND_SUMMARY.value, JobKind.POLL_TICKET.value)

ACCOUNTS = SunatAccount._meta.db_table  # each company's SUNAT account and pause state
_COLUMNS = [f.column for f in SunatJob._meta.concrete_fields]
_ATTNAMES = [f.attname for f in SunatJob._meta.concrete_fields]
_RETURNING = ", ".join(f"sunat_jobs.{c}" for c in _COLUMNS)
_BY_COLUMN = {f.column: f.attname for f in SunatJob._meta.concrete_fields}

# The planner settings that pin the claim to an ordered scan of sunat_jobs_claim_idx (Index Scan
# -> LockRows -> Limit, no Sort) even when the backlog is small and the planner would otherwise
# pick a bitmap scan plus a sort. They are attached to the claim function below (SET clauses
# last only while the function runs) and used by the EXPLAIN test.
CLAIM_PLAN_SETTINGS = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; "

CLAIM_SQL = f"""
WITH next AS (
    SELECT j.id
    FROM sunat_jobs j
    WHERE j.status = 'pending'
      AND j.run_at <= now()
      -- An InitPlan evaluated once (not an anti-join), so the scan stays on the claim index.
      AND NOT (j.company_id = ANY (ARRAY(SELECT a.company_id FROM sunat_accounts a WHERE a.paused_at IS NOT NULL)))
      -- CASE fixes the evaluation order: the subquery runs only for ordered kinds.
      AND CASE WHEN j.kind NOT IN ('{ORDERED_KINDS[0]}', '{ORDERED_KINDS[1]}') THEN true ELSE NOT EXISTS (
              SELECT 1
              FROM sunat_jobs o
              JOIN sunat_sunatdocument od ON od.id = o.document_id
              JOIN sunat_sunatdocument jd ON jd.id = j.document_id
              WHERE o.company_id = j.company_id
                AND od.series = jd.series
                AND o.kind IN ('{ORDERED_KINDS[0]}', '{ORDERED_KINDS[1]}')
                AND o.id <> j.id
                AND (o.status = 'running' OR (o.status = 'pending' AND (o.run_at, o.id) < (j.run_at, j.id)))
          ) END
    ORDER BY j.run_at, j.id
    LIMIT %(limit)s
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE sunat_jobs
SET status = 'running',
    lease_owner = %(owner)s,
    lease_expires_at = now() + make_interval(secs => %(lease)s),
    attempts = sunat_jobs.attempts + 1,
    updated_at = now()
FROM next
WHERE sunat_jobs.id = next.id
RETURNING {_RETURNING}
"""

# The claim runs as a PL/pgSQL function (created by worker/migrations/0004_claim_function.py
# from CLAIM_FUNCTION_SQL): the same CTE, but its plan is cached per connection (no planning per
# claim) and the plan-pinning settings apply to it alone. One statement, its own transaction.
CLAIM_FUNCTION = "worker_claim_jobs"
CLAIM_FUNCTION_SQL = (
    f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}(p_owner text, p_limit integer, p_lease double precision)\n"
    "RETURNS SETOF sunat_jobs LANGUAGE plpgsql VOLATILE\n"
    "SET enable_sort = off SET enable_bitmapscan = off\n"
    "AS $claim$\nBEGIN\nRETURN QUERY"
    + CLAIM_SQL.replace("%(limit)s", "p_limit")
    .replace("%(owner)s", "p_owner")
    .replace("%(lease)s", "p_lease")
    .replace(f"RETURNING {_RETURNING}", "RETURNING sunat_jobs.*")
    .rstrip()
    + ";\nEND\n$claim$"
)

# The hot path of a busy queue: finish a job as done and claim the slot's next job in ONE short
# transaction (one commit per job instead of two). Returns the finished row (status 'done') when
# the lease was still ours, then the claimed rows (status 'running').
FINISH_AND_CLAIM_FUNCTION = "worker_finish_done_and_claim"
FINISH_AND_CLAIM_FUNCTION_SQL = (
    f"CREATE OR REPLACE FUNCTION {FINISH_AND_CLAIM_FUNCTION}"
    "(p_id bigint, p_owner text, p_limit integer, p_lease double precision)\n"
    "RETURNS SETOF sunat_jobs LANGUAGE plpgsql VOLATILE\n"
    "AS $finish$\nBEGIN\n"
    "RETURN QUERY UPDATE sunat_jobs SET status = 'done', finished_at = now(), lease_owner = '',\n"
    "    lease_expires_at = NULL, updated_at = now()\n"
    "WHERE id = p_id AND lease_owner = p_owner AND status = 'running'\n"
    "RETURNING sunat_jobs.*;\n"
    f"RETURN QUERY SELECT * FROM {CLAIM_FUNCTION}(p_owner, p_limit, p_lease);\n"
    "END\n$finish$"
)

_GUARD = "id = %(id)s AND lease_owner = %(owner)s AND status = 'running'"

_ERROR_ENTRY = """jsonb_build_array(jsonb_build_object(
    'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'attempt', attempts, 'code', %(code)s::text, 'message', %(message)s::text,
    'step', %(step)s::text, 'worker', lease_owner))"""

_RELEASE = "lease_owner = '', lease_expires_at = NULL, updated_at = now()"

# kind after an attempt that may have reached SUNAT: 'send' -> 'verify'; others keep theirs.
_KIND_AFTER = (
    f"CASE WHEN %(verify)s AND kind = '{JobKind.SEND_DOCUMENT.value}' THEN '{JobKind.VERIFY.value}' ELSE kind END"
)


@dataclass(frozen=True)
class FinishResult:
    applied: bool  # False: the lease was lost (reaped, discarded); nothing changed
    status: str = ""  # the job's new status when applied


def retry_delays() -> list[float]:
    return [float(d) for d in settings.SUNAT_RETRY_DELAYS]


def lease_seconds() -> float:
    return float(settings.SUNAT_LEASE_SECONDS)


def jobs_claim(*, owner: str, limit: int, lease: float | None = None) -> list[SunatJob]:
    """Claim up to ``limit`` due jobs for ``owner``: running, leased, attempts + 1. Commits.

    One round trip in autocommit mode (its own short transaction). Never call inside an
    ``atomic`` block: the lease must be visible to other workers before the SUNAT call.
    """
    if limit <= 0:
        return []
    assert not connection.in_atomic_block, "jobs_claim must commit on its own"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {CLAIM_FUNCTION}(%s, %s, %s)",
            [owner, limit, lease if lease is not None else lease_seconds()],
        )
        jobs = _jobs_from(cursor)
    jobs.sort(key=lambda j: (j.run_at, j.id))
    return jobs


def _jobs_from(cursor) -> list[SunatJob]:
    names = [_BY_COLUMN.get(col.name, col.name) for col in cursor.description]
    rows = cursor.fetchall()
    # from_db wants values in the model's field order; the table's column order may differ.
    position = {name: i for i, name in enumerate(names)}
    fields = [name for name in _ATTNAMES if name in position]
    order = [position[name] for name in fields]
    return [SunatJob.from_db(connection.alias, fields, [row[i] for i in order]) for row in rows]


def job_done_and_claim(
    *, job_id: int, owner: str, limit: int, lease: float | None = None
) -> tuple[FinishResult, list[SunatJob]]:
    """Finish ``job_id`` as done (lease-guarded) and claim up to ``limit`` more, in one commit.

    Same guarantees as ``job_finish(DONE)`` followed by ``jobs_claim``: if the lease was lost
    the finish changes nothing (``applied=False``) and the claim still happens.
    """
    assert not connection.in_atomic_block, "job_done_and_claim must commit on its own"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {FINISH_AND_CLAIM_FUNCTION}(%s, %s, %s, %s)",
            [job_id, owner, limit, lease if lease is not None else lease_seconds()],
        )
        rows = _jobs_from(cursor)
    finished = [j for j in rows if j.pk == job_id and j.status == JobStatus.DONE]
    claimed = [j for j in rows if j.status == JobStatus.RUNNING]
    claimed.sort(key=lambda j: (j.run_at, j.id))
    result = FinishResult(applied=True, status=JobStatus.DONE.value) if finished else FinishResult(applied=False)
    return result, claimed


def job_finish(*, job_id: int, owner: str, outcome: JobOutcome, delays: Sequence[float] | None = None) -> FinishResult:
    """Apply ``outcome`` to a job ``owner`` still holds. One short transaction.

    DONE → done; RETRY → pending at ``now() + delay[attempts-1] × (1 ± 10 %)`` or dead when the
    delays are exhausted; FIX → failed; PAUSE_COMPANY → this job and every pending job of the
    company paused, its ``SunatAccount.paused_at`` set; SNOOZE → pending after ``delay_seconds``
    without spending an attempt. Errors are appended to ``errors`` (time, attempt, code,
    message) and ``last_error``. Returns ``applied=False`` when the lease was lost.
    """
    delays = list(retry_delays() if delays is None else delays)
    params = {
        "id": job_id,
        "owner": owner,
        "code": outcome.code or "",
        "message": (outcome.message or "")[:2000],
        "step": outcome.step.value,
        "verify": bool(outcome.verify_next),
    }
    last_error = f"{outcome.code}: {outcome.message}".strip(": ")[:2000]
    params["last_error"] = last_error
    step = outcome.step
    if step == NextStep.DONE:
        sql = f"""UPDATE sunat_jobs SET status = 'done', finished_at = now(), {_RELEASE}
                  WHERE {_GUARD} RETURNING status"""
    elif step == NextStep.RETRY:
        params["delays"] = delays
        params["max"] = len(delays)
        sql = f"""UPDATE sunat_jobs SET
                    status = CASE WHEN attempts > %(max)s THEN 'dead' ELSE 'pending' END,
                    run_at = CASE WHEN attempts > %(max)s THEN run_at ELSE
                        now() + make_interval(secs => (%(delays)s::float8[])[attempts] * (1 + random() * 0.2 - 0.1))
                        END,
                    finished_at = CASE WHEN attempts > %(max)s THEN now() END,
                    kind = {_KIND_AFTER},
                    errors = errors || {_ERROR_ENTRY},
                    last_error = %(last_error)s,
                    {_RELEASE}
                  WHERE {_GUARD} RETURNING status"""
    elif step == NextStep.FIX:
        sql = f"""UPDATE sunat_jobs SET status = 'failed', finished_at = now(), kind = {_KIND_AFTER},
                    errors = errors || {_ERROR_ENTRY}, last_error = %(last_error)s, {_RELEASE}
                  WHERE {_GUARD} RETURNING status"""
    elif step == NextStep.SNOOZE:
        params["delay"] = float(outcome.delay_seconds or 0)
        sql = f"""UPDATE sunat_jobs SET status = 'pending',
                    run_at = now() + make_interval(secs => %(delay)s),
                    attempts = GREATEST(attempts - 1, 0),
                    kind = {_KIND_AFTER},
                    {_RELEASE}
                  WHERE {_GUARD} RETURNING status"""
    elif step == NextStep.PAUSE_COMPANY:
        return _job_pause_company(params=params)
    else:  # pragma: no cover - NextStep is closed
        raise ValueError(f"unknown step {step!r}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return FinishResult(applied=row is not None, status=row[0] if row else "")


def _job_pause_company(*, params: dict) -> FinishResult:
    """PAUSE_COMPANY: pause this job, every pending job of its company, and the company's SUNAT
    account (created paused when the company has none: no credentials, no certificate)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The attempt is not the document's fault: it does not count against the retries.
        cursor.execute(
            f"""UPDATE sunat_jobs SET status = 'paused', attempts = GREATEST(attempts - 1, 0),
                    kind = {_KIND_AFTER}, errors = errors || {_ERROR_ENTRY},
                    last_error = %(last_error)s, {_RELEASE}
                WHERE {_GUARD} RETURNING company_id""",
            params,
        )
        row = cursor.fetchone()
        if row is None:
            return FinishResult(applied=False)
        company_id = row[0]
        cursor.execute(
            f"INSERT INTO {ACCOUNTS} (company_id, sol_user, sol_password, certificate_password, "
            "certificate_subject, paused_at, pause_reason) VALUES (%(company)s, '', '', '', '', now(), %(reason)s) "
            f"ON CONFLICT (company_id) DO UPDATE SET paused_at = COALESCE({ACCOUNTS}.paused_at, now()), "
            "pause_reason = EXCLUDED.pause_reason",
            {"company": company_id, "reason": params["last_error"]},
        )
        cursor.execute(
            "UPDATE sunat_jobs SET status = 'paused', updated_at = now() WHERE company_id = %s AND status = 'pending'",
            [company_id],
        )
    return FinishResult(applied=True, status=JobStatus.PAUSED.value)


def jobs_extend_lease(*, owner: str, job_ids: Sequence[int], lease: float | None = None) -> int:
    """Push the lease of jobs ``owner`` is still running (long SUNAT calls). Returns how many."""
    if not job_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sunat_jobs SET lease_expires_at = now() + make_interval(secs => %s) "
            "WHERE id = ANY(%s) AND lease_owner = %s AND status = 'running'",
            [lease if lease is not None else lease_seconds(), list(job_ids), owner],
        )
        return cursor.rowcount


def jobs_give_back(*, owner: str, job_ids: Sequence[int]) -> int:
    """Return claimed jobs that were never started (shutdown) to pending, attempt not spent."""
    if not job_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE sunat_jobs SET status = 'pending', attempts = GREATEST(attempts - 1, 0), {_RELEASE} "
            "WHERE id = ANY(%s) AND lease_owner = %s AND status = 'running'",
            [list(job_ids), owner],
        )
        return cursor.rowcount


def jobs_abandon(*, owner: str, job_ids: Sequence[int], reason: str) -> int:
    """Requeue jobs whose SUNAT call this process gives up on (shutdown past the grace period).

    The request may have reached SUNAT, so they go to the verify path, like a reaped job.
    """
    if not job_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE sunat_jobs SET status = 'pending', run_at = now(), kind = {_KIND_AFTER},
                    errors = errors || {_ERROR_ENTRY}, last_error = %(message)s, {_RELEASE}
                WHERE id = ANY(%(ids)s) AND lease_owner = %(owner)s AND status = 'running'""",
            {
                "ids": list(job_ids),
                "owner": owner,
                "verify": True,
                "code": "shutdown",
                "message": reason,
                "step": "abandon",
            },
        )
        return cursor.rowcount


def jobs_reap(*, batch: int = 500, delays: Sequence[float] | None = None) -> list[int]:
    """Recover running jobs whose lease expired (their worker died or hung). Safe concurrently.

    They go back to pending as kind ``verify`` (the send may have reached SUNAT), due now; a
    job that has already used every attempt becomes dead instead, so a job that kills its
    workers cannot loop forever. ``SKIP LOCKED`` lets several reapers run at once without
    waiting on each other or touching the same row twice.
    """
    max_attempts = len(list(retry_delays() if delays is None else delays))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH expired AS (
                    SELECT id FROM sunat_jobs
                    WHERE status = 'running' AND lease_expires_at < now()
                    ORDER BY lease_expires_at
                    LIMIT %(batch)s
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE sunat_jobs SET
                    status = CASE WHEN attempts > %(max)s THEN 'dead' ELSE 'pending' END,
                    finished_at = CASE WHEN attempts > %(max)s THEN now() END,
                    run_at = now(),
                    kind = {_KIND_AFTER},
                    errors = errors || {_ERROR_ENTRY},
                    last_error = %(message)s,
                    {_RELEASE}
                FROM expired WHERE sunat_jobs.id = expired.id
                RETURNING sunat_jobs.id""",
            {
                "batch": batch,
                "max": max_attempts,
                "verify": True,
                "code": "lease-expired",
                "message": "El worker dejó de responder; se verificará en SUNAT antes de reenviar.",
                "step": "reap",
            },
        )
        return [r[0] for r in cursor.fetchall()]


def jobs_purge(*, older_than: timedelta, batch: int = 1000) -> int:
    """Delete done and discarded jobs finished more than ``older_than`` ago, ``batch`` rows per statement.

    Only the queue rows go: documents keep their signed XML and CDR. Each batch is its own
    short statement, so a large purge never holds locks or a snapshot for long.
    """
    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                """DELETE FROM sunat_jobs WHERE id IN (
                       SELECT id FROM sunat_jobs
                       WHERE status IN ('done', 'discarded') AND finished_at < now() - make_interval(secs => %s)
                       LIMIT %s FOR UPDATE SKIP LOCKED)""",
                [older_than.total_seconds(), batch],
            )
            deleted = cursor.rowcount
        total += deleted
        if deleted < batch:
            return total


# --- Admin operations (one short transaction each) ---------------------------------------


def jobs_retry_now(*, job_ids: Sequence[int]) -> int:
    """Failed, dead or pending jobs → pending, due now (admin "reintentar ahora").

    Attempts restart so the full retry schedule applies again. Running and done jobs are left
    alone; a paused job is resumed with its company (``company_resume``).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sunat_jobs SET status = 'pending', run_at = now(), attempts = 0, finished_at = NULL, "
            "updated_at = now() WHERE id = ANY(%s) AND status IN ('failed', 'dead', 'pending')",
            [list(job_ids)],
        )
        return cursor.rowcount


def jobs_verify(*, job_ids: Sequence[int]) -> int:
    """Ask SUNAT about these documents next (admin "verificar en SUNAT"): kind verify, due now."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE sunat_jobs SET status = 'pending', kind = '{JobKind.VERIFY.value}', run_at = now(), "
            "attempts = 0, finished_at = NULL, updated_at = now() "
            "WHERE id = ANY(%s) AND status IN ('failed', 'dead', 'pending') AND kind IN (%s, %s)",
            [list(job_ids), JobKind.SEND_DOCUMENT.value, JobKind.VERIFY.value],
        )
        return cursor.rowcount


def jobs_discard(*, job_ids: Sequence[int], reason: str) -> int:
    """Give up on jobs that are not running (admin "descartar", with a reason): → discarded.

    Discarded jobs raise no alert (a person decided) and are purged like finished ones."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Indique el motivo del descarte.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE sunat_jobs SET status = 'discarded', finished_at = now(),
                    errors = errors || {_ERROR_ENTRY}, last_error = %(message)s, {_RELEASE}
                WHERE id = ANY(%(ids)s) AND status IN ('pending', 'failed', 'paused', 'dead')""",
            {"ids": list(job_ids), "code": "discarded", "message": f"Descartado: {reason}"[:2000], "step": "discard"},
        )
        return cursor.rowcount


def company_resume(*, company_id: int) -> int:
    """Resume a paused company: clear its SUNAT account's pause and make its paused jobs due now.
    Atomic."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ACCOUNTS} SET paused_at = NULL, pause_reason = '' WHERE company_id = %s", [company_id])
        cursor.execute(
            "UPDATE sunat_jobs SET status = 'pending', run_at = now(), updated_at = now() "
            "WHERE company_id = %s AND status = 'paused'",
            [company_id],
        )
        return cursor.rowcount


# --- Heartbeat ----------------------------------------------------------------------------


def worker_beat(
    *, name: str, host: str, pid: int, concurrency: int, listening: bool, counters: dict[str, int], rss_bytes: int = 0
) -> None:
    """Upsert this process's heartbeat row; ``beat_at`` from the database clock."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO worker_workerheartbeat
                   (name, host, pid, concurrency, listening, started_at, beat_at, stopped_at,
                    jobs_done, jobs_retried, jobs_failed, jobs_reaped, jobs_lost, rss_bytes)
               VALUES (%(name)s, %(host)s, %(pid)s, %(concurrency)s, %(listening)s, now(), now(), NULL,
                       %(done)s, %(retried)s, %(failed)s, %(reaped)s, %(lost)s, %(rss)s)
               ON CONFLICT (name) DO UPDATE SET beat_at = now(), listening = EXCLUDED.listening,
                   jobs_done = EXCLUDED.jobs_done, jobs_retried = EXCLUDED.jobs_retried,
                   jobs_failed = EXCLUDED.jobs_failed, jobs_reaped = EXCLUDED.jobs_reaped,
                   jobs_lost = EXCLUDED.jobs_lost, rss_bytes = EXCLUDED.rss_bytes""",
            {
                "name": name,
                "host": host[:100],
                "pid": pid,
                "concurrency": concurrency,
                "listening": listening,
                "done": counters.get("done", 0),
                "retried": counters.get("retried", 0),
                "failed": counters.get("failed", 0),
                "reaped": counters.get("reaped", 0),
                "lost": counters.get("lost", 0),
                "rss": rss_bytes,
            },
        )


def worker_stopped(*, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE worker_workerheartbeat SET stopped_at = now(), beat_at = now() WHERE name = %s", [name])


def heartbeats_purge(*, older_than: timedelta) -> int:
    """Forget processes that have not beaten for ``older_than`` (stopped or long dead)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM worker_workerheartbeat WHERE beat_at < now() - make_interval(secs => %s)",
            [older_than.total_seconds()],
        )
        return cursor.rowcount
