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


def _tracked_python_files() -> list[str]:
    """The project's own Python files (a local scratch file is not the project's); the whole tree
    where there is no git checkout."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True)
    files = listed.stdout.split() if listed.returncode == 0 else []
    return files or ["."]


@pytest.mark.parametrize("command", [("ruff", "check"), ("ruff", "format", "--check")], ids=" ".join)
def test_ruff_finds_nothing(command):
    result = _run(*command, *_tracked_python_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_typed_core():
    # mypy's incremental cache: .mypy_cache in the checkout (ignored by git).
    result = _run("mypy", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
