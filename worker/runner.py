"""The worker process: claim due jobs for free slots, perform each on a slot thread, finish.

Threads and connections (pool max_size = concurrency + 2):

* the main thread claims, heartbeats, extends leases, reaps expired leases, runs retention —
  one pooled connection;
* ``concurrency`` slot threads each keep one pooled connection for their whole life (never a
  new connection per job) and run ``perform(job=...)`` in autocommit mode, outside any
  transaction, then finish the job with the lease-guarded SQL of ``worker.queue``;
* the listener (optional) holds its own direct, non-pooled connection.

The runner never interprets SUNAT answers: it applies the ``JobOutcome`` it is given.
"""

from __future__ import annotations

import os
import queue as stdqueue
import random
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sentry_sdk
import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils.module_loading import import_string

from sunat.models import SunatJob
from sunat.outcomes import JobOutcome, NextStep
from sunat.retention import sunat_attempts_purge

from . import queue
from .listen import Listener, listen_conninfo

log = structlog.get_logger("worker")

Perform = Callable[..., JobOutcome]

HEARTBEAT_SECONDS = 5.0
REAP_SECONDS = 5.0
PURGE_SECONDS = 3600.0


def default_perform() -> Perform:
    from sunat.services import sunat_job_perform  # imported late so tests can stub it

    return sunat_job_perform


def _rss_bytes() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # memory is a nicety for /metrics, never a reason to stop
        return 0


