"""Imports are sorted the one way ruff's isort rules sort them ([tool.ruff] in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"


def ruff_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), "check", "--no-cache", "."], cwd=folder, capture_output=True, text=True,
                          timeout=120)


def test_imports_are_sorted():
    result = ruff_check(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_an_unsorted_import_is_found(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "unsorted.py").write_text("import sys\nimport os\n")
    result = ruff_check(tmp_path)
    assert result.returncode != 0 and "I001" in result.stdout
