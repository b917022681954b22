"""What `pip install .` puts on a device: the engine and nothing of the test doubles."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(source: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(out), str(source)], check=True, capture_output=True, timeout=300)
    return next(out.glob("*.whl"))


def test_the_device_wheel_holds_the_engine_and_no_emulator(tmp_path):
    names = zipfile.ZipFile(build_wheel(ROOT, tmp_path)).namelist()
    assert "reconciler/runs/engine.py" in names and "reconciler/cli/main.py" in names
    assert not [name for name in names if "emulator" in name], "the tenant emulator is a test double"
    assert not [name for name in names if name.startswith("tests/")]


def test_the_emulator_is_a_distribution_of_its_own(tmp_path):
    names = zipfile.ZipFile(build_wheel(ROOT / "emulator", tmp_path)).namelist()
    assert "c8y_emulator/server.py" in names
    assert not [name for name in names if name.startswith("reconciler/")]
