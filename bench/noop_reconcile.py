"""No-op reconcile on a converged device vs. a bare interpreter and the unavoidable imports.

    python bench/noop_reconcile.py [--runs 15]

Prints median wall time and peak RSS of each, and the ratios. Targets (issue 2): no-op ≤ 1.5×
the import floor, peak RSS ≤ 45 MiB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import interleaved  # noqa: E402
from tests.device_files import converged_device, write_state  # noqa: E402

FLOOR = "from pydantic import BaseModel; import yaml; from cryptography import x509"
# Defining any pydantic model pulls in more of pydantic (schema generation, annotated_types, the
# plugin loader): shown as a third baseline so that the cost of our own code stands out.
ONE_MODEL = FLOOR + "\nclass Spec(BaseModel):\n    device_id: str = 'x'"


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
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import floor": [sys.executable, "-c", FLOOR],
            "floor + one model": [sys.executable, "-c", ONE_MODEL],
            "reconcile (no-op)": [reconcile_command(), "-f", str(state), "--config-dir", str(config_dir)],
        }
        results = interleaved(commands, args.runs)
    assert results["reconcile (no-op)"]["exit_codes"] == [0], results
    print(f"no-op reconcile on a converged device, {args.runs} interleaved runs each")
    for name, row in results.items():
        print(f"  {name:<20} median {row['median_s'] * 1000:7.1f} ms   p95 {row['p95_s'] * 1000:7.1f} ms   peak RSS {row['peak_rss_mib']:5.1f} MiB")
    noop = results["reconcile (no-op)"]["median_s"]
    print(f"  ratio vs python -c pass: {noop / results['python -c pass']['median_s']:.2f}x")
    print(f"  ratio vs import floor:   {noop / results['import floor']['median_s']:.2f}x  (target <= 1.5x)")
    print(f"  ratio vs floor + one pydantic model: {noop / results['floor + one model']['median_s']:.2f}x")
    print(f"  peak RSS:                {results['reconcile (no-op)']['peak_rss_mib']:.1f} MiB  (target <= 45 MiB)")


if __name__ == "__main__":
    main()
