"""Writes of the sunat app (STYLE.md: services for writes, selectors for reads).

* :mod:`.accounts` — ``sunat_account_ensure`` (a company's clave SOL);
* :mod:`.issue` — recording documents, summaries and voids inside the caller's transaction:
  ``sunat_document_issue``, ``sunat_summary_issue``, ``sunat_summary_sequence_next``,
  ``sunat_void_issue``, ``sunat_void_refusal`` and ``VoidRefused``;
* :mod:`.perform` — the worker's side: ``sunat_document_sign`` and ``sunat_job_perform``
  (no transaction open during a SUNAT call).
"""

from __future__ import annotations

from .accounts import sunat_account_ensure
from .issue import (
    VoidRefused,
    sunat_document_issue,
    sunat_summary_issue,
    sunat_summary_sequence_next,
    sunat_void_issue,
    sunat_void_refusal,
)
from .perform import (
    NOTIFY_CHANNEL,
    SUMMARY_ALREADY_PRESENTED,
    SUMMARY_TYPES,
    document_file_name,
    sunat_document_sign,
    sunat_job_perform,
)

__all__ = [
    "NOTIFY_CHANNEL",
    "SUMMARY_ALREADY_PRESENTED",
    "SUMMARY_TYPES",
    "VoidRefused",
    "document_file_name",
    "sunat_account_ensure",
    "sunat_document_issue",
    "sunat_document_sign",
    "sunat_job_perform",
    "sunat_summary_issue",
    "sunat_summary_sequence_next",
    "sunat_void_issue",
    "sunat_void_refusal",
]
