"""Returns and voids in a real browser, from the till's sales list: a cashier returns part of a
sale with a manager's PIN and gets the credit note's receipt; then voids another sale."""

from __future__ import annotations

import re

import pytest

from sales.models import SaleReturn, SaleVoid

from .test_checkout import READY, demo_chain, login, scan, sellable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sell_two(page, item) -> None:
    scan(page, item.product.barcode, 1)
    page.locator('#cart-body tr[data-index="0"] .qty-input').fill("2")
    page.click('[data-quick="cash"]')
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/pos/receipts/[0-9a-f-]{36}/$"))


def test_return_with_a_pin_then_void_from_the_sales_list(live_server, page, screenshot):
    chain = demo_chain()
    item = sellable(chain["store1"])[0]
    base = live_server.url
    login(page, base, "cajero1")
    sell_two(page, item)
    first_url = page.url
    page.goto(f"{base}/pos/")
    page.wait_for_selector(READY)
    sell_two(page, item)

    # The first sale: return one unit (not restocked), refunded in cash, with the manager's PIN.
    page.goto(f"{base}/pos/sales/")
    sale_id = first_url.rstrip("/").split("/")[-1]
    page.click(f'tr[data-sale="{sale_id}"] a.return')
    page.wait_for_selector("#return-form")
    page.fill('.return-qty[data-line="1"]', "1")
    page.uncheck('.return-restock[data-line="1"]')
    page.wait_for_function(f"document.getElementById('return-total').textContent === '{item.price}'")
    page.fill("#return-reason", "Lata abollada")
    page.click("#return-submit")
    page.wait_for_selector("#return-approval:not([hidden])")  # a cashier: the PIN is asked for
    assert not SaleReturn.objects.exists()
    page.fill("#return-approver", "gerente1")
    page.fill("#return-pin", "2468")
    screenshot(page, "return")
    page.click("#return-submit")
    page.wait_for_url(re.compile(r".*/pos/returns/[0-9a-f-]{36}/$"))
    assert page.inner_text("#doc-title") == "NOTA DE CRÉDITO ELECTRÓNICA"
    assert re.fullmatch(r"BC\d{2}-1", page.inner_text("#doc-number"))
    assert "BOLETA DE VENTA ELECTRÓNICA" in page.inner_text("#modified")
    assert page.inner_text("#total") == f"S/ {item.price}"
    assert page.locator("#qr svg").count() == 1
    screenshot(page, "return-receipt")
    note = SaleReturn.objects.get()
    assert note.approved_by.username == "gerente1" and not note.lines.get().restock

    # The second sale: void it.
    page.goto(f"{base}/pos/sales/")
    other = page.locator("tr[data-sale]").first.get_attribute("data-sale")
    assert other != sale_id
    page.click(f'tr[data-sale="{other}"] a.return')
    page.wait_for_selector("#void-form")
    page.fill("#void-reason", "Venta registrada dos veces")
    page.fill("#void-approver", "gerente1")
    page.fill("#void-pin", "2468")
    page.click("#void-submit")
    page.wait_for_function("document.getElementById('sale-status').textContent.trim() === 'Anulándose'")
    assert SaleVoid.objects.get().sale.public_id.hex == other.replace("-", "")
    # Back in the list: the voiding sale has no return button any more.
    page.goto(f"{base}/pos/sales/")
    assert page.locator(f'tr[data-sale="{other}"] a.return').count() == 0
    assert "Anulándose" in page.inner_text(f'tr[data-sale="{other}"]')
