"""The seam between the sunat app and the worker: what performing one job asks the queue to do.

``sunat.services.sunat_job_perform(job=...)`` (the sunat app) does the SUNAT work for one
claimed job — build and sign (storing the exact bytes before the first send), send or verify,
store the CDR and the document's status — and returns a :class:`JobOutcome`. The worker only
schedules: it never looks at SUNAT codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class NextStep(str, Enum):
    DONE = "done"  # terminal for this job (accepted, observed, rejected in a CDR, registered)
    RETRY = "retry"  # transient: run again after the next delay of SUNAT_RETRY_DELAYS, or die
    FIX = "fix"  # fault a person must fix (number reusable): job -> failed, no retry
    PAUSE_COMPANY = "pause"  # configuration error: pause every job of the company
    SNOOZE = "snooze"  # not an attempt (ticket answered 98): run again after `delay_seconds`


@dataclass(frozen=True)
class JobOutcome:
    step: NextStep
    code: str = ""  # SUNAT return code or a short transport tag ("timeout", "http-503")
    message: str = ""  # readable, Spanish where it comes from SUNAT's catalog
    # The request may have reached SUNAT (timeout after sending, connection dropped): the next
    # attempt must ask SUNAT (getStatusCdr) or re-send the same bytes expecting 1033, never
    # build a new document.
    verify_next: bool = False
    delay_seconds: float | None = None  # SNOOZE only
