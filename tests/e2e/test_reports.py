"""The owner's page in a real browser: the day's charts are drawn (SVGs with data points, sized on
the screen), the page fits a phone, and the sales register downloads and opens with openpyxl."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sales import money
from sales.models import Sale, SaleReturn
from sales.tests.test_reports_api import DAY, chain, day_written, recompute  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, base: str, path: str) -> None:
    page.goto(f"{base}{path}")
    page.fill("#id_username", "duena")
    page.fill("#id_password", "x")
    page.click("#login-submit")
    page.wait_for_selector("svg.pygal-chart")
    # The first chart appears while the page is still being parsed; the others follow it.
    page.wait_for_load_state("load")


def test_the_owner_sees_the_charts_and_downloads_the_register(live_server, page, screenshot, chain, day_written):
    sign_in(page, live_server.url, f"/reports/?date={DAY}")
    expected = recompute(DAY, [chain["a"], chain["b"]])
    assert page.inner_text('[data-figure="net_total"]') == money.as_soles(Decimal(expected["net_total"]))
    assert page.locator("svg.pygal-chart").count() == 5
    points = {
        "#chart-hours": "rect.rect",  # one bar per hour
        "#chart-payments": "path.slice",  # one slice per payment method used
        "#chart-weeks": "circle.dot",  # a dot per day and series
        "#chart-stores": "rect.rect",
        "#chart-cash": "rect.rect",
    }
    for panel, selector in points.items():
        drawn = page.locator(f"{panel} svg {selector}")
        assert drawn.count() > 0, panel
        box = page.locator(f"{panel} svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 60, panel
    assert page.locator("#chart-payments svg path.slice").count() == 4  # cash, card, Yape and Plin were used
    assert page.locator("#chart-weeks svg circle.dot").count() == 14
    screenshot(page, "reports-desktop")

    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = download.value.path()
    assert download.value.suggested_filename.startswith(
        "registro-ventas-"
    ) and download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes())).active  # the download has no extension
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["Fecha", "Hora", "Tienda", "Tipo", "Serie", "Número"]
    documents = (
        Sale.objects.filter(issued_at__date__lte=DAY).count()
        + SaleReturn.objects.filter(issued_at__date__lte=DAY).count()
    )
    assert sheet.max_row == 1 + documents + 1  # header, one row per document up to the day, totals
    assert sheet.cell(sheet.max_row, 1).value == "Total (sin anuladas)"


def test_the_page_fits_a_phone(live_server, browser, chain, day_written, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-PE", is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, f"/reports/?date={DAY}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        box = page.locator("#chart-hours svg").bounding_box()
        assert box and box["width"] <= 390
        screenshot(page, "reports-phone")
    finally:
        context.close()
