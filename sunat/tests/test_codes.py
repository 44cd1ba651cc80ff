"""The one classification: every answer class maps to a worker step and a document status."""

from __future__ import annotations

import pytest

from sunat.codes import Category, Source, code_describe, code_message, response_classify
from sunat.models import DocumentStatus
from sunat.outcomes import NextStep
from sunat.tests.sunat_files import sunat_file


@pytest.mark.parametrize(
    ("source", "code", "notes", "category", "step", "status"),
    [
        (Source.CDR, "0", (), Category.ACCEPTED, NextStep.DONE, DocumentStatus.ACCEPTED),
        (Source.CDR, "0", ("4252 - x",), Category.OBSERVED, NextStep.DONE, DocumentStatus.OBSERVED),
        (Source.CDR, "4031", (), Category.OBSERVED, NextStep.DONE, DocumentStatus.OBSERVED),
        (Source.CDR, "2800", (), Category.REJECTED, NextStep.DONE, DocumentStatus.REJECTED),
        (Source.CDR, "3030", (), Category.REJECTED, NextStep.DONE, DocumentStatus.REJECTED),
        (Source.CDR, "0109", (), Category.RETRY, NextStep.RETRY, DocumentStatus.PENDING),
        (Source.FAULT, "2800", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "0306", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "0151", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "0161", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "1034", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "2335", (), Category.FIX, NextStep.FIX, DocumentStatus.ERROR),
        (Source.FAULT, "1032", (), Category.REJECTED, NextStep.DONE, DocumentStatus.REJECTED),
        (Source.FAULT, "1033", (), Category.REGISTERED, NextStep.DONE, DocumentStatus.ACCEPTED),
        (Source.FAULT, "4000", (), Category.REGISTERED, NextStep.DONE, DocumentStatus.ACCEPTED),
        (Source.TICKET, "98", (), Category.IN_PROCESS, NextStep.SNOOZE, DocumentStatus.PENDING),
        (Source.FAULT, "", (), Category.RETRY, NextStep.RETRY, DocumentStatus.PENDING),  # "Client Internal Error"
    ],
)
def test_classification_table(source, code, notes, category, step, status):
    result = response_classify(source=source, code=code, notes=notes)
    assert (result.category, result.step, result.status) == (category, step, status)


@pytest.mark.parametrize(
    "code", ["0100", "0109", "0125", "0130", "0133", "0138", "0140", "0200", "0204", "0250", "0253", "0307"]
)
def test_transient_sunat_faults_retry(code):
    result = response_classify(source=Source.FAULT, code=code)
    assert result.step is NextStep.RETRY and result.category is Category.RETRY


@pytest.mark.parametrize(
    "code",
    ["0101", "0102", "0103", "0104", "0105", "0106", "0110", "0111", "0112", "0113", "0154", "2325", "2326", "2327"],
)
def test_configuration_faults_pause_the_company(code):
    result = response_classify(source=Source.FAULT, code=code)
    assert result.step is NextStep.PAUSE_COMPANY and result.category is Category.CONFIG
    assert result.status == DocumentStatus.PENDING


@pytest.mark.parametrize("code", ["0152", "0155", "0156", "0157", "0158", "0159", "0160", "1001", "1099", "3999"])
def test_other_faults_are_fixes_with_a_reusable_number(code):
    assert response_classify(source=Source.FAULT, code=code).step is NextStep.FIX


@pytest.mark.parametrize(
    ("code", "reached", "verify"),
    [
        ("connect-error", False, False),
        ("connect-timeout", False, False),
        ("read-timeout", True, True),
        ("connection-dropped", True, True),
        ("http-503", True, True),
        ("http-502", True, True),
        ("bad-response", True, True),
        ("http-404", False, False),
    ],
)
def test_transport_failures_retry_and_verify_only_when_sunat_may_have_it(code, reached, verify):
    result = response_classify(source=Source.TRANSPORT, code=code, reached=reached)
    assert result.step is NextStep.RETRY
    assert result.verify_next is verify


def test_fault_code_digits_normalized_and_messages_from_sunat_catalog(settings):
    sunat_file("errors", "sfs-CatalogoErrores.xml")
    assert response_classify(source=Source.FAULT, code="306").code == "0306"
    assert code_message("0306") == "No se puede leer (parsear) el archivo XML"
    assert code_message("2335") == "El documento electrónico ingresado ha sido alterado"
    assert code_describe("1033").startswith("1033 - El comprobante fue registrado previamente")


def test_without_catalog_the_code_stands_alone(settings, tmp_path):
    settings.SUNAT_SCHEMA_DIR = str(tmp_path)
    assert code_message("0306") == ""
    assert code_describe("0306") == "0306"
    assert response_classify(source=Source.FAULT, code="0306").message == ""
