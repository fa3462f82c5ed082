"""The import contract (import-linter, in setup.cfg) and ruff, run by the test suite so CI holds them.

Layers: the front ends (web, cli, scheduler, demo) call services; services use the context;
clocks and mail sit on the flow's vocabulary; tables and plumbing at the bottom. Nothing
imports upwards, and the front ends import no tables and run no SQL themselves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_import_contract_holds():
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='setup.cfg', no_cache=True, no_logo=True))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "mas", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
