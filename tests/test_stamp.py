"""The converged check: a full run that ends converged writes the stamp, the next run answers from
it (same verdict, recorded in the run history, metrics rewritten), and every doubt goes to the
full engine. tests/test_stamp_property.py holds the stamp to the planner on random changes."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.basics.layout import lock_file, state_file
from reconciler.basics.timestamps import utc_now
from reconciler.cli import from_stamp
from reconciler.converged.stamp import Stamp, parse_stamp, read_stamp, stamp_path
from tests.device_files import converged_device, write_state
from tests.fuzz_harness import cases, fresh_file, fuzz
from tests.mutations import Mutator, token_insertion
from tests.reconcile_cli import UNREACHABLE_TENANT, run

SEED = 1104


@pytest.fixture
def device(tmp_path):
    """A converged device whose full run has written the stamp."""
    key, cert = converged_device(tmp_path)
    state = write_state(tmp_path, **UNREACHABLE_TENANT)
    time.sleep(0.05)  # older than a file system clock tick: the stamp is written at once (stamp_keeper.RACY_NS)
    first = run("-f", str(state), "--config-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert stamp_path(state).exists()
    return tmp_path, state, cert


def reconcile(device, *args, env=None):
    folder, state, _ = device
    return run("-f", str(state), "--config-dir", str(folder), *args, env=env)


def answered(result) -> bool:
    return json.loads(result.stdout).get("answered_from") == "stamp"


def test_a_converged_run_is_answered_from_the_stamp_with_the_full_engines_verdict(device):
    folder, state, cert = device
    full = reconcile(device, "--output", "json", "-v")  # -v: the full engine, which writes the stamp again
    quick = reconcile(device, "--output", "json")
    assert full.returncode == quick.returncode == 0
    assert not answered(full) and answered(quick)
    full_report, quick_report = json.loads(full.stdout), json.loads(quick.stdout)
    quick_report.pop("answered_from")
    full_report["before"]["certificate"].pop("days_left"), quick_report["before"]["certificate"].pop("days_left")
    assert quick_report == full_report
    assert reconcile(device).stdout == reconcile(device, "-v").stdout  # the text verdict too


def test_the_answer_is_recorded_in_the_run_history_and_the_metrics_file(device):
    folder, state, cert = device
    history = state_file(cert)
    before = history.stat().st_ino
    metrics = folder / "tedge-cert.prom"
    result = reconcile(device, "--output", "json", "--metrics-file", str(metrics))
    assert answered(result)
    assert history.stat().st_ino != before  # rewritten in one rename
    recorded = json.loads(history.read_text())
    assert recorded["last_run"]["status"] == "converged" and recorded["consecutive_failures"] == 0
    text = metrics.read_text()
    assert 'tedge_cert_reconcile_last_exit_code{device_id="gw-0001"} 0' in text
    assert "tedge_cert_renewal_timestamp_seconds" in text and "tedge_cert_reconcile_last_success_timestamp_seconds" in text
    # the full engine writes the same families
    full_metrics = folder / "full.prom"
    reconcile(device, "-v", "--metrics-file", str(full_metrics))
    names = lambda body: [line.split("{")[0] for line in body.splitlines()]  # noqa: E731
    assert names(full_metrics.read_text()) == names(text)


@pytest.mark.parametrize("option", [["--dry-run"], ["--force"], ["-v"], ["--detailed-exitcode", "--force"],
                                    ["--out", "json"], ["--renew-now"], ["--no-such-option"], ["--log-format", "yaml"],
                                    ["--lock-timeout", "inf"], ["--lock-timeout", "nan"], ["--lock-timeout", "-1"]])
def test_options_it_does_not_know_go_to_the_full_engine(device, option):
    result = reconcile(device, "--output", "json", *option)
    assert '"answered_from"' not in result.stdout  # whatever the full engine made of it (a renewal, a usage error)


def test_options_with_the_same_meaning_are_answered(device):
    folder, _, _ = device
    result = reconcile(device, "--output=json", "--detailed-exitcode", "--lock-timeout", "5", "--log-format", "json",
                       "--jitter", "0s")
    assert result.returncode == 0 and answered(result)
    line = json.loads(result.stderr.splitlines()[-1])
    assert line["event"] == "result" and line["status"] == "converged" and line["device_id"] == "gw-0001"


@pytest.mark.parametrize("damage", ["missing", "truncated", "corrupt", "other version", "other file", "a link",
                                    "another owner", "writable by others", "no certificate in its report"])
def test_a_stamp_that_cannot_be_trusted_goes_to_the_full_engine_which_writes_it_again(device, damage):
    folder, state, _ = device
    path = stamp_path(state)
    text = path.read_text()
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "corrupt":
        path.write_text(text.replace('"converged"', '"conv"', 1))
    elif damage == "other version":
        path.write_text(text.replace('"reconcile ', '"reconcile 9', 1))
    elif damage == "other file":
        path.write_text(text.replace(str(state), str(state) + "x", 1))
    elif damage == "another owner":  # planted by a user who may write the folder: its verdict would be theirs
        assert os.geteuid() == 0, "the suite runs as root (tests/run.sh)"
        os.chown(path, 65534, 65534)
    elif damage == "writable by others":
        path.chmod(0o666)
    elif damage == "no certificate in its report":  # once an internal error on every run
        document = json.loads(text)
        del document["report"]["before"]
        path.write_text(json.dumps(document))
    else:
        (folder / "elsewhere.json").write_text(text)
        path.unlink()
        path.symlink_to(folder / "elsewhere.json")
    assert not answered(reconcile(device, "--output", "json"))
    assert read_stamp(path) is not None and not path.is_symlink()  # written again by the full engine
    assert answered(reconcile(device, "--output", "json"))


def test_a_lock_held_by_another_run_goes_to_the_full_engine(device):
    folder, _, cert = device
    with open(lock_file(cert), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = reconcile(device, "--output", "json", "--lock-timeout", "0.3")
    assert result.returncode == 5  # the full engine waited for the lock and gave up


def test_a_run_that_will_change_the_device_removes_the_stamp_first(device):
    folder, state, cert = device
    cert.unlink()
    result = reconcile(device, "--output", "json")  # enrolls at an unreachable tenant: fails
    assert result.returncode != 0
    assert not stamp_path(state).exists()


def test_a_pending_failure_in_the_run_history_goes_to_the_full_engine(device):
    folder, state, cert = device
    history = json.loads(state_file(cert).read_text())
    history["consecutive_failures"] = 1
    state_file(cert).write_text(json.dumps(history))
    assert not answered(reconcile(device, "--output", "json"))
    assert answered(reconcile(device, "--output", "json"))  # the full run converged and reset it


def test_the_answer_holds_only_from_not_before_to_the_earliest_deadline(device, clean_env):
    folder, state, _ = device
    stamp = read_stamp(stamp_path(state))
    assert stamp.answer_until == min(map(lambda text: parse_stamp_time(text), stamp.deadlines.values()))
    holds = lambda now: from_stamp.would_answer(state, folder, os.environ, now)  # noqa: E731
    assert holds(utc_now())
    assert not holds(stamp.answer_until) and holds(stamp.answer_until - timedelta(seconds=1))
    assert not holds(stamp.not_before - timedelta(seconds=1)) and holds(stamp.not_before)


def parse_stamp_time(text):
    from reconciler.basics.timestamps import parse_time

    return parse_time(text)


def test_jitter_is_slept_once_before_the_stamp_is_read(monkeypatch, tmp_path):
    slept = []
    monkeypatch.setattr(from_stamp, "sleep_jitter", lambda limit: slept.append(limit))
    argv = ["-f", str(tmp_path / "missing.yaml"), "--jitter", "5m", "--output", "json"]
    result = from_stamp.answer(argv)
    assert result.code is None and slept == [timedelta(minutes=5)]
    assert result.argv == ["-f", str(tmp_path / "missing.yaml"), "--output", "json"]  # the full engine does not sleep again


def test_the_answer_imports_the_standard_library_only(device):
    folder, state, _ = device
    program = f"""
