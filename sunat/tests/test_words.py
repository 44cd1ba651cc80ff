from decimal import Decimal

import pytest

from sunat.words import amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "CERO CON 00/100 SOLES"),
        ("1.00", "UN CON 00/100 SOLES"),
        ("21.10", "VEINTIUN CON 10/100 SOLES"),
        ("120.50", "CIENTO VEINTE CON 50/100 SOLES"),
        ("1001.99", "MIL UN CON 99/100 SOLES"),
        ("700.00", "SETECIENTOS CON 00/100 SOLES"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_refuses_unrounded_amounts():
    with pytest.raises(ValueError):
        amount_in_words(Decimal("1.005"))
