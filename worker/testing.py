"""Stand-in performers for tests and benchmarks (``sunat_worker --perform worker.testing.X``).

They speak the same seam as ``sunat.services.sunat_job_perform`` — ``perform(*, job) ->
JobOutcome`` — so the queue can be tested and measured without SUNAT. ``simulated_sunat``
models SUNAT's side with two tables the test creates (:func:`simulation_tables_create`):

* ``wt_registry(document_id PRIMARY KEY, sends)`` — what "SUNAT" registered; ``sends`` > 1
  means a document was registered twice;
* ``wt_inflight(job_id PRIMARY KEY)`` — a job being performed; inserting a row that already
  exists means two workers ran the same job at once, recorded in ``wt_overlap``.

Behaviour is driven by environment variables so child processes inherit it:
``WT_FAULT_RATE`` (0..1, split between "failed before sending" and "sent, then timed out"),
``WT_SLEEP`` (seconds per call), ``WT_SEED``.
"""

from __future__ import annotations

import os
import random
import time

from django.db import IntegrityError, connection, transaction

from sunat.models import JobKind
from sunat.outcomes import JobOutcome, NextStep

_rng = random.Random(int(os.environ.get("WT_SEED", "0")) or None)


def noop(*, job) -> JobOutcome:
    return JobOutcome(step=NextStep.DONE)


def sleepy(*, job) -> JobOutcome:
    time.sleep(float(os.environ.get("WT_SLEEP", "1")))
    return JobOutcome(step=NextStep.DONE)


def simulation_tables_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS wt_registry (document_id bigint PRIMARY KEY, sends int NOT NULL, "
            "first_owner text, at timestamptz DEFAULT clock_timestamp())"
        )
        cursor.execute("CREATE TABLE IF NOT EXISTS wt_inflight (job_id bigint PRIMARY KEY, owner text)")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS wt_overlap (job_id bigint, owner text, at timestamptz DEFAULT clock_timestamp())"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS wt_attempts (job_id bigint, owner text, kind text, attempt int, "
            "at timestamptz DEFAULT clock_timestamp())"
        )
        cursor.execute("TRUNCATE wt_registry, wt_inflight, wt_overlap, wt_attempts")


def simulated_sunat(*, job) -> JobOutcome:
    """A SUNAT that registers each document once; a verify finds what was already registered."""
    owner = job.lease_owner
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wt_attempts (job_id, owner, kind, attempt) VALUES (%s, %s, %s, %s)",
            [job.pk, owner, job.kind, job.attempts],
        )
        try:
            with transaction.atomic():
                cursor.execute("INSERT INTO wt_inflight (job_id, owner) VALUES (%s, %s)", [job.pk, owner])
        except IntegrityError:
            cursor.execute("INSERT INTO wt_overlap (job_id, owner) VALUES (%s, %s)", [job.pk, owner])
    try:
        sleep = float(os.environ.get("WT_SLEEP", "0"))
        if sleep:
            time.sleep(sleep)
        if job.kind == JobKind.VERIFY:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM wt_registry WHERE document_id = %s", [job.document_id])
                if cursor.fetchone():
                    return JobOutcome(step=NextStep.DONE, code="0", message="ya registrado (verificado)")
        rate = float(os.environ.get("WT_FAULT_RATE", "0"))
        roll = _rng.random()
        if roll < rate / 2:
            return JobOutcome(step=NextStep.RETRY, code="http-503", message="servicio no disponible")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO wt_registry (document_id, sends, first_owner) VALUES (%s, 1, %s) "
                "ON CONFLICT (document_id) DO UPDATE SET sends = wt_registry.sends + 1",
                [job.document_id, owner],
            )
        if roll < rate:
            return JobOutcome(step=NextStep.RETRY, code="timeout", message="sin respuesta", verify_next=True)
        if os.environ.get("WT_SLEEP_AFTER_SEND"):
            time.sleep(float(os.environ["WT_SLEEP_AFTER_SEND"]))
        return JobOutcome(step=NextStep.DONE, code="0", message="aceptado")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM wt_inflight WHERE job_id = %s AND owner = %s", [job.pk, owner])


def scripted(*, job) -> JobOutcome:
    """The outcome is named by the job's request id prefix: ``fix-``, ``pause-``, ``retry-``,
    ``snooze-``, ``crash-`` (raises); anything else is done."""
    rid = job.request_id or ""
    if rid.startswith("fix-"):
        return JobOutcome(step=NextStep.FIX, code="2800", message="dato inválido")
    if rid.startswith("pause-"):
        return JobOutcome(step=NextStep.PAUSE_COMPANY, code="0111", message="usuario SOL sin perfil")
    if rid.startswith("retry-"):
        return JobOutcome(step=NextStep.RETRY, code="http-503", message="servicio no disponible")
    if rid.startswith("snooze-") and job.attempts < 2 and not job.errors:
        return JobOutcome(step=NextStep.SNOOZE, delay_seconds=3600)
    if rid.startswith("crash-"):
        raise RuntimeError("fallo inesperado")
    return JobOutcome(step=NextStep.DONE)


def checked_sunat_perform(*, job) -> JobOutcome:
    """The real ``sunat_job_perform`` wrapped in the overlap check (``wt_inflight``/``wt_overlap``)
    and the attempt log (``wt_attempts``): for process tests against ``fake_sunat``."""
    from sunat.services import sunat_job_perform

    owner = job.lease_owner
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wt_attempts (job_id, owner, kind, attempt) VALUES (%s, %s, %s, %s)",
            [job.pk, owner, job.kind, job.attempts],
        )
        try:
            with transaction.atomic():
                cursor.execute("INSERT INTO wt_inflight (job_id, owner) VALUES (%s, %s)", [job.pk, owner])
        except IntegrityError:
            cursor.execute("INSERT INTO wt_overlap (job_id, owner) VALUES (%s, %s)", [job.pk, owner])
    try:
        return sunat_job_perform(job=job)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM wt_inflight WHERE job_id = %s AND owner = %s", [job.pk, owner])
