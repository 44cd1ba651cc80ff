"""The till in a real browser: log in, scan, take cash, confirm, see the receipt; and tenancy."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command, get_commands

from sales import money
from sales.models import StoreProduct
from stores.models import Register, Store

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-e2e-1234"
# The checkout page with its script running and the scan box focused.
READY = "#pos[data-ready=true] #scan:focus"


def demo_chain() -> dict:
    """Two stores with a cashier each: ``seed_demo`` when it exists, else the sales factories."""
    from django.contrib.auth import get_user_model

    if "seed_demo" in get_commands():
        call_command("seed_demo", stores=2, products=20, password=PASSWORD, verbosity=0)
        store1 = Store.objects.get(code="0000")
        store2 = Store.objects.get(code="0001")
    else:
        from sales.tests.factories import cashier_make, company_make, product_make, store_make

        company = company_make()
        store1, _ = store_make(company=company, code="0000", n=1)
        store2, _ = store_make(company=company, code="0001", n=2)
        for n, store in ((1, store1), (2, store2)):
            user = cashier_make(store=store, username=f"cajero{n}")
            user.set_password(PASSWORD)
            user.save()
        for price in ("3.50", "4.20", "2.80"):
            for store in (store1, store2):
                product_make(store=store, price=price, stock="1000")
    users = get_user_model().objects
    return {
        "store1": store1,
        "store2": store2,
        "cashier1": users.get(username="cajero1"),
        "cashier2": users.get(username="cajero2"),
        "register2": Register.objects.get(store=store2, code="CAJA1"),
    }


def sellable(store: Store) -> list[StoreProduct]:
    """Gravado items (not bags) with a barcode and plenty of stock, cheapest first."""
    return list(
        StoreProduct.objects.select_related("product")
        .filter(
            store=store,
            is_active=True,
            product__is_active=True,
            product__is_plastic_bag=False,
            product__affectation="10",
            product__barcode__isnull=False,
            stock__gte=10,
            price__gt=0,
        )
        .order_by("price", "id")
    )


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/pos/")
    assert "/accounts/login/" in page.url  # the page sends anonymous users to the login
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/pos/(\?.*)?$"))
    open_register(page)


def open_register(page, opening_float: str = "100.00") -> None:
    """On /pos/: open the register's cash session with ``opening_float`` when it has none ("Abrir
    caja"), then wait for the checkout's scan box."""
    page.wait_for_selector(f"{READY}, #open-session")
    if page.locator("#open-session").count():
        page.fill("#opening-float", opening_float)
        page.click("#open-submit")
    page.wait_for_selector(READY)


def scan(page, barcode: str, expected_rows: int) -> None:
    page.keyboard.type(barcode)  # the scan box has the focus, like a USB scanner typing
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#cart-body tr[data-index]').length === n", arg=expected_rows
    )


def test_cashier_scans_two_items_pays_cash_and_gets_the_receipt(live_server, page, screenshot):
    chain = demo_chain()
    first, second = sellable(chain["store1"])[:2]
    total = first.price + second.price
    tendered = Decimal("100.00")
    change = tendered - money.cash_due(total)

    login(page, live_server.url, "cajero1")
    # Like a USB scanner: the second code is typed while the first lookup is still in flight.
    page.keyboard.type(first.product.barcode)
    page.keyboard.press("Enter")
    page.keyboard.type(second.product.barcode)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#cart-body tr[data-index]').length === 2")
    assert [row.get_attribute("data-barcode") for row in page.locator("#cart-body tr[data-index]").all()] == [
        first.product.barcode,
        second.product.barcode,
    ]
    assert page.inner_text("#t-total") == f"{total}"

    page.keyboard.press("F8")  # to the cash box
    page.keyboard.type(f"{tendered}")
    assert page.inner_text("#change") == f"{change}"
    screenshot(page, "pos")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/pos/receipts/[0-9a-f-]{36}/$"))

    assert page.inner_text("#total") == f"S/ {total}"
    assert page.inner_text("#change") == f"S/ {change}"
    assert re.fullmatch(r"B\d{3}-\d+", page.inner_text("#doc-number"))
    assert page.inner_text("#doc-title") == "BOLETA DE VENTA ELECTRÓNICA"
    assert page.inner_text("#in-words").startswith("SON: ")
    assert page.locator("#qr svg").count() == 1
    assert first.product.name in page.inner_text("#receipt")
    screenshot(page, "receipt")

    # The sale exists once, with the prices from the database.
    from sales.models import Sale

    sale = Sale.objects.get()
    assert sale.total == total and sale.change == change and sale.store_id == chain["store1"].pk


def test_double_click_on_confirm_makes_one_sale(live_server, page):
    chain = demo_chain()
    item = sellable(chain["store1"])[0]
    login(page, live_server.url, "cajero1")
    scan(page, item.product.barcode, 1)
    page.click('[data-quick="card"]')
    page.locator("#confirm").dblclick()
    page.wait_for_url(re.compile(r".*/pos/receipts/[0-9a-f-]{36}/$"))
    from sales.models import Sale

    assert Sale.objects.count() == 1


