"""Amounts in words for legend 1000 and the printed receipt ("CIENTO VEINTE CON 50/100 SOLES")."""

from __future__ import annotations

from decimal import Decimal

from num2words import num2words

CURRENCY_WORDS = {"PEN": "SOLES", "USD": "DÓLARES AMERICANOS"}


def amount_in_words(amount: Decimal, *, currency: str = "PEN") -> str:
    """Spell a non-negative amount with 2 decimals the way Peruvian receipts do.

    ``Decimal("120.50")`` → ``"CIENTO VEINTE CON 50/100 SOLES"``. The amount must already be
    rounded to céntimos (sales.money); this only formats it.
    """
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"importe no válido para letras: {amount}")
    units = int(amount)
    cents = int((amount - units) * 100)
    words = num2words(units, lang="es").upper()
    # "uno" before a noun is "un" in Spanish: "VEINTIUN SOLES", "UN SOLES" → handled below.
    if words.endswith("UNO"):
        words = words[:-3] + "UN"
    return f"{words} CON {cents:02d}/100 {CURRENCY_WORDS[currency]}"
