"""SUNAT's own files for tests (``settings.SUNAT_SCHEMA_DIR``, read in place, never copied into the
repository): a test that needs one skips with the reason when it is absent (a fresh clone without
``../shared``; ``.ci/run`` also runs the suite with an empty ``SUNAT_SCHEMA_DIR``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings


def sunat_file(*parts: str) -> Path:
    """``SUNAT_SCHEMA_DIR/<parts>``, or skip the calling test when it is not there."""
    base = str(getattr(settings, "SUNAT_SCHEMA_DIR", "") or "")
    path = Path(base, *parts)
    if not base or not path.is_file():
        pytest.skip(f"SUNAT's {'/'.join(parts)} is not in SUNAT_SCHEMA_DIR ({base or 'unset'})")
    return path
