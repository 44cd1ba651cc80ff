"""``bodegapos.rows.rows_insert`` writes what the ORM writes (it only skips recompiling the SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from bodegapos.rows import pipeline, rows_insert, rows_keys_send, rows_send
from sales.tests.factories import company_make, store_make
from sunat.models import JobStatus, SunatDocument, SunatJob

pytestmark = pytest.mark.django_db

ISSUED = datetime(2026, 11, 27, 15, 30, 12, 123456, tzinfo=UTC)


def _document(company, store, number: int) -> SunatDocument:
    return SunatDocument(
        company=company,
        store=store,
        document_type="03",
        series="B999",
        number=number,
        issued_at=ISSUED,
        snapshot={"lines": [{"description": "Leche Gloria 400 g", "quantity": "2.000"}], "total": "9.90"},
        total=Decimal("9.90"),
    )


def _columns(obj) -> dict:
    skip = {"id", "number", "created_at", "updated_at"}
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(obj)._meta.concrete_fields if f.attname not in skip}


def test_a_row_is_the_row_bulk_create_writes():
    company = company_make()
    store, _ = store_make(company=company)
    by_orm, by_rows = _document(company, store, 1), _document(company, store, 2)
    SunatDocument.objects.bulk_create([by_orm])
    rows_insert([by_rows])
    assert by_rows.pk and by_rows.pk != by_orm.pk and not by_rows._state.adding
    assert _columns(by_rows) == _columns(by_orm)
    assert _columns(by_rows)["snapshot"]["lines"][0]["description"] == "Leche Gloria 400 g"
    assert SunatDocument.objects.get(pk=by_rows.pk).created_at is not None  # auto_now_add went through pre_save


def test_database_defaults_and_a_parent_saved_after_the_child_was_built():
    company = company_make()
    store, _ = store_make(company=company)
    document = _document(company, store, 1)
    job = SunatJob(company=company, document=document)  # built while the document has no pk yet
    rows_insert([document])
    rows_insert([job])
    stored = SunatJob.objects.get(pk=job.pk)
    assert stored.document_id == document.pk and stored.status == JobStatus.PENDING
    # run_at / created_at come from the database (db_default=Now()) and back through RETURNING.
    assert isinstance(job.run_at, datetime) and job.run_at == stored.run_at and job.created_at == stored.created_at


def test_several_rows_in_one_statement_get_their_own_keys(django_assert_num_queries):
    company = company_make()
    store, _ = store_make(company=company)
    documents = [_document(company, store, n) for n in (1, 2, 3)]
    with django_assert_num_queries(1):
        rows_insert(documents)
    assert sorted(SunatDocument.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert {d.number: d.pk for d in documents} == dict(SunatDocument.objects.values_list("number", "pk"))


def test_a_constraint_violation_is_django_integrity_error_naming_the_constraint():
    company = company_make()
    store, _ = store_make(company=company)
    rows_insert([_document(company, store, 1)])
    with pytest.raises(IntegrityError, match="sunat_document_unique_number"), transaction.atomic():
        rows_insert([_document(company, store, 1)])


def test_mixed_models_and_expressions_are_refused_before_any_sql(django_assert_num_queries):
    company = company_make()
    store, _ = store_make(company=company)
    document = _document(company, store, 1)
    with django_assert_num_queries(0):
        with pytest.raises(TypeError, match="same model"):
            rows_insert([document, SunatJob(company=company)])
        document.total = F("total") + 1
        with pytest.raises(TypeError, match="expression"):
            rows_insert([document])


def test_a_pipeline_sends_without_waiting_and_a_reserved_key_comes_back_with_the_next_answer():
    company = company_make()
    store, _ = store_make(company=company)
    first, second = _document(company, store, 1), _document(company, store, 2)
    with transaction.atomic(), pipeline():
        key = rows_keys_send(SunatDocument)
        rows_insert([first])  # waits: the reservation's answer arrives with it
        second.pk = key()
        rows_send([second])
        rows_send([SunatJob(company=company, document=second)])  # built on the reserved key
    assert second.pk > 0 and not second._state.adding
    stored = SunatDocument.objects.get(pk=second.pk)
    assert stored.number == 2 and SunatJob.objects.get().document_id == second.pk


def test_a_failing_statement_in_a_pipeline_raises_django_error_and_the_rest_do_not_run():
    company = company_make()
    store, _ = store_make(company=company)
    rows_insert([_document(company, store, 1)])
    with pytest.raises(IntegrityError, match="sunat_document_unique_number"):
        with transaction.atomic(), pipeline():
            rows_send([_document(company, store, 1)])  # duplicate number: fails on the server
            rows_send([_document(company, store, 2)])  # skipped after the failure
    assert list(SunatDocument.objects.values_list("number", flat=True)) == [1]


def test_keys_reserved_for_some_rows_only_are_refused(django_assert_num_queries):
    company = company_make()
    store, _ = store_make(company=company)
    keyed, unkeyed = _document(company, store, 1), _document(company, store, 2)
    keyed.pk = 10**12
    with django_assert_num_queries(0), pytest.raises(TypeError, match="reserved key"):
        rows_send([keyed, unkeyed])
