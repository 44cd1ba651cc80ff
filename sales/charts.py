"""The reports' charts: SVG drawn on the server by pygal, embedded in the page as they are.

Nothing is fetched at run time: pygal's tooltip script (an external URL by default) is turned
off (``js=[]``); the SVG carries its own styles. Each function takes figures already computed
by :mod:`sales.selectors.reports` and returns the ``<svg>`` markup (safe to embed: pygal
escapes labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pygal
from pygal.style import Style

from sales import money

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d232a",
    foreground_strong="#1d232a",
    foreground_subtle="#66707a",
    colors=("#1769aa", "#f5b83d", "#2e7d32", "#c62828", "#6a1b9a", "#00838f"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    no_data_font_size=20,
)
BASE = {
    "style": STYLE,
    "js": [],  # no external tooltip script
    "disable_xml_declaration": True,
    "width": 520,
    "height": 280,
    "truncate_label": 14,
    "margin": 8,
    "print_values": False,
    "value_formatter": lambda v: money.as_soles(Decimal(str(v))) if v is not None else "",
    "no_data_text": "Sin datos",
}


def _render(chart) -> str:
    return chart.render(is_unicode=True)


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(v) for v in values]


def chart_by_hour(*, hours: Sequence[tuple[int, Decimal]], title: str = "Venta neta por hora") -> str:
    """Bars of net sales per hour of the day (0–23, Lima)."""
    chart = pygal.Bar(**BASE, title=title, show_legend=False, x_label_rotation=0)
    chart.x_labels = [f"{h:02d}" for h, _ in hours]
    chart.x_labels_major_every = 3
    chart.show_minor_x_labels = False
    chart.add("Venta neta", _floats([v for _, v in hours]))
    return _render(chart)


def chart_payment_mix(*, payments: dict[str, Decimal], labels: dict[str, str]) -> str:
    """A ring of what the day's sales were paid with."""
    chart = pygal.Pie(**{**BASE, "height": 260}, title="Medios de pago", inner_radius=0.45, legend_at_bottom=True)
    for method, amount in payments.items():
        if amount > 0:
            chart.add(labels[method], float(amount))
    return _render(chart)


def chart_weeks(*, labels: Sequence[str], this_week: Sequence[Decimal], last_week: Sequence[Decimal]) -> str:
    """Lines of the last 7 days against the 7 before (aligned by weekday)."""
    chart = pygal.Line(
        **BASE,
        title="Últimos 7 días vs. los 7 anteriores",
        legend_at_bottom=True,
        dots_size=4,
        y_labels_major_count=5,
        show_minor_y_labels=False,
        x_label_rotation=30,
    )
    chart.x_labels = list(labels)
    chart.add("Últimos 7 días", _floats(this_week))
    chart.add("7 días anteriores", _floats(last_week), stroke_style={"dasharray": "6, 4"})
    return _render(chart)


def chart_stores(*, stores: Sequence[tuple[str, Decimal, Decimal]]) -> str:
    """Each store's net sales of the day beside the same weekday a week before."""
    chart = pygal.HorizontalBar(
        **{**BASE, "height": max(180, 40 + 34 * len(stores))},
        title="Tiendas: hoy vs. mismo día de la semana pasada",
        legend_at_bottom=True,
    )
    chart.x_labels = [name for name, _, _ in stores]
    chart.add("Día elegido", _floats([today for _, today, _ in stores]))
    chart.add("Semana pasada", _floats([before for _, _, before in stores]))
    return _render(chart)


def chart_cash_differences(*, cashiers: Sequence[tuple[str, Decimal]]) -> str:
    """Each user's summed cash difference over 30 days (below zero: the drawer came up short)."""
    chart = pygal.HorizontalBar(
        **{**BASE, "height": max(160, 40 + 30 * len(cashiers))}, title="Diferencia de caja (30 días)", show_legend=False
    )
    chart.x_labels = [name for name, _ in cashiers]
    chart.add(
        "Diferencia",
        [{"value": float(v), "color": "#c62828" if v < 0 else "#2e7d32"} for _, v in cashiers],
    )
    return _render(chart)
