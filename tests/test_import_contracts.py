"""The apps' import arrows of ARCHITECTURE.md hold in code: ``lint-imports`` checks the contracts
of ``.importlinter`` (stores imports nothing from sunat or sales; sunat nothing from sales, worker
or ops; nothing but ops imports sales; …), so ``make test`` fails on a broken arrow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_apps_import_arrows_hold():
    assert LINT_IMPORTS.exists(), "import-linter is missing: pip install -r requirements-dev.txt"
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "stores knows nothing of SUNAT or sales KEPT" in report and "0 broken" in report, report
