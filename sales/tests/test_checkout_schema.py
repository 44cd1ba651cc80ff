"""The checkout parser answers every body of ``checkout_bodies.BODIES`` exactly as recorded in
``data/checkout_parse.json`` (the hand-written parser's answers): the same 400s with the same
Spanish messages in the same order, the same values and the same fingerprint."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from sales.schemas import CartLine, CheckoutInput, CustomerIn, PaymentIn, checkout_body_parse
from sales.services.errors import TillError

from .checkout_bodies import BODIES, FIXTURE, outcome

RECORDED = json.loads(FIXTURE.read_text())


def test_every_body_has_its_recorded_outcome():
    assert [name for name, _ in BODIES] == list(RECORDED)


@pytest.mark.parametrize(("name", "raw"), BODIES, ids=[name for name, _ in BODIES])
def test_the_parser_answers_as_recorded(name, raw):
    assert outcome(checkout_body_parse, raw) == RECORDED[name]


def test_the_service_gets_the_same_types():
    raw = dict(BODIES)["factura with customer and split payment"]
    data = checkout_body_parse(raw)
    assert isinstance(data, CheckoutInput) and isinstance(data.idempotency_key, uuid.UUID)
    assert isinstance(data.customer, CustomerIn)
    assert isinstance(data.lines, tuple) and all(isinstance(line, CartLine) for line in data.lines)
    assert isinstance(data.payments, tuple) and all(isinstance(p, PaymentIn) for p in data.payments)
    assert all(type(line.quantity) is Decimal for line in data.lines)
    assert all(type(p.amount) is Decimal for p in data.payments)
    assert all(type(v) is str for v in (data.register, data.document_type, data.customer.name, data.lines[0].code))


def test_a_400_is_a_till_error_with_lists_of_messages():
    with pytest.raises(TillError) as caught:
        checkout_body_parse(b"{}")
    assert caught.value.status == 400
    assert all(type(messages) is list for messages in caught.value.errors.values())
