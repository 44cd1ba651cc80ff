"""``manage.py sunat_worker`` as real processes on the test database (stand-in performers).

The performers in ``worker.testing`` speak the same seam as ``sunat_job_perform``;
``simulated_sunat`` records registrations (``wt_registry``) and overlapping runs
(``wt_overlap``) so double registration and double processing are visible.
"""

from __future__ import annotations

import signal
import time

import pytest
from django.db import transaction

from sunat.models import SunatAccount, SunatJob
from sunat.services import sunat_document_issue
from worker.testing import simulation_tables_create
from worker.tests.factories import company_create, documents_issue, snapshot_for, store_create
from worker.tests.procs import rows, scalar, stop, wait_for, worker, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(db):
    company = company_create()
    store = store_create(company)
    simulation_tables_create()
    return company, store


def _statuses() -> dict[str, int]:
    return dict(rows("SELECT status, count(*) FROM sunat_jobs GROUP BY status"))


def _assert_each_registered_once(n: int) -> None:
    assert scalar("SELECT count(*) FROM wt_overlap") == 0, rows("SELECT * FROM wt_overlap")
    assert scalar("SELECT count(*) FROM wt_registry") == n
    assert scalar("SELECT max(sends) FROM wt_registry") == 1, rows("SELECT * FROM wt_registry WHERE sends > 1")


def test_burst_drains_and_exits_zero(shop, procs):
    documents_issue(*shop, 40)
    p = worker("--burst", "--concurrency", "3")
    procs.append(p)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert _statuses() == {"done": 40}
    _assert_each_registered_once(40)
    beat = rows("SELECT jobs_done, stopped_at IS NOT NULL, concurrency FROM worker_workerheartbeat")
    assert beat == [(40, True, 3)]
    # The process reports its own resident memory with the heartbeat (/metrics shows it per worker).
    assert 20 * 2**20 < scalar("SELECT rss_bytes FROM worker_workerheartbeat") < 1024 * 2**20


def test_burst_exit_zero_when_jobs_end_failed_dead_or_paused(shop, procs):
    company, store = shop
    other = company_create()
    other_store = store_create(other)
    with transaction.atomic():
        for rid in ("fix-1", "retry-1", "crash-1", "ok-1"):
            sunat_document_issue(company=company, store=store, snapshot=snapshot_for(company, store), request_id=rid)
        sunat_document_issue(
            company=other, store=other_store, snapshot=snapshot_for(other, other_store), request_id="pause-1"
        )
    p = worker("--burst", perform="worker.testing.scripted", env=worker_env(SUNAT_RETRY_DELAYS="0"))
    procs.append(p)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    by_rid = dict(rows("SELECT request_id, status FROM sunat_jobs"))
    assert by_rid == {"fix-1": "failed", "retry-1": "dead", "crash-1": "dead", "ok-1": "done", "pause-1": "paused"}
    crash = SunatJob.objects.get(request_id="crash-1")
    assert crash.kind == "verify" and "RuntimeError" in crash.last_error
    assert SunatAccount.objects.get(company=other).paused_at is not None


def test_no_database_exits_one_with_one_readable_line(procs):
    env = worker_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=1")
    p = worker("--burst", env=env)
    procs.append(p)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "base de datos" in lines[0], err


def test_bad_option_exits_nonzero_with_a_message(procs):
    p = worker("--burst", "--concurrency", "0")
    procs.append(p)
    _, err = p.communicate(timeout=60)
    assert p.returncode != 0 and "--concurrency" in err


def test_two_processes_never_run_the_same_job(shop, procs):
    documents_issue(*shop, 300)
    env = worker_env(WT_SLEEP="0.002")
    procs.extend(worker("--burst", "--concurrency", "4", env=env) for _ in range(2))
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    assert _statuses() == {"done": 300}
    _assert_each_registered_once(300)
    owners = rows("SELECT owner, count(*) FROM wt_attempts GROUP BY owner")
    assert len(owners) == 2, owners  # both processes really competed
    assert scalar("SELECT count(*) FROM wt_attempts") == 300


def _issue_one(company, store) -> int:
    with transaction.atomic():
        doc = sunat_document_issue(company=company, store=store, snapshot=snapshot_for(company, store))
    return doc.id


def _wait_idle_and_listening(listening: bool) -> None:
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM worker_workerheartbeat WHERE listening = %s", [listening]) == 1,
        timeout=30,
    ), rows("SELECT * FROM worker_workerheartbeat")


def test_notify_wakes_an_idle_worker_within_two_seconds(shop, procs):
    company, store = shop
    # The poll interval is far longer than the deadline: only NOTIFY can explain a fast pick-up.
    p = worker("--poll-interval", "120", "--concurrency", "2", env=worker_env(SUNAT_LEASE_SECONDS="6"))
    procs.append(p)
    _wait_idle_and_listening(True)
    time.sleep(0.5)  # the worker is now idle, waiting on LISTEN
    for _ in range(3):
        doc_id = _issue_one(company, store)
        assert wait_for(
            lambda doc_id=doc_id: scalar("SELECT count(*) FROM wt_registry WHERE document_id = %s", [doc_id]) == 1,
            timeout=2.0,
        )
    assert stop(p) == 0


def test_without_listen_a_sale_is_sent_within_the_poll_interval(shop, procs):
    company, store = shop
    poll = 1.5
    p = worker("--poll-interval", str(poll), "--no-listen", env=worker_env(SUNAT_LEASE_SECONDS="6"))
    procs.append(p)
    _wait_idle_and_listening(False)
    doc_id = _issue_one(company, store)
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM wt_registry WHERE document_id = %s", [doc_id]) == 1,
        timeout=poll * 1.1 + 1.0,
    )
    assert stop(p) == 0


