from __future__ import annotations

import pytest
from django.utils import timezone

from ops import metrics
from sunat.models import SunatDocument, SunatJob


@pytest.mark.django_db
def test_metrics_text_has_the_families(client, chain):
    company = chain["company"]
    doc = SunatDocument.objects.create(
        company=company, document_type="03", series="B001", number=1, issued_at=timezone.now(), snapshot={},
        status="accepted", response_code="0",
    )
    SunatJob.objects.create(company=company, document=doc)
    metrics.sunat_send_observed("accepted", "0")
    client.get("/health")
    body = client.get("/metrics").content.decode()
    for name in (
        "bodegapos_http_request_duration_seconds_bucket",
        "bodegapos_checkout_duration_seconds",
        "bodegapos_http_errors",
        "bodegapos_db_pool_in_use",
        "bodegapos_db_pool_waiting",
        'bodegapos_sunat_jobs{status="pending"} 1.0',
        "bodegapos_sunat_oldest_pending_seconds",
        'bodegapos_sunat_documents{code="0",status="accepted"} 1.0',
        'bodegapos_sunat_sends_total{code="0",outcome="accepted"}',
        "bodegapos_worker_heartbeat_age_seconds",
        "bodegapos_process_resident_memory_bytes",
        "bodegapos_db_max_connections",
    ):
        assert name in body, name


@pytest.mark.django_db
def test_metrics_token(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")


def test_route_label_is_low_cardinality(rf):
    request = rf.post("/api/v1/checkout")
    assert metrics.route_label(request) == "checkout"
    assert metrics.route_label(rf.get("/pos/receipts/123/")) == "unmatched"