def process_name() -> str:
    host = socket.gethostname()[:60]
    return f"{host}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class RunnerConfig:
    concurrency: int = 3
    poll_interval: float = 10.0
    burst: bool = False
    grace: float = 20.0
    lease: float = 120.0
    listen: bool = True
    retention: timedelta = timedelta(days=30)
    attempt_retention: timedelta = timedelta(days=90)

    @classmethod
    def from_settings(cls, **overrides) -> RunnerConfig:
        values = {
            "concurrency": settings.SUNAT_MAX_CONCURRENT_JOBS,
            "poll_interval": float(settings.SUNAT_POLL_INTERVAL),
            "lease": float(settings.SUNAT_LEASE_SECONDS),
            "retention": timedelta(days=float(getattr(settings, "SUNAT_JOB_RETENTION_DAYS", 30))),
            "attempt_retention": timedelta(days=float(getattr(settings, "SUNAT_ATTEMPT_RETENTION_DAYS", 90))),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Counters:
    """What this process did, reported with every heartbeat (and so in ``/metrics``): jobs
    finished done, retried, failed (dead, failed or paused), reaped from dead workers, and lost:
    jobs whose finish this process could not apply (its lease had passed to another worker, the
    database refused the finish, or an exception escaped the slot); the reaper or the lease's
    new owner settles those."""

    done: int = 0
    retried: int = 0
    failed: int = 0
    reaped: int = 0
    lost: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {
                "done": self.done,
                "retried": self.retried,
                "failed": self.failed,
                "reaped": self.reaped,
                "lost": self.lost,
            }


class Runner:
    """One worker process. ``run()`` returns the exit code (0 on a clean stop or drained burst)."""

    def __init__(self, *, config: RunnerConfig, perform: Perform | None = None, name: str | None = None) -> None:
        self.config = config
        self.perform = perform or default_perform()
        self.name = name or process_name()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.counters = Counters()
        self._inbox: stdqueue.Queue[SunatJob | None] = stdqueue.Queue()
        # The slot state (see "slots" below), read and written only under this lock.
        self._lock = threading.Lock()
        self._busy = 0
        self._claimed: dict[int, SunatJob] = {}
        self._started: set[int] = set()
        self._more = False
        self._more_epoch = 0
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._signals = 0

    # --- signals ---------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        # Only a counter here: no logging and no Event.set() — the handler runs in the main
        # thread, which may be holding that very lock; the main loop notices within 0.1 s.
        self._signals += 1
        if self._signals > 1:
            os._exit(1)  # second signal: exit at once; leases expire and the reaper recovers

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    # --- slots -----------------------------------------------------------------------------
    #
    # The slot state, under ``self._lock``:
    #
    # * ``_busy`` — slots in use: each job on a slot thread or waiting for one in the inbox holds
    #   one unit, and a claim of the main loop holds the free slots it is filling. The main loop
    #   claims at most ``concurrency - _busy`` jobs and keeps one unit per job it got. A slot
    #   thread keeps its unit while it runs the jobs it chains after the first one, and gives it
    #   back exactly once, in ``_slot_run``'s ``finally`` (so also when an exception escapes).
    # * ``_claimed`` — jobs claimed and not finished (their leases are extended on each beat);
    #   ``_started`` — those whose perform began (a shutdown gives the others back).
    # * ``_more`` — more jobs may be due (the last claim filled every slot it asked for, a reap,
    #   a NOTIFY while every slot was busy): a slot that finishes a job then claims its next one
    #   itself. ``_more_epoch`` counts the times it was set, so a claim that found nothing clears
    #   it only when nobody set it meanwhile.

    def _in_flight(self) -> int:
        with self._lock:
            return self._busy

    def _mark_more(self) -> None:
        """Set ``_more``; the caller holds ``self._lock``."""
        self._more = True
        self._more_epoch += 1

    def _more_set(self) -> None:
        with self._lock:
            self._mark_more()

    def _more_due(self) -> int | None:
        """The ``_more`` epoch while more jobs may be due and the process is not stopping, else None."""
        with self._lock:
            return self._more_epoch if self._more and not self.stopping.is_set() else None

    def _more_clear(self, *, epoch: int) -> None:
        """A claim made at ``epoch`` got fewer jobs than it asked for: nothing more is due, unless
        ``_more`` was set since."""
        with self._lock:
            if self._more_epoch == epoch:
                self._more = False

    def _slot_loop(self) -> None:
        """A slot thread: run each job the main loop hands over (with the jobs the slot chains
        after it) until the shutdown's ``None``."""
        try:
            while (job := self._inbox.get()) is not None:
                self._slot_run(job)
        finally:
            connection.close()  # back to the pool

    def _slot_run(self, job: SunatJob) -> None:
        """Run ``job`` and, while more may be due, the next jobs this slot claims for itself (one
        at a time, without a trip through the main thread), then give the slot back: exactly
        once, whatever happens.

        An exception escaping a job (a bug past ``_perform``'s own net, an error while finishing)
        is logged (and so reported to Sentry) and counted as lost; the job leaves ``_claimed``, so
        its lease is no longer extended: it expires and the reaper sends the job to the verify
        path (nothing is lost, invariant 7). The thread and its slot go on working.
        """
        current: SunatJob | None = job
        try:
            while current is not None:
                with self._lock:
                    if current.pk not in self._claimed:  # given back during shutdown
                        return
                    self._started.add(current.pk)
                try:
                    current = self._run_one(current)
                except Exception:  # the slot must outlive any job
                    log.exception("worker.slot.crashed", job_id=current.pk)
                    self.counters.add("lost")
                    self._handover(done=current, next_job=None)
                    connection.close()  # whatever the exception left on it, the next job starts clean
                    current = None
        finally:
            with self._lock:
                self._busy -= 1
            if self.config.burst:
                self.wake.set()  # the main loop decides whether the burst is over

    def _handover(self, *, done: SunatJob, next_job: SunatJob | None) -> SunatJob | None:
        """``done`` is finished (or given up): forget it; ``next_job``, claimed for this slot, is
        the slot's now."""
        with self._lock:
            self._claimed.pop(done.pk, None)
            self._started.discard(done.pk)
            if next_job is not None:
                self._claimed[next_job.pk] = next_job
        return next_job

    def _claim_one(self) -> list[SunatJob]:
        """Claim one due job for the slot that is asking (its own unit covers it)."""
        try:
            return queue.jobs_claim(owner=self.name, limit=1, lease=self.config.lease)
        except DatabaseError:
            log.warning("worker.claim_db_error", exc_info=True)
            connection.close()
            return []

    def _run_one(self, job: SunatJob) -> SunatJob | None:
        """Perform ``job``, finish it, and return the slot's next job: claimed in the finish's own
        commit when the job is done and more may be due, or by a claim of its own when more may
        be due; None when nothing more is due."""
        jlog = log.bind(
            job_id=job.pk, request_id=job.request_id, document=job.document_id, kind=job.kind, attempt=job.attempts
        )
        outcome = self._perform(job, jlog)
        epoch = self._more_due() if outcome.step == NextStep.DONE else None
        result: queue.FinishResult | None = None
        claimed: list[SunatJob] | None = None
        if epoch is not None:
            try:
                result, claimed = queue.job_done_and_claim(
                    job_id=job.pk, owner=self.name, limit=1, lease=self.config.lease
                )
            except DatabaseError:  # rolled back as a whole: finish on its own below
                log.warning("worker.job.finish_db_error", job_id=job.pk, exc_info=True)
                connection.close()
                result, claimed = None, None
        if result is None:
            result = self._finish(job, outcome)
        self._count(result, outcome, jlog)
        if claimed is None:  # finished on its own: claim separately if more may be due
            epoch = self._more_due()
            claimed = self._claim_one() if epoch is not None else []
        if epoch is not None and not claimed:
            self._more_clear(epoch=epoch)
        return self._handover(done=job, next_job=claimed[0] if claimed else None)

    def _perform(self, job: SunatJob, jlog) -> JobOutcome:
        """``perform(job=...)`` in the job's logging and Sentry scope; an exception or a wrong
        return value becomes a RETRY on the verify path (the request may have left)."""
        jlog.info("worker.job.start")
        # Bound for every log line the SUNAT code writes on this thread during the job, and for
        # any Sentry event it raises (an isolated scope per job: slot threads never mix).
        with (
            structlog.contextvars.bound_contextvars(job_id=job.pk, request_id=job.request_id, document=job.document_id),
            sentry_sdk.isolation_scope() as scope,
        ):
            scope.set_tag("job_kind", job.kind)
            scope.set_context(
                "sunat_job",
                {
                    "job_id": job.pk,
                    "request_id": job.request_id,
                    "document_id": job.document_id,
                    "kind": job.kind,
                    "attempt": job.attempts,
                    "company_id": job.company_id,
                },
            )
            try:
                outcome = self.perform(job=job)
                if not isinstance(outcome, JobOutcome):
                    raise TypeError(f"perform returned {type(outcome).__name__}, not JobOutcome")
            except Exception as exc:  # an unexpected bug must not kill the slot
                jlog.exception("worker.job.crashed")  # reported to Sentry inside the job's scope
                if isinstance(exc, DatabaseError):
                    connection.close()
                # We cannot know whether the request left: verify before any re-send.
                outcome = JobOutcome(
                    step=NextStep.RETRY,
                    code="exception",
                    message=f"{type(exc).__name__}: {exc}"[:500],
                    verify_next=True,
                )
        return outcome

    def _count(self, result: queue.FinishResult, outcome: JobOutcome, jlog) -> None:
        if not result.applied:
            self.counters.add("lost")
            jlog.warning("worker.job.lease_lost", step=outcome.step.value, code=outcome.code)
            return
        if result.status == "done":
            self.counters.add("done")
        elif result.status == "pending" and outcome.step == NextStep.RETRY:
            self.counters.add("retried")
        elif result.status in ("dead", "failed", "paused"):
            self.counters.add("failed")
        jlog.info("worker.job.finish", step=outcome.step.value, code=outcome.code, status=result.status)

    def _finish(self, job: SunatJob, outcome: JobOutcome) -> queue.FinishResult:
        for attempt in range(5):
            try:
                return queue.job_finish(job_id=job.pk, owner=self.name, outcome=outcome)
            except DatabaseError:
                log.warning("worker.job.finish_db_error", job_id=job.pk, try_=attempt + 1, exc_info=True)
                connection.close()
                if self.stopping.wait(min(2**attempt, 10)) and attempt >= 2:
                    break
        # The lease will expire and the reaper sends the job to the verify path: nothing is lost.
        return queue.FinishResult(applied=False)

    # --- main loop -------------------------------------------------------------------------

    def _start(self) -> None:
        for i in range(self.config.concurrency):
            t = threading.Thread(target=self._slot_loop, name=f"sunat-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        if self.config.listen and not self.config.burst:
            info = listen_conninfo()
            if info is None:
                log.info("worker.listen.disabled", reason="pgbouncer sin DIRECT_URL: solo sondeo")
            else:
                self._listener = Listener(conninfo=info, wake=self.wake, stop=self.stopping)
                self._listener.start()

    def _beat(self) -> None:
        queue.worker_beat(
            name=self.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            concurrency=self.config.concurrency,
            listening=bool(self._listener and self._listener.connected.is_set()),
            counters=self.counters.as_dict(),
            rss_bytes=_rss_bytes(),
        )

    def _beat_every(self) -> float:
        # Leases are extended on each beat: beat at least three times per lease.
        return min(HEARTBEAT_SECONDS, self.config.lease / 3)

    def _maintenance(self, now: float, due: dict[str, float]) -> None:
        if now >= due["beat"]:
            self._beat()
            with self._lock:
                running = sorted(self._claimed)
            if running:
                queue.jobs_extend_lease(owner=self.name, job_ids=running, lease=self.config.lease)
            due["beat"] = now + self._beat_every()
        if now >= due["reap"]:
            reaped = queue.jobs_reap()
            if reaped:
                self.counters.add("reaped", len(reaped))
                log.warning("worker.reaped", jobs=reaped)
                self._more_set()
            due["reap"] = now + REAP_SECONDS + random.uniform(0, 1)
        if now >= due["purge"]:
            self._purge()
            due["purge"] = now + PURGE_SECONDS

    def _purge(self) -> None:
        """The retention loop (hourly): finished jobs, stale heartbeats, old SUNAT exchanges
        (each document keeps its latest, sunat/retention.py), then each task of
        ``WORKER_RETENTION_TASKS`` (name -> dotted path of a callable returning rows removed, so
        other apps' tables are pruned without the worker importing them: ops' rate-limit windows)."""
        purged = {
            "jobs": queue.jobs_purge(older_than=self.config.retention),
            "heartbeats": queue.heartbeats_purge(older_than=timedelta(days=7)),
            "attempts": sunat_attempts_purge(older_than=self.config.attempt_retention),
        }
        for name, task in settings.WORKER_RETENTION_TASKS.items():
            purged[name] = import_string(task)()
        if any(purged.values()):
            log.info("worker.purged", **purged)

    def _claim(self) -> int:
        """Claim due jobs for the free slots and hand them to the slot threads. Returns how many."""
        if self.stopping.is_set():
            return 0
        with self._lock:
            free = self.config.concurrency - self._busy
            if free <= 0:
                # Woken (NOTIFY) while every slot is busy: the slots claim as they free up.
                self._mark_more()
                return 0
            self._busy += free  # held while claiming, so no slot is counted free twice
            epoch = self._more_epoch
        jobs: list[SunatJob] = []
        try:
            jobs = queue.jobs_claim(owner=self.name, limit=free, lease=self.config.lease)
        finally:
            with self._lock:
                self._busy -= free - len(jobs)  # one unit per job got; the rest are free again
                self._claimed.update((job.pk, job) for job in jobs)
                if len(jobs) == free:
                    self._mark_more()
                elif self._more_epoch == epoch:
                    self._more = False
        for job in jobs:
            self._inbox.put(job)
        return len(jobs)

    def run(self) -> int:
        """Work until stopped (or, with ``burst``, until nothing is due). Returns the exit code."""
        log.info(
            "worker.start",
            worker=self.name,
            concurrency=self.config.concurrency,
            poll_interval=self.config.poll_interval,
            burst=self.config.burst,
        )
        self._beat()  # fails fast (DatabaseError) when there is no database
        self._start()
        due = {"beat": time.monotonic() + self._beat_every(), "reap": 0.0, "purge": 0.0}
        db_errors = 0
        try:
            while not self.stopping.is_set() and not self._signals:
                self.wake.clear()
                try:
                    self._maintenance(time.monotonic(), due)
                    claimed = self._claim()
                    db_errors = 0
                except DatabaseError as exc:
                    db_errors += 1
                    connection.close()
                    log.warning("worker.db_error", error=str(exc).strip()[:300], consecutive=db_errors)
                    if self.config.burst and db_errors >= 3:
                        raise
                    self._sleep(min(2**db_errors, 30))
                    continue
                if self.config.burst and claimed == 0 and self._in_flight() == 0:
                    break
                if claimed and self._more_due() is not None and self._in_flight() < self.config.concurrency:
                    continue  # more is due and a slot is free (jobs finished meanwhile)
                if self.config.burst:
                    timeout = 1.0
                else:
                    timeout = self.config.poll_interval * random.uniform(0.9, 1.1)
                    timeout = min(timeout, max(0.05, due["beat"] - time.monotonic()))
                self._sleep(timeout)
        finally:
            if self._signals:
                log.info("worker.stopping", grace=self.config.grace)
                self.stop()
            self._shutdown()
        return 0

    def _sleep(self, seconds: float) -> None:
        """Wait for a wake-up (NOTIFY, a finished job) or ``seconds``, in 0.1 s slices so that a
        signal, which only bumps a counter, is noticed promptly."""
        deadline = time.monotonic() + seconds
        while not self._signals and not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.wake.wait(min(left, 0.1)):
                return

    def _shutdown(self) -> None:
        """Give back unstarted jobs, wait up to ``grace`` for in-flight ones, record the stop."""
        self.stopping.set()
        with self._lock:
            # Their slots' units come back when the slot threads take them and find them gone.
            unstarted = [pk for pk in self._claimed if pk not in self._started]
            for pk in unstarted:
                self._claimed.pop(pk, None)
        if unstarted:
            try:
                queue.jobs_give_back(owner=self.name, job_ids=unstarted)
                log.info("worker.gave_back", jobs=unstarted)
            except DatabaseError:
                log.warning("worker.give_back_failed", jobs=unstarted, exc_info=True)
        for _ in self._threads:
            self._inbox.put(None)
        deadline = time.monotonic() + self.config.grace
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = sorted(self._claimed)
        try:
            if left:
                queue.jobs_abandon(
                    owner=self.name,
                    job_ids=left,
                    reason="El worker se detuvo durante el envío; se verificará en SUNAT antes de reenviar.",
                )
                log.warning("worker.abandoned", jobs=left)
            self._beat()
            queue.worker_stopped(name=self.name)
        except DatabaseError:
            log.warning("worker.stop_record_failed", exc_info=True)
        connection.close()
        log.info("worker.stopped", worker=self.name, **self.counters.as_dict())
