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
    from sunat.services import sunat_job_perform  # h4's service; imported late so tests can stub

    return sunat_job_perform


def _rss_bytes() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - memory is a nicety for /metrics, never a reason to stop
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
    ratelimit_retention: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, **overrides) -> RunnerConfig:
        values = {
            "concurrency": settings.SUNAT_MAX_CONCURRENT_JOBS,
            "poll_interval": float(settings.SUNAT_POLL_INTERVAL),
            "lease": float(settings.SUNAT_LEASE_SECONDS),
            "retention": timedelta(days=float(getattr(settings, "SUNAT_JOB_RETENTION_DAYS", 30))),
            "attempt_retention": timedelta(days=float(getattr(settings, "SUNAT_ATTEMPT_RETENTION_DAYS", 90))),
            "ratelimit_retention": timedelta(hours=float(getattr(settings, "RATELIMIT_RETENTION_HOURS", 1))),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Counters:
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
        return {"done": self.done, "retried": self.retried, "failed": self.failed, "reaped": self.reaped}


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
        self._lock = threading.Lock()
        self._claimed: dict[int, SunatJob] = {}  # claimed, not finished
        self._started: set[int] = set()  # perform() began
        # Slots taken: running a job, claiming for itself, or reserved for a job in the inbox.
        # Claims never ask for more than concurrency - reserved jobs.
        self._reserved = 0
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._maybe_more = False
        self._signals = 0

    # --- signals ---------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame) -> None:  # noqa: ANN001
        # Only a counter here: no logging and no Event.set() — the handler runs in the main
        # thread, which may be holding that very lock; the main loop notices within 0.1 s.
        self._signals += 1
        if self._signals > 1:
            os._exit(1)  # second signal: exit at once; leases expire and the reaper recovers

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    # --- slots -----------------------------------------------------------------------------

    def _in_flight(self) -> int:
        with self._lock:
            return self._reserved

    def _slot_loop(self) -> None:
        """Run jobs handed over by the main loop; while the queue is busy, claim the next one
        for this slot directly (LIMIT 1: the one free slot), without a trip through the main
        thread."""
        try:
            while True:
                job = self._inbox.get()
                if job is None:
                    return
                with self._lock:
                    if job.pk not in self._claimed:  # given back during shutdown
                        continue
                    self._started.add(job.pk)
                while job is not None:
                    next_jobs: list[SunatJob] | None = None
                    try:
                        next_jobs = self._run_one(job)
                    finally:
                        with self._lock:
                            self._claimed.pop(job.pk, None)
                            self._started.discard(job.pk)
                            for nxt in next_jobs or ():
                                self._claimed[nxt.pk] = nxt
                                self._started.add(nxt.pk)
                    if next_jobs is None:  # finished on its own: claim separately if worth it
                        job = self._claim_for_slot()
                    elif next_jobs:  # finished and claimed in one commit
                        job = next_jobs[0]
                    else:
                        self._maybe_more = False
                        job = self._release_slot()
        finally:
            connection.close()  # back to the pool

    def _claim_for_slot(self) -> SunatJob | None:
        """The slot just finished a job and keeps its reservation: claim one more if the last
        claim suggested more work is due; otherwise release the slot and tell the main loop."""
        job = None
        if self._maybe_more and not self.stopping.is_set():
            try:
                jobs = queue.jobs_claim(owner=self.name, limit=1, lease=self.config.lease)
            except DatabaseError:
                log.warning("worker.claim_db_error", exc_info=True)
                connection.close()
                jobs = []
            if jobs:
                job = jobs[0]
                with self._lock:
                    self._claimed[job.pk] = job
                    self._started.add(job.pk)
                return job
            self._maybe_more = False
        return self._release_slot()

    def _release_slot(self) -> None:
        with self._lock:
            self._reserved -= 1
        if self.config.burst:
            self.wake.set()  # the main loop decides whether the burst is over
        return None

    def _run_one(self, job: SunatJob) -> list[SunatJob] | None:
        """Perform one job and finish it. Returns the slot's next job(s) when the finish and
        the next claim went in one commit (done, queue busy), else ``None``."""
        jlog = log.bind(
            job_id=job.pk, request_id=job.request_id, document=job.document_id, kind=job.kind, attempt=job.attempts
        )
        jlog.info("worker.job.start")
        # Bound for every log line the SUNAT code writes on this thread during the job, and for
        # any Sentry event it raises (an isolated scope per job: slot threads never mix).
        with structlog.contextvars.bound_contextvars(
            job_id=job.pk, request_id=job.request_id, document=job.document_id
        ), sentry_sdk.isolation_scope() as scope:
            scope.set_tag("job_kind", job.kind)
            scope.set_context(
                "sunat_job",
                {"job_id": job.pk, "request_id": job.request_id, "document_id": job.document_id,
                 "kind": job.kind, "attempt": job.attempts, "company_id": job.company_id},
            )
            try:
                outcome = self.perform(job=job)
                if not isinstance(outcome, JobOutcome):
                    raise TypeError(f"perform returned {type(outcome).__name__}, not JobOutcome")
            except Exception as exc:  # noqa: BLE001 - an unexpected bug must not kill the slot
                jlog.exception("worker.job.crashed")  # reported to Sentry inside the job's scope
                if isinstance(exc, DatabaseError):
                    connection.close()
                # We cannot know whether the request left: verify before any re-send.
                outcome = JobOutcome(
                    step=NextStep.RETRY, code="exception", message=f"{type(exc).__name__}: {exc}"[:500], verify_next=True
                )
        next_jobs: list[SunatJob] | None = None
        result = None
        if outcome.step == NextStep.DONE and self._maybe_more and not self.stopping.is_set():
            try:
                result, next_jobs = queue.job_done_and_claim(
                    job_id=job.pk, owner=self.name, limit=1, lease=self.config.lease
                )
            except DatabaseError:  # rolled back as a whole: finish on its own below
                log.warning("worker.job.finish_db_error", job_id=job.pk, exc_info=True)
                connection.close()
                next_jobs = None
        if result is None:
            result = self._finish(job, outcome)
        if not result.applied:
            self.counters.add("lost")
            jlog.warning("worker.job.lease_lost", step=outcome.step.value, code=outcome.code)
            return next_jobs
        if result.status == "done":
            self.counters.add("done")
        elif result.status == "pending" and outcome.step == NextStep.RETRY:
            self.counters.add("retried")
        elif result.status in ("dead", "failed", "paused"):
            self.counters.add("failed")
        jlog.info("worker.job.finish", step=outcome.step.value, code=outcome.code, status=result.status)
        return next_jobs

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
                self._maybe_more = True
            due["reap"] = now + REAP_SECONDS + random.uniform(0, 1)
        if now >= due["purge"]:
            self._purge()
            due["purge"] = now + PURGE_SECONDS

    def _purge(self) -> None:
        """The retention loop (hourly): finished jobs, stale heartbeats, old SUNAT exchanges
        (each document keeps its latest, sunat/retention.py) and ended rate-limit windows."""
        from ops.ratelimit import ratelimit_prune  # the counter table is ops'; the worker only prunes it

        purged = {
            "jobs": queue.jobs_purge(older_than=self.config.retention),
            "heartbeats": queue.heartbeats_purge(older_than=timedelta(days=7)),
            "attempts": sunat_attempts_purge(older_than=self.config.attempt_retention),
            "ratelimit_windows": ratelimit_prune(older_than_seconds=self.config.ratelimit_retention.total_seconds()),
        }
        if any(purged.values()):
            log.info("worker.purged", **purged)

    def _claim(self) -> int:
        if self.stopping.is_set():
            return 0
        with self._lock:
            free = self.config.concurrency - self._reserved
            if free <= 0:
                # Woken (NOTIFY) while every slot is busy: the slots claim as they free up.
                self._maybe_more = True
                return 0
            self._reserved += free
        try:
            jobs = queue.jobs_claim(owner=self.name, limit=free, lease=self.config.lease)
        finally:
            with self._lock:
                self._reserved -= free
        self._maybe_more = len(jobs) == free
        with self._lock:
            self._reserved += len(jobs)
            for job in jobs:
                self._claimed[job.pk] = job
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
                if claimed and self._maybe_more and self._in_flight() < self.config.concurrency:
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
            unstarted = [pk for pk in self._claimed if pk not in self._started]
            for pk in unstarted:
                self._claimed.pop(pk, None)
                self._reserved -= 1
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
