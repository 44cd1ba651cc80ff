from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db.models import Sum
from stdnum import ean

from sales.models import CashSession, Product, StockMovement, StoreProduct
from stores.models import ApproverPin, Company, DocumentSeries, Register, Store
from sunat.models import SunatAccount

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_contract_chain_and_is_idempotent(capsys):
    call_command("seed_demo", password="demo1234")  # defaults: 3 stores, 200 products
    out = capsys.readouterr().out
    assert "demo1234" in out and "cajero3" in out
    call_command("seed_demo", stores=2, products=30, password="demo1234")
    company = Company.objects.get(ruc="20000000001")
    assert list(Store.objects.order_by("code").values_list("code", flat=True)) == ["0000", "0001", "0002"]
    assert Register.objects.filter(code="CAJA1").count() == 3
    assert set(DocumentSeries.objects.values_list("document_type", "series")) == {
        (t, f"{p}{n}") for n in ("001", "002", "003") for t, p in (("03", "B"), ("01", "F"))
    } | {("07", f"{p}{n}") for n in ("01", "02", "03") for p in ("BC", "FC")}
    products = Product.objects.filter(company=company)
    assert products.count() == 200
    assert all(ean.is_valid(p.barcode) and len(p.barcode) == 13 for p in products)
    assert {p.affectation for p in products} == {"10", "20", "30"}
    assert products.filter(is_plastic_bag=True).exists()
    assert products.filter(allows_negative_stock=True).exists()
    assert products.filter(name__icontains="cigarrillos", allows_negative_stock=False).exists()
    assert StoreProduct.objects.count() == 600
    ledger = dict(
        StockMovement.objects.values("store_product").annotate(s=Sum("quantity")).values_list("store_product", "s")
    )
    for sp in StoreProduct.objects.all():
        assert sp.stock >= Decimal("1000")
        assert sp.stock == ledger[sp.pk]
    assert StockMovement.objects.count() == 600  # the second run found nothing to top up
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="cajero1").check_password("demo1234")
    assert users.get(username="cajero2").memberships.get().store.code == "0001"
    manager = users.get(username="gerente2")
    membership = manager.memberships.get()
    assert (membership.store.code, membership.role) == ("0001", "manager") and manager.is_staff
    assert check_password("2468", ApproverPin.objects.get(user=manager, company=company).pin_hash)
    assert not CashSession.objects.exists()  # it opens no cash session
    account = SunatAccount.objects.get(company=company)  # SUNAT beta's test user and a dev certificate
    assert (account.sol_user, account.sol_password) == ("MODDATOS", "moddatos") and account.certificate_expires_at


def test_seed_demo_refuses_bad_arguments():
    with pytest.raises(CommandError):
        call_command("seed_demo", stores=0)
    with pytest.raises(CommandError, match="--pin"):
        call_command("seed_demo", pin="12")
    assert Company.objects.count() == 0
