"""--jitter: a random pause before anything else, so that a fleet does not call the tenant at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from datetime import timedelta

from reconciler.basics import logs
from reconciler.basics.layout import lock_file, state_file
from reconciler.cli.jitter import sleep_jitter
from reconciler.cli.main import main
from tests.conftest import RECONCILE
from tests.device_files import converged_device, write_state
from tests.reconcile_cli import run

DRAWS = 20_000


def test_the_pause_is_drawn_uniformly_from_zero_to_the_limit():
    # The real draw (random.uniform as sleep_jitter calls it), judged by a Kolmogorov-Smirnov bound
    # that a uniform draw breaks with odds below 1e-9; the seed makes the run repeatable besides.
    limit = 1800.0
    slept = []
    state = random.getstate()
    random.seed(7005)
    try:
        for _ in range(DRAWS):
            sleep_jitter(timedelta(seconds=limit), sleep=slept.append)
    finally:
        random.setstate(state)
    assert len(slept) == DRAWS and all(0.0 < s <= limit for s in slept)
    ordered = sorted(s / limit for s in slept)
    distance = max(max((i + 1) / DRAWS - x, x - i / DRAWS) for i, x in enumerate(ordered))
    assert distance < 0.025, f"Kolmogorov-Smirnov distance {distance:.4f} from uniform on [0, {limit:g}]"
    assert ordered[0] < 0.001 and ordered[-1] > 0.999  # both ends reached


def test_the_pause_drawn_is_announced_then_slept_in_full():
    drawn, slept, announced = [], [], []

    def uniform(low, high):
        drawn.append((low, high))
        return high * 0.25

    seconds = sleep_jitter(timedelta(minutes=30), uniform=uniform, sleep=slept.append, before_sleep=announced.append)
    assert drawn == [(0.0, 1800.0)]
    assert seconds == 450.0 and slept == [450.0] and announced == [450.0]


def test_no_limit_means_no_pause():
    slept = []
    assert sleep_jitter(timedelta(0), uniform=lambda low, high: 1 / 0, sleep=slept.append) == 0.0
    assert slept == []


def _keep_this_process_as_it_was(monkeypatch):
    """main() installs a SIGTERM handler and sets process-wide state: undo it after the test."""
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.setattr(logs, "_device_id", None)
    monkeypatch.setattr(logs, "_json", False)


def test_the_run_pauses_before_it_reads_the_desired_state_or_takes_the_lock(device_dir, monkeypatch):
    _, cert_path = converged_device(device_dir)
    state = device_dir / "state.yaml"
    seen = []

    def sleep(seconds):
        # nothing has happened yet: no lock, no history, and the desired state may still change
        seen.append((seconds, lock_file(cert_path).exists(), state_file(cert_path).exists()))
        write_state(device_dir)

    monkeypatch.setattr(random, "uniform", lambda low, high: high / 2)
    monkeypatch.setattr(time, "sleep", sleep)
    _keep_this_process_as_it_was(monkeypatch)
    assert main(["-f", str(state), "--config-dir", str(device_dir), "--jitter", "1h"]) == 0
    assert seen == [(1800.0, False, False)]
    assert state_file(cert_path).exists()


def test_a_tiny_jitter_then_the_run(device_dir):
    _, cert_path = converged_device(device_dir)
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--jitter", "1s")
    assert result.returncode == 0, result.stderr
    assert "converged" in result.stdout and state_file(cert_path).exists()


def test_a_dry_run_does_not_pause(device_dir):
    converged_device(device_dir)
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--dry-run", "--jitter", "1h", "-v")
    assert result.returncode == 0, result.stderr
    assert "--jitter" not in result.stderr


def test_sigterm_during_the_pause_exits_130_having_touched_nothing(device_dir):
    _, cert_path = converged_device(device_dir)
    state = write_state(device_dir)
    metrics = device_dir / "metrics.prom"
    env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
    process = subprocess.Popen(
        [*RECONCILE, "-f", str(state), "--config-dir", str(device_dir), "--jitter", "1h", "-v", "--metrics-file",
         str(metrics)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stderr.readline()  # announced just before it sleeps
        assert "before the run (--jitter)" in line, line
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert not lock_file(cert_path).exists() and not state_file(cert_path).exists() and not metrics.exists()


def test_a_jitter_that_is_not_a_duration_is_bad_input(device_dir):
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--jitter", "soon")
    assert result.returncode == 3
    assert "--jitter" in result.stderr and "'soon' is not a duration" in result.stderr
    assert "Traceback" not in result.stderr
