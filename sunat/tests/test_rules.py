"""SUNAT's fiscal rules have one home (sunat.rules), and the XML builders follow it."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sunat import rules
from sunat import xml as ubl
from sunat.snapshot import Customer
from sunat.tests.scenarios import BOLSA, _boleta, scenario, spec, summary_rc

D = Decimal


@pytest.mark.parametrize(
    "doc_type, doc_number, anonymous, identifies",
    [
        ("0", "-", True, False),  # the anonymous boleta's buyer
        ("", "", True, False),
        ("1", " - ", True, False),  # a type without a number identifies nobody
        ("0", "A1234567", False, False),  # a non-domiciled buyer's tax document: not enough above S/ 700
        ("1", "45678912", False, True),
        ("6", "20100066603", False, True),
        ("7", "AB123456", False, True),
    ],
)
def test_who_is_anonymous_and_who_is_identified(doc_type, doc_number, anonymous, identifies):
    assert rules.buyer_is_anonymous(doc_type=doc_type, doc_number=doc_number) is anonymous
    assert rules.buyer_identifies(doc_type=doc_type, doc_number=doc_number) is identifies
    assert Customer(doc_type=doc_type, doc_number=doc_number, name="X").is_anonymous is anonymous


def test_the_anonymous_buyer():
    assert Customer.anonymous() == Customer(doc_type="0", doc_number="-", name="CLIENTES VARIOS")
    assert Customer.anonymous().is_anonymous


def test_a_boleta_above_700_names_its_buyer_2396():
    assert rules.boleta_buyer_refusal(total=D("700.00"), doc_type="0", doc_number="-") is None
    assert "700.00" in rules.boleta_buyer_refusal(total=D("700.01"), doc_type="0", doc_number="-")
    assert rules.boleta_buyer_refusal(total=D("700.01"), doc_type="0", doc_number="A1234567")
    assert rules.boleta_buyer_refusal(total=D("700.01"), doc_type="1", doc_number="45678912") is None


def test_the_builders_refuse_what_the_rule_refuses():
    """The same rule in the Invoice and the Resumen Diario builders, the till's rule too."""
    over = scenario("boleta-700.01-dni")
    ubl.build(over)
    for buyer in (Customer.anonymous(), Customer(doc_type="0", doc_number="A1234567", name="JOHN DOE")):
        with pytest.raises(ValueError, match="SUNAT 2396"):
            ubl.build(dataclasses.replace(over, customer=buyer))
    summary = summary_rc()
    line = dataclasses.replace(summary.lines[0], total=D("700.01"), customer_doc_type="", customer_doc_number="")
    with pytest.raises(ValueError, match="SUNAT 2396"):
        ubl.build(dataclasses.replace(summary, lines=(line,)))


@pytest.mark.parametrize(
    "affectation, base, igv, missing",
    [
        ("10", D("0.03"), D("0.00"), True),  # S/ 0.03 with IGV: 0.03 + 0.00
        ("10", D("0.03"), D("0.01"), False),  # S/ 0.04
        ("17", D("5.00"), D("0.00"), True),  # every gravado code 10–17
        ("20", D("0.01"), D("0.00"), False),  # exonerado: no IGV to miss
        ("30", D("0.01"), D("0.00"), False),
        ("10", D("0.00"), D("0.00"), False),  # no value: another rule's business
    ],
)
def test_a_taxed_line_carries_igv_3111(affectation, base, igv, missing):
    assert rules.taxed_line_igv_missing(affectation=affectation, base=base, igv=igv) is missing


@pytest.mark.parametrize(
    "on, rate",
    [
        (date(2019, 7, 31), None),
        (date(2019, 8, 1), D("0.10")),
        (date(2020, 12, 31), D("0.20")),
        (date(2022, 6, 1), D("0.40")),
        (date(2023, 1, 1), D("0.50")),
        (date(2031, 1, 1), D("0.50")),
    ],
)
def test_icbper_rate_by_fiscal_date(on, rate):
    assert rules.icbper_rate(on=on) == rate


def test_a_bag_at_another_years_rate_is_refused_3238_but_a_note_keeps_its_originals():
    boleta = _boleta(40, [spec("ARROZ", "4.20"), BOLSA])
    ubl.build(boleta)
    bag = boleta.lines[1]
    stale = dataclasses.replace(bag, icbper_unit=D("0.40"), icbper=D("0.80"))
    with pytest.raises(ValueError, match="SUNAT 3238"):
        ubl.build(dataclasses.replace(boleta, lines=(boleta.lines[0], stale)))
    note = scenario("nc-boleta-07-parcial")  # returns a bag sold when the rate was S/ 0.40
    old = tuple(dataclasses.replace(line, icbper_unit=D("0.40")) if line.icbper else line for line in note.lines)
    assert old != note.lines
    ubl.build(dataclasses.replace(note, lines=old))


def test_fiscal_dates_are_perus():
    assert rules.fiscal_date(datetime(2026, 1, 1, 4, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert rules.fiscal_date(datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == date(2026, 1, 1)
    with pytest.raises(ValueError, match="zona horaria"):
        rules.fiscal_date(datetime(2026, 1, 1, 5, 0))  # noqa: DTZ001 - the naive datetime under test


def _rule_copies(tree: ast.AST) -> list[str]:
    """The literals of sunat.rules' rules found in ``tree``'s code (docstrings and comments aside)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in ("America/Lima", "CLIENTES VARIOS"):
            found.append(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Decimal", "D", "date"):
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if args in (["700.00"], ["700"], [2019, 8, 1]):
                found.append(f"{node.func.id}{tuple(args)}")
        elif isinstance(node, ast.Tuple) and {e.value for e in node.elts if isinstance(e, ast.Constant)} == {"", "-"}:
            found.append('("", "-")')  # doc_number in ("", "-"): the anonymous buyer's test
    return found


def test_no_other_sunat_module_keeps_a_copy_of_a_rule():
    """Lima's zone, the S/ 700 limit, the anonymous buyer and the ICBPER schedule live in
    sunat/rules.py only (tests and migrations aside)."""
    root = Path(rules.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative == Path("rules.py") or relative.parts[0] in ("tests", "migrations"):
            continue
        found += [f"{relative}: {copy}" for copy in _rule_copies(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == []
    assert _rule_copies(ast.parse(Path(rules.__file__).read_text(encoding="utf-8")))  # the check sees them