import sys
baseline = set(sys.modules)
from reconciler.cli.main import main
code = main(["-f", {str(state)!r}, "--config-dir", {str(folder)!r}, "--output", "json"])
loaded = set(sys.modules) - baseline
ours = sorted(m for m in loaded if m.split(".")[0] == "reconciler")
other = sorted(m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "reconciler")
import json
print(json.dumps([code, ours, other]), file=sys.stderr)
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    code, ours, other = json.loads(result.stderr.strip().splitlines()[-1])
    assert code == 0 and answered(result), result.stderr
    assert other == []  # no library: pydantic, yaml, cryptography, requests stay unloaded
    assert ours and all(name in ("reconciler", "reconciler.cli", "reconciler.basics") or name.startswith(LIGHT) for name in ours), ours


LIGHT = ("reconciler.basics.", "reconciler.converged", "reconciler.cli.main", "reconciler.cli.from_stamp", "reconciler.cli.jitter")


# --- fuzz: the stamp parser ------------------------------------------------------------------------

STAMP_TOKENS = (b'"', b"{", b"[", b"null", b"true", b"0", b"-1", b"1e999", b'"absent"', b'"2026-06-01T12:00:00Z"',
                b'"9999-12-31T23:59:59Z"', b'"/"', b",", b":", b"\\u0000", b"\\ud800", b"9" * 40)


