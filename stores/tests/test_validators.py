import pytest
from django.core.exceptions import ValidationError

from stores.validators import validate_dni, validate_identity, validate_ruc


@pytest.mark.parametrize("ruc", ["20100070970", "20000000001", "10417844398"])
def test_valid_rucs_pass(ruc):
    validate_ruc(ruc)


@pytest.mark.parametrize("ruc", ["20100070971", "2010007097", "abcdefghijk", ""])
def test_invalid_rucs_fail_in_spanish(ruc):
    with pytest.raises(ValidationError, match="RUC inválido"):
        validate_ruc(ruc)


def test_dni_with_wrong_check_digit_fails():
    validate_dni("10117410")
    validate_dni("101174102")
    with pytest.raises(ValidationError, match="dígito verificador"):
        validate_dni("101174103")


def test_identity_rejects_unknown_type():
    with pytest.raises(ValidationError, match="Tipo de documento"):
        validate_identity(doc_type="9", doc_number="123")