def test_behind_pgbouncer_without_direct_url_it_polls_only(shop, procs):
    company, store = shop
    env = worker_env()
    env["DATABASE_URL"] += ("&" if "?" in env["DATABASE_URL"] else "?") + "pgbouncer=true"
    p = worker("--poll-interval", "1", env=env)
    procs.append(p)
    _wait_idle_and_listening(False)
    doc_id = _issue_one(company, store)
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM wt_registry WHERE document_id = %s", [doc_id]) == 1, timeout=3.0
    )
    assert stop(p) == 0


def test_sigterm_during_load_finishes_in_flight_jobs_and_leaves_none_running(shop, procs):
    documents_issue(*shop, 30)
    p = worker("--concurrency", "3", "--grace", "10", "--poll-interval", "1", env=worker_env(WT_SLEEP="1"))
    procs.append(p)
    assert wait_for(lambda: scalar("SELECT count(*) FROM wt_inflight") == 3, timeout=30)
    started = time.monotonic()
    assert stop(p, timeout=15) == 0
    assert time.monotonic() - started < 10 + 2
    statuses = _statuses()
    assert "running" not in statuses
    assert statuses.get("done", 0) >= 3 and sum(statuses.values()) == 30
    _assert_each_registered_once(statuses["done"])


def test_sigterm_past_the_grace_period_sends_in_flight_jobs_to_verify(shop, procs):
    documents_issue(*shop, 3)
    p = worker("--concurrency", "3", "--grace", "1", env=worker_env(WT_SLEEP_AFTER_SEND="30"))
    procs.append(p)
    assert wait_for(lambda: scalar("SELECT count(*) FROM wt_registry") == 3, timeout=30)
    assert stop(p, timeout=10) == 0
    assert rows("SELECT DISTINCT status, kind FROM sunat_jobs") == [("pending", "verify")]
    rows("DELETE FROM wt_inflight")  # markers of the calls the stopped process abandoned
    # Another worker verifies them: found registered, nothing is sent twice.
    q = worker("--burst")
    procs.append(q)
    _, err = q.communicate(timeout=60)
    assert q.returncode == 0, err
    assert _statuses() == {"done": 3}
    _assert_each_registered_once(3)


def test_second_signal_exits_at_once(shop, procs):
    documents_issue(*shop, 2)
    p = worker("--grace", "60", env=worker_env(WT_SLEEP="60"))
    procs.append(p)
    assert wait_for(lambda: scalar("SELECT count(*) FROM wt_inflight") == 2, timeout=30)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert p.poll() is None  # still in its grace period
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 1


@pytest.mark.parametrize("where", ["after_claim", "after_send_before_finish"])
def test_kill_9_mid_job_loses_nothing_and_registers_nothing_twice(shop, procs, where):
    documents_issue(*shop, 6)
    lease = "2"
    hang = {"WT_SLEEP": "60"} if where == "after_claim" else {"WT_SLEEP_AFTER_SEND": "60"}
    a = worker("--concurrency", "3", env=worker_env(SUNAT_LEASE_SECONDS=lease, **hang))
    procs.append(a)
    if where == "after_claim":
        assert wait_for(lambda: scalar("SELECT count(*) FROM wt_inflight") == 3, timeout=30)
    else:
        assert wait_for(lambda: scalar("SELECT count(*) FROM wt_registry") == 3, timeout=30)
    a.kill()
    a.wait(10)
    assert scalar("SELECT count(*) FROM sunat_jobs WHERE status = 'running'") == 3
    # Nothing to do until the dead worker's leases expire (database clock).
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM sunat_jobs WHERE status = 'running' AND lease_expires_at < now()") == 3,
        timeout=10,
    )
    rows("DELETE FROM wt_inflight")  # the killed process could not clean up its markers
    b = worker("--burst", "--concurrency", "3", env=worker_env(SUNAT_LEASE_SECONDS="30"))
    procs.append(b)
    _, err = b.communicate(timeout=120)
    assert b.returncode == 0, err
    assert _statuses() == {"done": 6}
    _assert_each_registered_once(6)
    reaped = rows('SELECT count(*) FROM sunat_jobs WHERE errors @> \'[{"code": "lease-expired"}]\'')
    assert reaped == [(3,)]


@pytest.mark.slow
def test_500_sales_two_workers_fault_rate_30_percent_each_registered_once(shop, procs):
    n = 500
    documents_issue(*shop, n)
    env = worker_env(
        SUNAT_RETRY_DELAYS=",".join(["0.2"] * 10), WT_FAULT_RATE="0.3", WT_SLEEP="0.003", SUNAT_LEASE_SECONDS="30"
    )
    procs.extend(worker("--concurrency", "3", "--poll-interval", "0.5", env=env) for _ in range(2))
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM sunat_jobs WHERE status = 'done'") == n, timeout=240, interval=0.5
    ), _statuses()
    for p in procs:
        assert stop(p) == 0
    assert _statuses() == {"done": n}
    _assert_each_registered_once(n)
    retried = scalar("SELECT count(*) FROM sunat_jobs WHERE jsonb_array_length(errors) > 0")
    assert retried > n * 0.2  # the faults really happened
    assert scalar("SELECT count(DISTINCT owner) FROM wt_attempts") == 2
