"""The SunatJob admin: scoped to the user's companies; retry, verify, resume, discard actions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from stores.admin_scoping import membership_staff_sync
from stores.models import Membership, Role
from sunat.models import SunatAccount, SunatJob
from sunat.outcomes import JobOutcome, NextStep
from worker import queue

from .factories import company_create, documents_issue, store_create

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/admin/sunat/sunatjob/"


@pytest.fixture
def setup(client):
    mine, theirs = company_create(), company_create()
    my_store, their_store = store_create(mine), store_create(theirs)
    documents_issue(mine, my_store, 2)
    documents_issue(theirs, their_store, 1)
    user = get_user_model().objects.create_user("jefa", password="x" * 12)
    Membership.objects.create(user=user, company=mine, role=Role.COMPANY_ADMIN)
    membership_staff_sync(user=user)
    client.force_login(user)
    return mine, theirs


def test_list_shows_only_own_company_jobs(client, setup):
    mine, theirs = setup
    resp = client.get(URL)
    assert resp.status_code == 200
    assert resp.context["cl"].result_count == 2
    other = SunatJob.objects.get(company=theirs)
    assert client.get(f"{URL}{other.pk}/change/").status_code in (302, 404)


def test_actions_retry_verify_resume_and_discard(client, setup):
    mine, _ = setup
    jobs = queue.jobs_claim(owner="w", limit=10)
    a, b = [j for j in jobs if j.company_id == mine.id]
    queue.job_finish(job_id=a.id, owner="w", outcome=JobOutcome(step=NextStep.FIX, code="2800"))
    queue.job_finish(job_id=b.id, owner="w", outcome=JobOutcome(step=NextStep.PAUSE_COMPANY, code="0111"))

    client.post(URL, {"action": "retry_now", "_selected_action": [a.id]})
    assert SunatJob.objects.get(pk=a.id).status == "pending"

    client.post(URL, {"action": "resume_company", "_selected_action": [b.id]})
    assert (
        SunatAccount.objects.get(company=mine).paused_at is None and SunatJob.objects.get(pk=b.id).status == "pending"
    )

    client.post(URL, {"action": "verify_with_sunat", "_selected_action": [a.id]})
    assert SunatJob.objects.get(pk=a.id).kind == "verify"

    # Discard without a reason: the form answers with an error and nothing changes.
    resp = client.post(URL, {"action": "discard", "_selected_action": [a.id], "apply": "1", "reason": " "})
    assert resp.status_code == 200 and "Indique el motivo" in resp.content.decode()
    assert SunatJob.objects.get(pk=a.id).status == "pending"
    client.post(URL, {"action": "discard", "_selected_action": [a.id], "apply": "1", "reason": "emitido por error"})
    job = SunatJob.objects.get(pk=a.id)
    assert job.status == "discarded" and "emitido por error" in job.last_error
