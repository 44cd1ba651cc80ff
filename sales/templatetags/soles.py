"""``{{ amount|soles }}`` → ``S/ 1,234.50`` (es-PE), through :func:`sales.money.as_soles`."""

from __future__ import annotations

from decimal import Decimal

from django import template

from sales import money

register = template.Library()


@register.filter
def soles(value) -> str:
    if value is None or value == "":
        return ""
    return money.as_soles(value if isinstance(value, Decimal) else Decimal(str(value)))


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros: 3.000 → 3, 1.235 → 1.235."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
