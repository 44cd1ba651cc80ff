"""The whole chain: issue → ``manage.py sunat_worker --burst`` → sunat_job_perform → fake_sunat.

With faults injected before and after registering, every document still ends accepted and
SUNAT (the double) registers each one exactly once (invariants 5 and 6).
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from sunat.models import DocumentStatus, JobStatus, SunatDocument, SunatJob
from sunat.services import document_file_name, sunat_document_issue
from sunat.tests.scenarios import scenario, schemas_missing_reason, supplier_company_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pool_restored():
    """The command sizes this process's pool (concurrency + 2); give later tests theirs back."""
    options = django_settings.DATABASES["default"]["OPTIONS"]
    saved = dict(options["pool"])
    yield
    options["pool"] = saved
    connection.close()
    connection.close_pool()


NAMES = ["factura-contado", "boleta-gravado", "boleta-icbper", "nc-factura", "nd-factura", "boleta-exonerado"]


def test_worker_burst_with_faults_registers_every_document_exactly_once(fake_sunat, settings, pool_restored):
    reason = schemas_missing_reason()
    if reason:
        pytest.skip(reason)
    settings.SUNAT_RETRY_DELAYS = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS = 0.0  # a waiting note is due again at once
    company = supplier_company_create()
    documents = []
    with transaction.atomic():
        for name in NAMES:
            snapshot = scenario(name)
            # The notes modify factura-contado (F001-11): they wait until SUNAT holds it.
            original = documents[0] if snapshot.document_type in ("07", "08") else None
            documents.append(sunat_document_issue(company=company, store=None, snapshot=snapshot, original=original))
    fake_sunat.fake.force(
        "timeout-after-register", "0109", "drop-after-register", "http-503", "timeout", "0130", "timeout-after-register"
    )
    for _ in range(6):  # burst drains what is due; retried jobs become due again at once
        call_command("sunat_worker", "--burst", "--no-listen", "--concurrency", "3")
        if not SunatJob.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING]).exists():
            break
    registry = fake_sunat.fake.registry_json()
    for document in documents:
        document = SunatDocument.objects.select_related("company").get(pk=document.pk)
        assert document.status == DocumentStatus.ACCEPTED, (
            document,
            document.response_code,
            document.response_description,
        )
        assert registry["documents"][document_file_name(document)]["digest"] == document.xml_hash
    assert len(registry["documents"]) == len(NAMES)
    assert not SunatJob.objects.exclude(status=JobStatus.DONE).exists()
