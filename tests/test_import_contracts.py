"""The apps' import arrows of ARCHITECTURE.md hold in code: ``lint-imports`` checks the contracts
of ``.importlinter`` (stores imports nothing from sunat or sales; sunat nothing from sales, worker
or ops; nothing but ops imports sales; …), so ``make test`` fails on a broken arrow."""

from __future__ import annotations

import configparser
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


def test_only_tests_are_excused_from_the_arrows():
    """No application module breaks an arrow under an ``ignore_imports`` line: only tests (which
    build data with other apps' factories) are excused. A new upward import is wired the other
    way (the higher app wraps or names the lower one's code), not ignored."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    excused = [
        line.strip()
        for section in config.sections()
        for line in config[section].get("ignore_imports", "").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert excused, "the contracts' ignore_imports were not found"
    assert [line for line in excused if ".tests." not in line.split("->")[0]] == []
