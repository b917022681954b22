"""Run commands interleaved and report median wall time and peak RSS of each (Linux: wait4).

Each command is started by a small launcher process rather than by the benchmark itself: Linux
carries the parent's memory high-water mark into a child across exec, so a large parent would
inflate every child's peak RSS.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

LAUNCHER = """
import os, sys, time
devnull = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_once(argv: list[str], env: dict | None = None) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one run."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True, env=env, check=True)
    elapsed, rss, code = out.stdout.split()
    return float(elapsed), int(rss), int(code)


def interleaved(commands: dict[str, list[str]], runs: int, env: dict | None = None) -> dict[str, dict]:
    """Each command `runs` times, round-robin, so that machine noise hits all of them alike."""
    samples: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(run_once(argv, env))
    out = {}
    for name, rows in samples.items():
        times = sorted(t for t, _, _ in rows)
        out[name] = {
            "median_s": statistics.median(times),
            "p95_s": times[max(0, round(len(times) * 0.95) - 1)],
            "peak_rss_mib": max(r for _, r, _ in rows) / 1024,
            "exit_codes": sorted({code for _, _, code in rows}),
        }
    return out
