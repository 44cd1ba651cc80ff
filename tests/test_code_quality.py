"""The code's habits hold in ``make test`` and so in CI: ruff's lint and format (``pyproject.toml``)
over the whole tree, and mypy with django-stubs over the services, the selectors and ``money.py``
(the files ``[tool.mypy]`` lists). Each test prints the tool's own report when it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    tool = BIN / args[0]
    assert tool.exists(), f"{args[0]} is missing: pip install -r requirements-dev.txt"
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([str(tool), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("command", [("ruff", "check", "."), ("ruff", "format", "--check", ".")], ids=" ".join)
def test_ruff_finds_nothing(command):
    result = _run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_typed_core():
    # The incremental cache lives outside the tree (a clean clone has none; reruns are faster).
    result = _run("mypy", "--cache-dir", "/tmp/bodegapos-mypy-cache", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
