from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from ops import health, selectors
from sunat.models import SunatDocument, SunatJob
from worker.models import WorkerHeartbeat


def run(*args):
    out = io.StringIO()
    code = 0
    try:
        call_command("monitor_db", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@pytest.fixture
def live_worker(db) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(name="w-live", host="h", pid=1)


@pytest.mark.django_db
def test_monitor_db_json_without_alerts(chain, live_worker):
    code, out = run("--json")
    report = json.loads(out)
    assert code == 0
    assert report["alerts"] == []
    assert report["connections"]["max_connections"] > 0
    assert len(report["tables"]) <= 10 and report["tables"]
    assert "sunat_jobs_tuples" in report and "sunat_queue" in report
    slow = report["slow_queries"]
    assert slow["available"] or "pg_stat_statements" in slow["note"]


@pytest.mark.django_db
def test_monitor_db_exits_1_when_queue_alert_fires(chain, live_worker, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PENDING_ALERT", 1)
    company = chain["company"]
    for n in range(2):
        doc = SunatDocument.objects.create(
            company=company, document_type="03", series="B001", number=n + 1, issued_at=timezone.now(), snapshot={}
        )
        SunatJob.objects.create(company=company, document=doc)
    code, out = run("--json")
    assert code == 1
    assert [a["alert"] for a in json.loads(out)["alerts"]] == ["sunat_queue"]
    code, text = run()
    assert code == 1 and "ALERTA sunat_queue" in text


@pytest.mark.django_db
def test_monitor_db_connection_threshold(monkeypatch):
    monkeypatch.setattr(
        selectors, "database_connections", lambda: {"connections": 90, "active": 5, "max_connections": 100}
    )
    code, out = run("--json")
    assert code == 1
    assert json.loads(out)["alerts"][0]["alert"] == "db_connections"


def _beat(name: str, *, age: timedelta, stopped: bool = False) -> WorkerHeartbeat:
    beat = WorkerHeartbeat.objects.create(name=name, host="h", pid=1)
    now = timezone.now()
    WorkerHeartbeat.objects.filter(pk=beat.pk).update(beat_at=now - age, stopped_at=now if stopped else None)
    return beat


@pytest.mark.django_db
def test_a_worker_that_died_two_days_ago_is_not_live(chain):
    _beat("w-dead", age=timedelta(days=2))
    _beat("w-stopped", age=timedelta(seconds=1), stopped=True)
    code, text = run()
    assert code == 1
    assert "Workers vivos: 0" in text and "1 sin latido reciente" in text
    assert "ALERTA no_live_worker: Ningún worker SUNAT vivo" in text and "Sin alertas" not in text
    code, out = run("--json")
    report = json.loads(out)
    assert code == 1 and [a["alert"] for a in report["alerts"]] == ["no_live_worker"]
    assert report["worker"]["live_workers"] == 0 and set(report["workers"]) == {"w-dead"}


@pytest.mark.django_db
def test_no_heartbeat_at_all_is_no_live_worker(chain):
    code, out = run("--json")
    assert code == 1 and [a["alert"] for a in json.loads(out)["alerts"]] == ["no_live_worker"]


@pytest.mark.django_db
def test_live_means_what_deep_health_says(chain, settings):
    """One rule for monitor_db and /health?deep=true: a heartbeat within
    ``health.worker_stale_after_seconds()`` (3 × SUNAT_POLL_INTERVAL, at least 60 s)."""
    _beat("w1", age=timedelta(seconds=200))
    for interval, live in ((100, True), (10, False)):
        settings.SUNAT_POLL_INTERVAL = interval
        code, out = run("--json")
        report = json.loads(out)
        assert report["worker"]["stale_after_seconds"] == health.worker_stale_after_seconds()
        assert (report["worker"]["live_workers"] == 1) is live
        assert ("no_live_worker" in [a["alert"] for a in report["alerts"]]) is not live
        assert (health.check_worker()["status"] == "ok") is live
