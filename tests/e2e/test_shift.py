"""A cashier's shift in a real browser: open the register with a float, sell, take cash out with a
manager's PIN, see the sale in the till's list, close blind by denomination (the manager
authorises the difference) and get the Z report."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sales import money
from sales.models import CashMovement, CashSession, Sale

from .test_checkout import PASSWORD, READY, demo_chain, scan, sellable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_open_sell_cash_out_with_pin_blind_close_and_z(live_server, page, screenshot):
    chain = demo_chain()
    item = sellable(chain["store1"])[0]
    base = live_server.url

    # 1. Open the register: "Abrir caja" with the counted float.
    page.goto(f"{base}/pos/")
    page.fill("#id_username", "cajero1")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#open-session")
    assert "Abrir caja" in page.inner_text("#open-session")
    page.fill("#opening-float", "-5")
    page.click("#open-submit")
    page.wait_for_selector('[data-field="opening_float"]:not([hidden])')
    assert "negativo" in page.inner_text('[data-field="opening_float"]')
    page.fill("#opening-float", "100.00")
    screenshot(page, "shift-open")
    page.click("#open-submit")
    page.wait_for_selector(READY)
    assert "cajero1" in page.inner_text("#shift-bar") and "100.00" in page.inner_text("#shift-bar")
    session = CashSession.objects.get(status="open")

    # 2. Sell one item for exact cash.
    scan(page, item.product.barcode, 1)
    page.click('[data-quick="cash"]')
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/pos/receipts/[0-9a-f-]{36}/$"))
    sale = Sale.objects.get()
    assert sale.session_id == session.pk
    cash_in_drawer = Decimal("100.00") + money.cash_due(sale.total)

    # 3. Cash out: the cashier needs the manager's PIN; a wrong PIN is refused first.
    page.goto(f"{base}/pos/")
    page.wait_for_selector(READY)
    page.keyboard.press("F6")
    page.wait_for_selector("#movement-dialog[open]")
    page.fill("#movement-amount", "20.00")
    page.fill("#movement-reason", "Pago a proveedor de pan")
    page.fill("#movement-approver", "gerente1")
    page.fill("#movement-pin", "0000")
    page.click("#movement-submit")
    page.wait_for_selector('#movement-dialog [data-field="approval"]:not([hidden])')
    assert "rechazada" in page.inner_text('#movement-dialog [data-field="approval"]')
    assert not CashMovement.objects.exists()
    page.fill("#movement-pin", "2468")
    page.click("#movement-submit")
    page.wait_for_selector("#movement-done:not([hidden])")
    assert "Retiro registrado: S/ 20.00" in page.inner_text("#movement-done")
    movement = CashMovement.objects.get()
    assert movement.approved_by.username == "gerente1" and movement.created_by.username == "cajero1"
    cash_in_drawer -= Decimal("20.00")

    # 4. The till's sales list shows the sale with its SUNAT badge and a reprint link.
    page.keyboard.press("F4")
    page.wait_for_url(re.compile(r".*/pos/sales/.*"))
    row = page.locator(f'tr[data-sale="{sale.public_id}"]')
    assert sale.full_number in row.inner_text() and row.locator("a.reprint").count() == 1
    page.fill("#sales-q", sale.full_number)
    page.press("#sales-q", "Enter")
    page.wait_for_selector(f'tr[data-sale="{sale.public_id}"]')

    # 5. Blind close: the page asks for the count, never shows what is expected.
    page.goto(f"{base}/pos/sessions/{session.public_id}/close/")
    assert money.as_text(cash_in_drawer) not in page.inner_text("#close-form")
    # S/ 10 short: count 50 + 20 + coins for the rest of the drawer, minus ten soles.
    short = cash_in_drawer - Decimal("10.00")
    fifties, rest = divmod(short, Decimal("50"))
    page.fill("#count-50.00".replace(".", "\\."), str(int(fifties)))
    tenths = int(rest / Decimal("0.10"))
    page.fill("#count-0.10".replace(".", "\\."), str(tenths))
    assert page.input_value("#counted-cash") == money.as_text(short)
    screenshot(page, "shift-close")
    page.click("#close-submit")
    # Over the S/ 5.00 threshold: a supervisor must authorise; nothing is closed yet.
    page.wait_for_selector("#close-approval:not([hidden])")
    assert CashSession.objects.get(pk=session.pk).status == "open"
    page.fill("#close-approver", "gerente1")
    page.fill("#close-pin", "2468")
    page.click("#close-submit")
    page.wait_for_url(re.compile(rf".*/pos/sessions/{session.public_id}/report/$"))

    # 6. The Z: number, expected, counted and the difference, printable.
    assert page.inner_text("#report-title") == "REPORTE Z N.º 1"
    assert f"S/ {money.as_text(cash_in_drawer)}" in page.inner_text("#r-expected-cash")
    assert "-10.00" in page.inner_text("#report .by-method")
    assert page.locator("#print").is_visible()
    screenshot(page, "shift-z")
    closed = CashSession.objects.get(pk=session.pk)
    assert closed.status == "closed" and closed.close_approved_by.username == "gerente1"
    assert closed.cash_difference == Decimal("-10.00")

    # 7. Back at the till: the register must be opened again before selling.
    page.goto(f"{base}/pos/")
    page.wait_for_selector("#open-session")
