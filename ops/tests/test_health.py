from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ops import health
from sunat.models import JobStatus, SunatAccount, SunatDocument, SunatJob


def _document(company, *, number: int, document_type: str = "03", age: timedelta = timedelta(0), status="pending"):
    return SunatDocument.objects.create(
        company=company,
        document_type=document_type,
        series="B001" if document_type == "03" else "F001",
        number=number,
        issued_at=timezone.now() - age,
        snapshot={},
        status=status,
    )


def test_plain_health_touches_no_database(client):
    # No django_db mark: any query here would raise "Database access not allowed".
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_deep_health_shape_and_no_worker_is_degraded(client, chain):
    company = chain["company"]
    SunatAccount.objects.create(company=company, certificate_expires_at=timezone.now() + timedelta(days=300))
    response = client.get("/health?deep=true")
    body = response.json()
    assert response.status_code == 200
    assert set(body["checks"]) >= {"database", "migrations", "sunat_queue", "worker", "certificate"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["worker"]["status"] == "degraded"  # no heartbeat rows
    assert body["status"] == "degraded"
    assert "no-store" in response["Cache-Control"]
    # No secrets: the certificate check reports RUC and dates only.
    text = json.dumps(body)
    assert "password" not in text and "sol_" not in text


@pytest.mark.django_db
def test_deep_health_sunat_backlog(client, chain):
    company = chain["company"]
    old = _document(company, number=1, age=timedelta(hours=30))
    SunatJob.objects.create(company=company, document=old)
    factura = _document(company, number=1, document_type="01", age=timedelta(days=2, hours=12))
    SunatJob.objects.create(company=company, document=factura, status=JobStatus.DEAD)
    SunatAccount.objects.create(company=company, paused_at=timezone.now())
    body = client.get("/health?deep=true").json()
    queue = body["checks"]["sunat_queue"]
    assert queue["status"] == "degraded"
    assert queue["pending"] == 1
    assert queue["dead"] == 1
    assert queue["paused_companies"] == 1
    assert queue["unsent_after_24h"] == 2
    assert queue["facturas_near_limit"] == 1
    assert queue["oldest_pending_seconds"] >= 0
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_queue_over_threshold_degrades(client, chain, monkeypatch):
    monkeypatch.setattr(health.selectors, "QUEUE_PENDING_ALERT", 2)
    company = chain["company"]
    for n in range(3):
        SunatJob.objects.create(company=company, document=_document(company, number=n + 10))
    queue = client.get("/health?deep=true").json()["checks"]["sunat_queue"]
    assert queue["status"] == "degraded" and "más de 100 pendientes" in queue["reasons"]


@pytest.mark.django_db
def test_unapplied_migrations_are_down(client, monkeypatch):
    monkeypatch.setattr(health, "_migrations_ok", False)

    class Plan:
        def __init__(self, connection):
            class Loader:
                class graph:
                    @staticmethod
                    def leaf_nodes():
                        return []

            self.loader = Loader()

        def migration_plan(self, targets):
            class M:
                app_label, name = "sales", "0099_new"

            return [(M(), False)]

    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor", Plan)
    response = client.get("/health?deep=true")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["migrations"]["unapplied"] == 1


@pytest.mark.django_db
def test_database_failure_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: {"status": "down", "error": "OperationalError"})
    response = client.get("/health?deep=true")
    assert response.status_code == 503
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_live_worker_heartbeat_is_ok(monkeypatch):
    monkeypatch.setattr(health.selectors, "worker_heartbeats", lambda: {"w1": {"age_seconds": 3, "rss_bytes": 1}})
    assert health.check_worker()["status"] == "ok"
    monkeypatch.setattr(health.selectors, "worker_heartbeats", lambda: {"w1": {"age_seconds": 3600, "rss_bytes": 1}})
    assert health.check_worker()["status"] == "degraded"


@pytest.mark.django_db
def test_certificate_close_to_expiry_degrades(chain):
    company = chain["company"]
    SunatAccount.objects.create(company=company, certificate_expires_at=timezone.now() + timedelta(days=10))
    result = health.check_certificate()
    assert result["status"] == "degraded"
    assert 9 <= result["min_days_left"] <= 10


