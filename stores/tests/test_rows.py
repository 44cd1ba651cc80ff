"""The checkout and the SUNAT document it issues write their rows with plain ``INSERT`` statements
(``stores.rows.rows_insert``, a parent with its children in one): each row must hold exactly what ``save()`` writes from the same
instance, database defaults included, and a model with generated fields is refused; a cursor
read (``columns_select``) refuses a model whose fields need converters."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.db import models
from django.db.models import F
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import isolate_apps

from sales.models import MovementKind, Payment, PaymentMethod, Sale, SaleLine, SaleVoid, StockMovement
from sales.tests.factories import cashier_make, company_make, product_make, store_make
from stores.rows import columns_select, rows_insert
from sunat.models import JobKind, SunatDocument, SunatJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(db):
    store, _ = store_make(company=company_make(), code="0000", n=1)
    cashier = cashier_make(store=store)
    item = product_make(store=store, price="3.50")
    client = Client()
    client.force_login(cashier)
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": item.product.barcode, "quantity": "2"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
    response = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return Sale.objects.get(public_id=response.json()["id"]), item


def _pair(make):
    """The same instance twice: one written by ``rows_insert``, one by ``save()``; both reread."""
    by_rows, by_save = make(), make()
    rows_insert([by_rows], returning=True)
    by_save.save(force_insert=True)
    assert by_rows.pk and not by_rows._state.adding
    model = type(by_rows)
    return model.objects.get(pk=by_rows.pk), model.objects.get(pk=by_save.pk)


def _line(*, sale: Sale, item, line_no: int) -> SaleLine:
    """One unit of ``item`` (a store product at S/ 3.50, taxed) as line ``line_no`` of ``sale``."""
    return SaleLine(
        company=sale.company,
        store=sale.store,
        sale=sale,
        line_no=line_no,
        product=item.product,
        store_product=item,
        sku=item.product.sku,
        barcode=item.product.barcode,
        description=item.product.name,
        unit_code="NIU",
        quantity=Decimal("1.000"),
        unit_price=Decimal("3.50"),
        unit_value=Decimal("2.966102"),
        base=Decimal("2.97"),
        igv=Decimal("0.53"),
        icbper=Decimal("0.00"),
        icbper_rate=Decimal("0.00"),
        amount=Decimal("3.50"),
        affectation="10",
    )


def _same(a, b, *, ignore=()):
    left, right = model_to_dict(a), model_to_dict(b)
    for name in ("id", *ignore):
        left.pop(name, None), right.pop(name, None)
    assert left == right


def test_a_payment_a_line_and_a_movement_are_written_as_save_writes_them(sale):
    sale, item = sale
    payment = _pair(
        lambda: Payment(
            company=sale.company,
            store=sale.store,
            sale=sale,
            method=PaymentMethod.CASH,
            amount=Decimal("7.00"),
            tendered=Decimal("10.00"),
            change=Decimal("3.00"),
            rounding=Decimal("0.00"),
        )
    )
    _same(*payment)
    numbers = iter((50, 51))
    line = _pair(lambda: _line(sale=sale, item=item, line_no=next(numbers)))
    _same(*line, ignore=("line_no",))
    movement = _pair(
        lambda: StockMovement(
            company_id=sale.company_id,
            store_id=sale.store_id,
            store_product_id=item.pk,
            kind=MovementKind.SALE,
            quantity=Decimal("-1"),
            sale=sale,
            created_by_id=sale.cashier_id,
            note=sale.full_number,
        )
    )
    _same(*movement, ignore=("created_at",))
    assert movement[0].created_at is not None  # auto_now_add went through pre_save


def test_a_foreign_key_saved_after_it_was_assigned_takes_its_key(sale):
    sale, _ = sale
    payment = Payment(company=sale.company, store=sale.store, method=PaymentMethod.CARD, amount=Decimal("1.00"))
    unsaved = Sale(pk=None)
    payment.sale = unsaved  # as the checkout builds lines before the sale row exists
    unsaved.pk = sale.pk  # "saved" afterwards
    rows_insert([payment])
    assert Payment.objects.filter(sale=sale, method=PaymentMethod.CARD).count() == 1


def test_a_document_and_its_job_are_written_as_save_writes_them(sale):
    sale, _ = sale
    original = sale.sunat_document
    numbers = iter((900, 901))

    def document():
        return SunatDocument(
            company=sale.company,
            store=sale.store,
            document_type="07",
            series="BC01",
            number=next(numbers),
            issued_at=sale.issued_at,
            snapshot={"total": "1.00", "lines": [{"sku": "A"}]},
            total=Decimal("1.00"),
            original=original,
        )

    by_rows, by_save = _pair(document)
    _same(by_rows, by_save, ignore=("number",))
    assert by_rows.created_at and by_rows.updated_at  # auto_now_add / auto_now went through pre_save

    job = SunatJob(company_id=sale.company_id, document=by_rows, kind=JobKind.SEND_DOCUMENT, request_id="r-1")
    rows_insert([job])
    assert not job._state.adding
    # The database's defaults (run_at, created_at, updated_at: now()) are read back, as save() does.
    stored = SunatJob.objects.get(document=by_rows)
    assert (job.run_at, job.created_at, job.updated_at) == (stored.run_at, stored.created_at, stored.updated_at)
    assert stored.run_at is not None and stored.status == "pending" and stored.request_id == "r-1"
    saved = SunatJob.objects.create(company_id=sale.company_id, document=by_save, kind=JobKind.SEND_DOCUMENT)
    _same(stored, saved, ignore=("document", "request_id", "run_at", "created_at", "updated_at"))


def test_children_are_written_in_their_parents_statement_as_save_writes_them(sale, django_assert_num_queries):
    """A sale with two lines and a payment in one statement, beside the same rows by ``save()``."""
    sale, item = sale
    keys = iter((uuid.uuid4(), uuid.uuid4()))
    numbers = iter((800, 801))

    def family():
        parent = Sale(
            company=sale.company,
            store=sale.store,
            register=sale.register,
            cashier=sale.cashier,
            document_series_id=sale.document_series_id,
            session_id=sale.session_id,
            document_type="03",
            series=sale.series,
            number=next(numbers),
            idempotency_key=next(keys),
            fingerprint="f",
            customer_doc_type="0",
            customer_doc_number="-",
            customer_name="CLIENTES VARIOS",
            gravadas=Decimal("5.93"),
            exoneradas=Decimal("0.00"),
            inafectas=Decimal("0.00"),
            igv=Decimal("1.07"),
            icbper=Decimal("0.00"),
            total=Decimal("7.00"),
            issued_at=sale.issued_at,
        )
        lines = [_line(sale=parent, item=item, line_no=n) for n in (1, 2)]
        # No parent assigned: the statement gives the payment its parent (the checkout relies on it).
        payment = Payment(company_id=sale.company_id, store_id=sale.store_id, method="cash", amount=Decimal("7.00"))
        return parent, [*lines, payment]

    parent, children = family()
    with django_assert_num_queries(1):
        rows_insert([parent], children=children)
        assert all(c.sale is parent for c in children)  # the parent stays cached, as save() leaves it
    assert parent.pk and not parent._state.adding
    assert all(c.sale_id == parent.pk and c.pk and not c._state.adding for c in children)
    assert [c.pk for c in children[:2]] == list(
        SaleLine.objects.filter(sale=parent).order_by("line_no").values_list("pk", flat=True)
    )
    assert children[2].pk == Payment.objects.get(sale=parent).pk
    twin, twin_children = family()
    twin.save(force_insert=True)
    for child in twin_children:
        child.sale = twin
        child.save(force_insert=True)
    _same(
        Sale.objects.get(pk=parent.pk), Sale.objects.get(pk=twin.pk), ignore=("public_id", "idempotency_key", "number")
    )
    for mine, theirs in zip(
        [*SaleLine.objects.filter(sale=parent).order_by("line_no"), Payment.objects.get(sale=parent)],
        [*SaleLine.objects.filter(sale=twin).order_by("line_no"), Payment.objects.get(sale=twin)],
        strict=True,
    ):
        _same(mine, theirs, ignore=("sale",))


def test_a_childs_database_defaults_are_left_to_load_when_read(sale):
    """The job, the document's child: its ``now()`` defaults are not read back by the statement;
    read, they load from the row (the stored values, not ``DatabaseDefault`` placeholders)."""
    sale, _ = sale
    document = SunatDocument(
        company=sale.company,
        store=sale.store,
        document_type="03",
        series="B999",
        number=1,
        issued_at=sale.issued_at,
        snapshot={},
        total=Decimal("1.00"),
    )
    job = SunatJob(company_id=sale.company_id, document=document, kind=JobKind.SEND_DOCUMENT, request_id="r-2")
    rows_insert([document], children=[job])
    assert job.get_deferred_fields() == {"run_at", "created_at", "updated_at"}
    stored = SunatJob.objects.get(document_id=document.pk)
    assert (job.run_at, job.created_at, job.updated_at) == (stored.run_at, stored.created_at, stored.updated_at)
    assert stored.run_at is not None and stored.request_id == "r-2"


def test_a_child_without_one_key_to_its_parent_is_refused(sale):
    sale, _ = sale
    with pytest.raises(TypeError, match="exactly one key to Sale, has 0"):
        rows_insert([Sale()], children=[SunatJob(kind=JobKind.SEND_DOCUMENT)])
    with pytest.raises(ValueError, match="exactly one parent row"):
        rows_insert([Sale(), Sale()], children=[Payment()])
    with pytest.raises(TypeError, match="SaleVoid.sale is one-to-one"):
        rows_insert([Sale()], children=[SaleVoid()])


def test_a_model_with_a_generated_field_is_refused():
    with isolate_apps("stores"):

        class Doubled(models.Model):
            n = models.IntegerField()
            twice = models.GeneratedField(expression=F("n") * 2, output_field=models.IntegerField(), db_persist=True)

            class Meta:
                app_label = "stores"

            def __str__(self) -> str:
                return str(self.n)

        with pytest.raises(TypeError, match="generated fields"):
            rows_insert([Doubled(n=1)])


def test_a_model_read_through_converters_is_refused_by_columns_select():
    """A cursor row is not converted: ``from_db`` would hand ``Wrapped.value`` its raw column."""

    class Upper(models.CharField):
        def from_db_value(self, value, expression, connection):
            return value.upper()

    with isolate_apps("stores"):

        class Wrapped(models.Model):
            value = Upper(max_length=10)

            class Meta:
                app_label = "stores"

            def __str__(self) -> str:
                return self.value

        with pytest.raises(TypeError, match=r"converters: \['value'\]"):
            columns_select(model=Wrapped, alias="w")


def test_the_hot_paths_models_need_no_converters():
    """The models the till reads with a cursor: the user, the register with its store and
    company, the store products with their products."""
    from django.contrib.auth import get_user_model

    from sales.models import Product, StoreProduct
    from stores.models import Company, Register, Store

    for model in (get_user_model(), Register, Store, Company, StoreProduct, Product):
        names, columns = columns_select(model=model, alias="x")
        assert len(names) == columns.count("x.") == len(model._meta.concrete_fields)
