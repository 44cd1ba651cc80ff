"""``/reports/`` and the sales register exports (``/reports/sales.xlsx``, ``.csv``): what the
owner sees, who may see it, and the register's rows against the documents written."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest

from sales import money
from sales.models import Sale, SaleReturn
from sales.tests.test_reports_api import DAY, chain, day_written, recompute  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_page_shows_the_day_with_charts_in_soles(client, chain, day_written):
    client.force_login(chain["owner"])
    response = client.get(f"/reports/?date={DAY}")
    assert response.status_code == 200
    html = response.content.decode()
    expected = recompute(DAY, [chain["a"], chain["b"]])
    net = D(expected["net_total"])
    assert f'data-figure="net_total">{money.as_soles(net)}<' in html
    assert f'data-figure="tickets">{expected["sales"]["count"]}<' in html
    svgs = re.findall(r"<svg[^>]*class=\"pygal-chart\"", html)
    assert len(svgs) == 5  # hours, payments, weeks, stores, cashiers
    assert "http://" not in re.sub(r'xmlns(:xlink)?="[^"]*"|<!--.*?-->', "", html) and "https://" not in html
    assert "Datos de la base principal" in html
    rejected = Sale.objects.get(pk=day_written["sold"]["s3"].pk)
    assert f"/admin/sunat/sunatdocument/{rejected.sunat_document_id}/change/" in html
    assert "-S/ 1.30" in html  # Ana's drawer came up short
    assert re.search(r"S/ \d{1,3}(,\d{3})*\.\d{2}", html)


def test_the_page_for_one_store_and_for_a_manager(client, chain, day_written):
    client.force_login(chain["manager"])
    html = client.get(f"/reports/?date={DAY}").content.decode()
    assert "Tienda 1" in html and "Tienda 2" not in html  # store B is not theirs
    assert client.get(f"/reports/?date={DAY}&store=0001").status_code == 404
    client.force_login(chain["owner"])
    html = client.get(f"/reports/?date={DAY}&store=0001").content.decode()
    expected = recompute(DAY, [chain["b"]])
    assert f'data-figure="net_total">{money.as_soles(D(expected["net_total"]))}<' in html


def test_cashiers_get_403_bad_dates_400_and_anonymous_users_the_login(client, chain):
    assert client.get("/reports/")["Location"].startswith("/accounts/login/")
    client.force_login(chain["ana"])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/sales.xlsx").status_code == 403
    client.force_login(chain["owner"])
    response = client.get("/reports/?date=31-02-2026")
    assert response.status_code == 400 and "Fecha inválida" in response.content.decode()


def _xlsx(client, query):
    response = client.get(f"/reports/sales.xlsx?{query}")
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_the_xlsx_register_has_one_row_per_document_notes_referencing_their_original_and_totals(
    client, chain, day_written
):
    client.force_login(chain["owner"])
    start, end = DAY - timedelta(days=1), DAY + timedelta(days=1)
    ws = _xlsx(client, f"from={start}&to={end}")
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    body, totals = rows[:-1], rows[-1]
    sales = list(Sale.objects.all())
    notes = list(SaleReturn.objects.select_related("sale"))
    assert len(body) == len(sales) + len(notes)
    numbers = {(r[4], r[5]) for r in body}
    assert numbers == {(s.series, s.number) for s in sales} | {(n.series, n.number) for n in notes}
    for note in notes:
        row = next(r for r in body if (r[4], r[5]) == (note.series, note.number))
        assert (
            row[3] == "07 N. crédito" and row[16] == f"{note.sale.document_type} {note.sale.series}-{note.sale.number}"
        )
        assert D(str(row[14])) == -note.total
    voided = day_written["sold"]["s6"]
    assert next(r for r in body if r[5] == voided.number and r[4] == voided.series)[15] == "Anulación pendiente"
    counted = [s.total for s in sales if s.pk != voided.pk] + [-n.total for n in notes]
    assert totals[0] == "Total (sin anuladas)" and D(str(totals[14])).quantize(D("0.01")) == sum(counted, D(0))
    assert ws["A2"].number_format == "DD/MM/YYYY" and ws["J2"].number_format == "#,##0.00"
    dates = [r[0].date() for r in body]
    assert dates == sorted(dates) and min(dates) == start and max(dates) == end


def test_the_csv_register_matches_the_xlsx(client, chain, day_written):
    client.force_login(chain["owner"])
    response = client.get(f"/reports/sales.csv?from={DAY}&to={DAY}&store=0000")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="registro-ventas-0000-' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Fecha", "Hora", "Tienda"]
    body = rows[1:-1]
    assert {r[2] for r in body} == {"0000"} and {r[0] for r in body} == {DAY.isoformat()}
    ws = _xlsx(client, f"from={DAY}&to={DAY}&store=0000")
    assert [r[5] for r in body] == [str(r[5].value) for r in ws.iter_rows(min_row=2, max_row=ws.max_row - 1)]
    assert rows[-1][14] == money.as_text(D(str(ws.cell(ws.max_row, 15).value)).quantize(D("0.01")))


@pytest.mark.parametrize(
    ("query", "status", "errors"),
    [
        ("from=2025-01-01&to=2026-01-02", 400, {"to": ["El rango no puede pasar de 366 días."]}),
        ("from=2026-03-10&to=2026-03-01", 400, {"to": ["La fecha final es anterior a la inicial."]}),
        ("from=2026-3-1", 400, {"from": ["Fecha inválida: use AAAA-MM-DD."]}),
        ("store=7777", 404, {"store": ["Tienda no encontrada."]}),
    ],
)
def test_bad_export_requests_are_clear_and_return_nothing_else(client, chain, query, status, errors):
    client.force_login(chain["owner"])
    for extension in ("xlsx", "csv"):
        response = client.get(f"/reports/sales.{extension}?{query}")
        assert response.status_code == status
        assert response.json() == {"errors": errors}


def test_a_year_and_a_day_is_refused_but_366_days_are_fine(client, chain):
    client.force_login(chain["owner"])
    assert client.get("/reports/sales.csv?from=2024-01-01&to=2024-12-31").status_code == 200  # 366 days (leap year)
    assert client.get("/reports/sales.csv?from=2024-01-01&to=2025-01-01").status_code == 400