def test_any_stamp_file_is_a_stamp_or_no_stamp(device):
    folder, state, _ = device
    real = stamp_path(state).read_bytes()
    path = stamp_path(state)

    def parse(data: bytes):
        return parse_stamp(data)

    def check(result) -> None:
        assert isinstance(result, Stamp), f"not a stamp: {result!r:.80}"

    mutator = Mutator([real], SEED, extra=(token_insertion(STAMP_TOKENS),) * 3)
    fuzz("stamp", mutator, cases(3000), parse, refusals=(ValueError,), check=check)

    def answer_from(data: bytes) -> bool:  # read from disk and checked against the device: never an exception
        fresh_file(path, data)
        return from_stamp.would_answer(state, folder, os.environ, utc_now())

    fuzz("stamp on disk", mutator, cases(500), answer_from, refusals=(), check=lambda result: isinstance(result, bool))


@pytest.mark.parametrize("argv", [["--output"], ["--file", "-v"], ["--metrics-file="], ["-f"], ["--", "-f", "x"],
                                  ["x.yaml"], ["--output", "yaml"], ["--jitter"], ["-fx.yaml"]])
def test_a_command_line_it_cannot_read_exactly_as_argparse_does_is_left_to_argparse(argv):
    assert from_stamp.parse(argv) is None


def test_the_options_it_reads_mean_what_they_mean_to_argparse():
    options = from_stamp.parse(["-f", "a.yaml", "--file=b.yaml", "--config-dir=", "--output", "json", "--jitter=5m",
                                "--detailed-exitcode"])
    assert options.values == {"file": "b.yaml", "config_dir": "", "output": "json", "log_format": "text", "jitter": "5m"}
    assert options.detailed_exitcode
    assert options.without_jitter == ["-f", "a.yaml", "--file=b.yaml", "--config-dir=", "--output", "json",
                                      "--detailed-exitcode"]


# --- fuzz: the run history as the answer from the stamp reads it -------------------------------------

HISTORY_TOKENS = (b'"', b"null", b"true", b"0", b"-1", b"2", b"256", b'"2026-06-01T12:00:00Z"', b'"2026-13-01T12:00:00Z"',
                  b'"converged"', b'"failed"', b'"x"', b"{}", b"[]", b",", b":", b"9" * 40, b'"' + b"m" * 1001 + b'"')


def test_a_history_the_answer_advances_is_one_the_engine_reads_the_same(tmp_path):
    """Differential: whatever the run history holds, the answer from the stamp either leaves it to the
    full engine or reads it as history_codec.parse_history does, and writes what run_history would."""
    from datetime import datetime, timezone

    from reconciler.converged.history import NotForTheStamp, converged_history, previous_history
    from reconciler.runs.history_codec import history_dict, parse_history
    from reconciler.runs.run_history import RunOutcome, after_run

    samples = [
        json.dumps({"format": 1, "device_id": "gw-0001", "last_run": {"time": "2026-06-01T12:00:00Z", "status": "converged",
                    "exit_code": 0}, "last_success": "2026-06-01T12:00:00Z", "consecutive_failures": 0,
                    "last_failure": {"time": "2026-05-01T12:00:00Z", "reason": "enroll:unreachable", "exit_code": 8,
                                     "message": "the tenant could not be reached"},
                    "backoff_until": None, "tenant_failures": 0, "backoff_reason": None, "backoff_digest": None,
                    "tenant_wait_until": None}, indent=2).encode(),
        b'{"format": 1, "device_id": "gw-0001"}',
    ]
    path = tmp_path / "history.json"
    now = datetime(2026, 6, 2, 8, 0, 0, 123456, tzinfo=timezone.utc)

    def advance(data: bytes):
        fresh_file(path, data)
        try:
            previous = previous_history(path, "gw-0001")
        except NotForTheStamp:
            return None
        engine = after_run(parse_history(data), "gw-0001", RunOutcome("converged", 0), now)  # raises if it disagrees
        assert engine.consecutive_failures == 0 and engine.backoff_until is None
        assert converged_history(previous, "gw-0001", now) == history_dict(engine)
        return True

    mutator = Mutator(samples, SEED, extra=(token_insertion(HISTORY_TOKENS),) * 3)
    fuzz("run history for the stamp", mutator, cases(3000), advance, refusals=(), check=lambda result: None)


def test_a_relative_config_dir_is_answered_from_the_stamp(tmp_path):
    # the stamp holds absolute lock and history paths, whatever the command line said (was: never answered)
    converged_device(tmp_path)
    write_state(tmp_path, **UNREACHABLE_TENANT)
    time.sleep(0.05)
    where = ("-f", "state.yaml", "--config-dir", ".", "--output", "json")
    assert run(*where, cwd=tmp_path).returncode == 0
    assert answered(run(*where, cwd=tmp_path))
