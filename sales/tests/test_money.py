"""sales.money: table-driven, no database."""

from decimal import Decimal as D

import pytest

from sales import money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.665", "2.67"),  # half-even would give 2.66
        ("2.675", "2.68"),
        ("0.005", "0.01"),  # half-even would give 0.00
        ("0.015", "0.02"),
        ("1.004", "1.00"),
        ("-2.665", "-2.67"),  # half up = away from zero
    ],
)
def test_q2_rounds_half_up_not_half_even(value, expected):
    assert money.q2(D(value)) == D(expected)
    assert str(money.q2(D(value))) == expected


@pytest.mark.parametrize(
    ("price", "qty", "aff", "amount", "base", "igv"),
    [
        ("3.50", "2", "10", "7.00", "5.93", "1.07"),
        ("1.00", "1", "10", "1.00", "0.85", "0.15"),
        ("5.99", "1.255", "10", "7.52", "6.37", "1.15"),  # 7.51745 → 7.52
        ("4.20", "3", "20", "12.60", "12.60", "0.00"),
        ("1.05", "3", "30", "3.15", "3.15", "0.00"),
        ("0.10", "1", "10", "0.10", "0.08", "0.02"),
    ],
)
def test_line_amounts_split_base_and_igv_that_add_up(price, qty, aff, amount, base, igv):
    a = money.line_amounts(price=D(price), quantity=D(qty), affectation=aff)
    assert (a.amount, a.base, a.igv) == (D(amount), D(base), D(igv))
    assert a.base + a.igv == a.amount
    assert a.icbper == D("0.00")


def test_icbper_is_bags_times_rate_on_top_of_the_price():
    a = money.line_amounts(price=D("0.10"), quantity=D("3"), affectation="10", icbper_rate=D("0.50"))
    assert a.icbper == D("1.50")
    assert a.total == D("1.80")


def test_unknown_affectation_is_refused():
    with pytest.raises(ValueError):
        money.line_amounts(price=D("1"), quantity=D("1"), affectation="40x")


def test_totals_are_sums_of_rounded_lines_never_re_rounded():
    # three lines of 0.335 each: per line 0.34 (half up) → total 1.02; rounding the sum would give 1.01
    lines = [("10", money.line_amounts(price=D("0.335"), quantity=D("1"), affectation="10")) for _ in range(3)]
    lines.append(("20", money.line_amounts(price=D("2.00"), quantity=D("1"), affectation="20")))
    lines.append(("30", money.line_amounts(price=D("1.00"), quantity=D("2"), affectation="30")))
    lines.append(("10", money.line_amounts(price=D("0.10"), quantity=D("2"), affectation="10", icbper_rate=D("0.50"))))
    t = money.document_totals(lines)
    assert t.gravadas == sum((a.base for aff, a in lines if aff == "10"), D(0))
    assert t.exoneradas == D("2.00") and t.inafectas == D("2.00")
    assert t.igv == sum((a.igv for _, a in lines), D(0))
    assert t.icbper == D("1.00")
    assert t.total == D("1.02") + D("2.00") + D("2.00") + D("0.20") + D("1.00")
    assert t.gravadas + t.exoneradas + t.inafectas + t.igv + t.icbper == t.total


@pytest.mark.parametrize(
    ("amount", "due"),
    [
        ("10.00", "10.00"),
        ("10.09", "10.00"),
        ("10.05", "10.00"),
        ("10.10", "10.10"),
        ("0.09", "0.00"),
        ("23.07", "23.00"),
    ],
)
def test_cash_due_rounds_down_to_ten_centimos(amount, due):
    assert money.cash_due(D(amount)) == D(due)
    assert str(money.cash_due(D(amount))) == due


def test_cash_settlement_keeps_the_rounding_apart():
    s = money.cash_settle(total=D("23.07"), non_cash=D("5.00"), tendered=D("20"))
    assert (s.applied, s.due, s.rounding, s.change) == (D("18.07"), D("18.00"), D("0.07"), D("2.00"))
    assert s.due + s.rounding + D("5.00") == D("23.07")  # the fiscal total is untouched


def test_as_text_has_two_places():
    assert money.as_text(D("0")) == "0.00"
    assert money.as_text(D("12.5")) == "12.50"