@pytest.mark.django_db
def test_health_is_never_rate_limited(client, settings):
    settings.RATELIMIT_CHECKOUT = "1/m"
    settings.RATELIMIT_LOGIN = "1/m"
    for _ in range(5):
        assert client.get("/health?deep=true").status_code == 200


@pytest.mark.django_db
def test_a_discarded_job_raises_no_alert(chain):
    """A person gave up on it with a reason; dead and failed ones keep the queue degraded."""
    company = chain["company"]
    SunatJob.objects.create(company=company, document=_document(company, number=1), status=JobStatus.DISCARDED)
    assert health.check_sunat_queue()["status"] == "ok"
    SunatJob.objects.create(company=company, document=_document(company, number=2), status=JobStatus.DEAD)
    assert health.check_sunat_queue()["status"] == "degraded"


@pytest.mark.django_db
def test_deep_health_details_need_the_metrics_token(client, chain, settings):
    """The public answer is the status and its code; RUCs, certificate expiry and queue details
    need ``Authorization: Bearer $METRICS_TOKEN``."""
    company = chain["company"]
    SunatAccount.objects.create(company=company, certificate_expires_at=timezone.now() + timedelta(days=300))
    settings.METRICS_TOKEN = "s3cret"
    public = client.get("/health?deep=true")
    assert public.status_code == 200 and public.json() == {"status": "degraded"}  # no live worker
    assert company.ruc not in public.content.decode()
    wrong = client.get("/health?deep=true", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"status": "degraded"}
    full = client.get("/health?deep=true", headers={"Authorization": "Bearer s3cret"}).json()
    assert full["status"] == "degraded"
    assert full["checks"]["certificate"]["companies"][0]["ruc"] == company.ruc
    # Production without a token shows nobody the details.
    settings.METRICS_TOKEN = ""
    settings.METRICS_TOKEN_REQUIRED = True
    assert client.get("/health?deep=true").json() == {"status": "degraded"}


@pytest.mark.django_db
def test_public_deep_health_keeps_the_503_when_down(client, settings, monkeypatch):
    settings.METRICS_TOKEN = "s3cret"
    monkeypatch.setattr(health, "check_database", lambda: {"status": "down", "error": "OperationalError"})
    response = client.get("/health?deep=true")
    assert response.status_code == 503 and response.json() == {"status": "down"}


@pytest.mark.django_db
def test_a_register_open_longer_than_24_hours_degrades(chain):
    from sales.models import CashSession
    from sales.tests.factories import session_ensure

    register, cashier = chain["registers"][0], chain["users"][0]
    session = session_ensure(register=register, user=cashier)
    assert health.check_cash_sessions()["status"] == "ok"
    CashSession.objects.filter(pk=session.pk).update(opened_at=timezone.now() - timedelta(hours=25))
    result = health.check_cash_sessions()
    assert result["status"] == "degraded" and result["registers"][0]["register"] == register.code
    assert health.health_deep()[0] == "degraded"


@pytest.mark.django_db
def test_a_void_sunat_rejected_degrades_until_a_void_of_the_same_document_is_accepted(chain):
    company = chain["company"]
    original = _document(company, number=7, status="accepted")
    rejected = SunatDocument.objects.create(
        company=company,
        document_type="RC",
        series="RC-20261201",
        number=1,
        issued_at=timezone.now(),
        snapshot={},
        status="rejected",
        original=original,
    )
    queue = health.check_sunat_queue()
    assert (
        queue["status"] == "degraded"
        and queue["voids_rejected"] == 1
        and any("anulaciones" in r for r in queue["reasons"])
    )
    SunatDocument.objects.create(
        company=company,
        document_type="RC",
        series="RC-20261201",
        number=2,
        issued_at=timezone.now(),
        snapshot={},
        status="accepted",
        original=original,
    )
    assert health.check_sunat_queue()["voids_rejected"] == 0
    assert rejected.pk


def test_head_plain_health_answers_like_get(client):
    response = client.head("/health")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_head_deep_health_answers_like_get(client, chain, monkeypatch):
    assert client.head("/health?deep=true").status_code == 200
    monkeypatch.setattr(health, "check_database", lambda: {"status": "down", "error": "OperationalError"})
    assert client.head("/health?deep=true").status_code == 503  # the monitor still sees the outage


def test_health_refuses_writes(client):
    assert client.post("/health").status_code == 405
