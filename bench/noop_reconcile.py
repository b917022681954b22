"""No-op reconcile on a converged device vs. a bare interpreter and the unavoidable imports.

    python bench/noop_reconcile.py [--runs 15]

Measures, interleaved: `python -c pass`, the import floor (pydantic + PyYAML + cryptography), the
floor with one pydantic model, the floor with the cyclic collector kept out as `reconcile` keeps it
(a like-for-like baseline), the no-op answered from the stamp, and the no-op through the full engine (`--force`, which never
reads the stamp: the engine removes it, observes, plans and writes it again, as after any
change). Prints median wall time and peak RSS of each, and the ratios. Targets (issue 11):
through the stamp ≤ 4× `python -c pass` and ≤ 20 MiB; the full engine ≤ 1.5× the import floor
and ≤ 45 MiB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import interleaved  # noqa: E402
from reconciler.converged.stamp import stamp_path  # noqa: E402
from tests.device_files import converged_device, write_state  # noqa: E402

STAMP = "reconcile (no-op, stamp)"
FULL = "reconcile (no-op, full engine)"

FLOOR = "from pydantic import BaseModel; import yaml; from cryptography import x509"
# Defining any pydantic model pulls in more of pydantic (schema generation, annotated_types, the
# plugin loader): shown as a third baseline so that the cost of our own code stands out.
ONE_MODEL = FLOOR + "\nclass Spec(BaseModel):\n    device_id: str = 'x'"
# `reconcile` keeps the cyclic collector away from what it loads and at exit (cli.main.console_script);
# the same done to the floor shows how much of the gap is that alone, for a like-for-like ratio.
FLOOR_UNCOLLECTED = "import gc; gc.disable()\n" + FLOOR + "\ngc.freeze()"


def reconcile_command() -> str:
    """The installed console script, as users run it (beside this interpreter)."""
    script = Path(sys.executable).with_name("reconcile")
    if not script.exists():
        raise SystemExit(f"{script} not found: install the package first (pip install -e .)")
    return str(script)


def compile_package() -> None:
    """Write the package's bytecode, as `pip install` does: an editable checkout under
    PYTHONDONTWRITEBYTECODE would otherwise compile every module from source on each run,
    while the libraries it is compared with load their precompiled bytecode."""
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "reconciler", quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory() as folder:
        config_dir = Path(folder)
        converged_device(config_dir)
        state = write_state(config_dir)
        reconcile = [reconcile_command(), "-f", str(state), "--config-dir", str(config_dir)]
        time.sleep(0.05)  # files older than a clock tick: the first run writes the stamp
        subprocess.run(reconcile, check=True, capture_output=True)
        assert stamp_path(state).exists(), "the first run wrote no stamp"
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import floor": [sys.executable, "-c", FLOOR],
            "floor + one model": [sys.executable, "-c", ONE_MODEL],
            "floor, collector kept out": [sys.executable, "-c", FLOOR_UNCOLLECTED],
            STAMP: reconcile,
            FULL: [*reconcile, "--force"],
        }
        results = interleaved(commands, args.runs)
        assert stamp_path(state).exists()
    assert results[STAMP]["exit_codes"] == [0] and results[FULL]["exit_codes"] == [0], results
    print(f"no-op reconcile on a converged device, {args.runs} interleaved runs each")
    for name, row in results.items():
        print(f"  {name:<30} median {row['median_s'] * 1000:7.1f} ms   p95 {row['p95_s'] * 1000:7.1f} ms   peak RSS {row['peak_rss_mib']:5.1f} MiB")
    bare, floor = results["python -c pass"]["median_s"], results["import floor"]["median_s"]
    stamp, full = results[STAMP], results[FULL]
    print(f"  from the stamp: {stamp['median_s'] / bare:.2f}x python -c pass (target <= 4x), "
          f"peak RSS {stamp['peak_rss_mib']:.1f} MiB (target <= 20 MiB)")
    print(f"  full engine:    {full['median_s'] / floor:.2f}x the import floor (target <= 1.5x), "
          f"{full['median_s'] / results['floor + one model']['median_s']:.2f}x floor + one pydantic model, "
          f"{full['median_s'] / results['floor, collector kept out']['median_s']:.2f}x the floor with the collector kept out alike, "
          f"peak RSS {full['peak_rss_mib']:.1f} MiB (target <= 45 MiB)")


if __name__ == "__main__":
    main()
