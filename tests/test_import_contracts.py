"""The layers hold: import-linter's contracts in pyproject.toml (downward only, no cycles)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_contract_is_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_an_upward_import_breaks_the_layers(tmp_path):
    # The contract can fail: a copy of the package where a basic module imports the CLI.
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "reconciler", copy / "reconciler")
    shutil.copy(ROOT / "pyproject.toml", copy)
    (copy / "reconciler/basics/upward.py").write_text("import reconciler.cli.main\n")
    result = lint_imports(cwd=copy, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "reconciler.basics.upward -> reconciler.cli.main" in result.stdout
