from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from ops import selectors
from sunat.models import SunatDocument, SunatJob


def run(*args):
    out = io.StringIO()
    code = 0
    try:
        call_command("monitor_db", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@pytest.mark.django_db
def test_monitor_db_json_without_alerts(chain):
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
def test_monitor_db_exits_1_when_queue_alert_fires(chain, monkeypatch):
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