def test_cashier_of_store_1_cannot_see_or_sell_store_2(live_server, page):
    from sales.models import Product
    from sales.schemas import CartLine, PaymentIn
    from sales.services.checkout import sale_checkout

    chain = demo_chain()
    store2_item = sellable(chain["store2"])[0]
    from sales.tests.factories import session_ensure

    session_ensure(register=chain["register2"], user=chain["cashier2"])
    sale2, _ = sale_checkout(
        cashier=chain["cashier2"],
        register=chain["register2"],
        idempotency_key=uuid.uuid4(),
        fingerprint=uuid.uuid4().hex,
        document_type="03",
        customer=None,
        lines=[CartLine(kind="barcode", code=store2_item.product.barcode, quantity=Decimal("1"))],
        payments=[PaymentIn(method="card", amount=store2_item.price)],
    )
    # A product sold only in store 2 (same company, not in store 1's shelf).
    from sales.tests.factories import ean13

    only2 = Product.objects.create(
        company=chain["store2"].company, sku="SOLO-T2", barcode=ean13(987654), name="Solo tienda dos"
    )
    StoreProduct.objects.create(company=only2.company, store=chain["store2"], product=only2, price=Decimal("9.90"))

    login(page, live_server.url, "cajero1")

    # 1. The store-2 receipt is a 404, exactly like a receipt that does not exist.
    foreign = page.goto(f"{live_server.url}/pos/receipts/{sale2.public_id}/")
    foreign_body = page.content()
    missing = page.goto(f"{live_server.url}/pos/receipts/{uuid.uuid4()}/")
    assert foreign.status == 404 and missing.status == 404
    assert foreign_body == page.content()

    # 2. Scanning the store-2-only barcode finds nothing in store 1.
    page.goto(f"{live_server.url}/pos/")
    page.wait_for_selector(READY)
    page.keyboard.type(only2.barcode)
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-error:not([hidden])")
    assert "no encontrado" in page.inner_text("#scan-error")
    assert page.locator("#cart-body tr[data-index]").count() == 0

    # 3. The API refuses it even when posted directly, with the session and CSRF of the page.
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": only2.barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
    answer = page.evaluate(
        """async (body) => {
            const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
            const r = await fetch("/api/v1/checkout", {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: JSON.stringify(body)});
            return {status: r.status, body: await r.text()};
        }""",
        body,
    )
    assert answer["status"] == 400, answer
    assert "lines" in json.loads(answer["body"])["errors"]
    from sales.models import Sale

    assert Sale.objects.filter(store=chain["store1"]).count() == 0
    store2_item.refresh_from_db()


def test_search_by_name_edit_quantity_remove_and_factura_errors_then_split_payment(live_server, page, screenshot):
    from sales.models import Payment, Sale
    from sales.tests.factories import product_make

    chain = demo_chain()
    store1 = chain["store1"]
    product_make(store=store1, price="1.00", stock="500", name="Galleta Soda Zzyzx")
    casino = product_make(store=store1, price="0.80", stock="500", name="Galleta Casino Zzyzx")
    product_make(store=store1, price="4.50", stock="500", name="Leche Evaporada Zzyzx")

    login(page, live_server.url, "cajero1")
    # Search by name: two matches, a list; arrow down + Enter picks the second (by name order).
    page.keyboard.type("zzyzx")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results:not([hidden]) li")
    names = page.locator("#results li").all_inner_texts()
    assert len(names) == 3 and names[0].startswith("Galleta Casino")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#cart-body tr[data-index]').length === 1")
    assert "Leche Evaporada" in page.inner_text("#cart-body")
    scan(page, casino.product.barcode, 2)

    # Quantity edit and line removal.
    page.locator('#cart-body tr[data-index="1"] .qty-input').fill("3")
    assert page.inner_text("#t-total") == "6.90"  # 4.50 + 3 × 0.80
    page.locator('#cart-body tr[data-index="0"] .remove').click()
    page.wait_for_function("document.querySelectorAll('#cart-body tr[data-index]').length === 1")
    assert page.inner_text("#t-total") == "2.40"

    # Factura without a customer: the server's Spanish error shows next to the customer box.
    page.check('input[name="document_type"][value="01"]')
    page.click('[data-quick="card"]')
    page.click("#confirm")
    page.wait_for_selector(
        '[data-field="customer"]:not([hidden]), [data-field="customer.doc_type"]:not([hidden]), [data-field="customer.doc_number"]:not([hidden])'
    )
    assert "RUC" in page.inner_text("#customer")
    assert Sale.objects.count() == 0
    assert page.locator("#confirm").is_enabled()  # re-enabled for the corrected retry
    screenshot(page, "pos-error")

    # An invalid RUC check digit: the field error comes back in Spanish, still no sale.
    page.fill("#customer-doc-number", "20100070971")
    page.fill("#customer-name", "SUPERMERCADOS PERUANOS S.A.")
    page.click("#confirm")
    page.wait_for_selector('[data-field="customer.doc_number"]:not([hidden])')
    assert "RUC inválido" in page.inner_text('[data-field="customer.doc_number"]')
    assert Sale.objects.count() == 0

    # Fixed RUC, split payment: 1.00 by Yape, the rest in cash.
    page.fill("#customer-doc-number", "20100070970")
    page.fill("#pay-card", "")
    page.fill("#pay-yape", "1.00")
    page.fill("#pay-cash", "5.00")
    assert page.inner_text("#change") == "3.60"  # cash part 1.40 (already a multiple of 0.10)
    page.keyboard.press("F9")
    page.wait_for_url(re.compile(r".*/pos/receipts/[0-9a-f-]{36}/$"))
    assert page.inner_text("#doc-title") == "FACTURA ELECTRÓNICA"
    assert re.fullmatch(r"F\d{3}-\d+", page.inner_text("#doc-number"))
    assert "20100070970" in page.inner_text("#customer")
    assert page.inner_text("#total") == "S/ 2.40" and page.inner_text("#change") == "S/ 3.60"
    payments_text = page.inner_text("#payments")
    assert "Yape" in payments_text and "Efectivo" in payments_text
    sale = Sale.objects.get()
    assert sorted(Payment.objects.filter(sale=sale).values_list("method", flat=True)) == ["cash", "yape"]
    assert sale.customer_doc_number == "20100070970" and sale.document_type == "01"
