"""The run history beside the live files: what each real run records, and reading it from a disk
that cannot be trusted."""

from __future__ import annotations

import json
import os
import random
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler.basics.layout import state_file
from reconciler.desired.resolve import resolve
from reconciler.planning.backends import Backends
from reconciler.planning.model import RenewalRequest
from reconciler.runs.engine import reconcile
from reconciler.runs.history_codec import history_dict, parse_history
from reconciler.runs.history_file import MAX_BYTES, read_history, write_history
from reconciler.runs.run_history import LastFailure, LastRun, RunHistory, RunOutcome, after_run
from tests.device_files import converged_device
from tests.local_authority import LocalAuthority
from tests.resolved_spec import resolved_spec

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
FAILED = RunOutcome("failed", 8, "enroll:unreachable", "enrollment of gw-0001: gave up after 3 attempts")



def _recorded(spec) -> dict:
    return json.loads(state_file(spec.paths.cert).read_text())


# --- what a run records ---------------------------------------------------------------------------


def test_a_failure_counts_and_keeps_its_reason_and_message():
    history = after_run(after_run(None, "gw-0001", FAILED, NOW), "gw-0001", FAILED, NOW + HOUR)
    assert history.consecutive_failures == 2
    assert history.last_failure == LastFailure(NOW + HOUR, "enroll:unreachable", 8, FAILED.message)
    assert history.last_run == LastRun(NOW + HOUR, "failed", 8)
    assert history.last_success is None


def test_a_success_resets_the_failures_and_the_backoff_but_keeps_the_last_failure():
    failing = after_run(None, "gw-0001", FAILED, NOW)._replace(backoff_until=NOW + HOUR)
    history = after_run(failing, "gw-0001", RunOutcome("changed", 0), NOW + 2 * HOUR)
    assert history.consecutive_failures == 0 and history.backoff_until is None
    assert history.last_success == NOW + 2 * HOUR
    assert history.last_failure == failing.last_failure


def test_a_blocked_run_counts_as_a_failure():
    blocked = RunOutcome("blocked", 4, "blocked:OneTimePasswordMissing", "No one-time password is configured.")
    history = after_run(None, "gw-0001", blocked, NOW)
    assert history.consecutive_failures == 1 and history.last_failure.reason == "blocked:OneTimePasswordMissing"


def test_an_interrupted_run_changes_only_the_last_run():
    failing = after_run(None, "gw-0001", FAILED, NOW)
    history = after_run(failing, "gw-0001", RunOutcome("interrupted", 130), NOW + HOUR)
    assert history == failing._replace(last_run=LastRun(NOW + HOUR, "interrupted", 130))


def test_the_history_of_another_device_id_is_not_carried_over():
    other = after_run(None, "gw-0002", FAILED, NOW)
    history = after_run(other, "gw-0001", FAILED, NOW + HOUR)
    assert history.device_id == "gw-0001" and history.consecutive_failures == 1


def test_a_long_failure_message_is_cut():
    history = after_run(None, "gw-0001", FAILED._replace(message="x" * 100_000), NOW)
    assert len(history.last_failure.message) == 1000


def test_every_real_run_is_recorded_and_a_dry_run_is_not(device_dir):
    converged_device(device_dir)
    spec = resolved_spec(device_dir)
    reconcile(spec, dry_run=True)
    assert not state_file(spec.paths.cert).exists()
    report = reconcile(spec, dry_run=False, backends=Backends(authority=LocalAuthority()), lock_timeout=2)
    recorded = _recorded(spec)
    assert recorded["last_run"]["status"] == "converged" and recorded["last_run"]["exit_code"] == 0
    assert recorded["last_success"] == recorded["last_run"]["time"]
    assert report.history == read_history(state_file(spec.paths.cert))
    assert stat.S_IMODE(state_file(spec.paths.cert).stat().st_mode) == 0o644
    before = state_file(spec.paths.cert).read_bytes()
    reconcile(spec, dry_run=True)
    assert state_file(spec.paths.cert).read_bytes() == before


def test_failures_name_the_failing_action_and_a_later_success_resets_them(device_dir):
    spec = resolved_spec(device_dir)
    no_tenant = Backends()  # enroll fails: talking to a tenant is not available
    for expected in (1, 2):
        report = reconcile(spec, dry_run=False, backends=no_tenant, lock_timeout=2, force=True)  # past the backoff
        assert report.exit_code() == 1
        recorded = _recorded(spec)
        assert recorded["consecutive_failures"] == expected
        assert recorded["tenant_failures"] == 0 and recorded["backoff_until"] is None  # nothing was sent: no backoff
        assert recorded["last_failure"]["reason"] == "enroll:error"
        assert recorded["last_failure"]["message"] == report.failed.message
    reconcile(spec, dry_run=False, backends=Backends(authority=LocalAuthority()), lock_timeout=2, force=True)
    recorded = _recorded(spec)
    assert recorded["consecutive_failures"] == 0 and recorded["last_run"]["status"] == "changed"
    assert recorded["tenant_failures"] == 0 and recorded["backoff_until"] is None
    assert recorded["last_failure"]["reason"] == "enroll:error"
    assert "one-time-pass" not in state_file(spec.paths.cert).read_text()


def test_a_blocked_run_is_recorded_with_its_blocker(device_dir):
    spec = resolved_spec(device_dir, otp=None)
    reconcile(spec, dry_run=False, backends=Backends(), lock_timeout=2)
    recorded = _recorded(spec)
    assert recorded["last_run"] == {"time": recorded["last_run"]["time"], "status": "blocked", "exit_code": 4}
    assert recorded["last_failure"]["reason"] == "blocked:OneTimePasswordMissing"


def test_an_interrupted_apply_is_recorded_and_the_interrupt_goes_on(device_dir):
    spec = resolved_spec(device_dir)

    def interrupt(_result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reconcile(spec, dry_run=False, backends=Backends(authority=LocalAuthority()), lock_timeout=2, progress=interrupt)
    recorded = _recorded(spec)
    assert recorded["last_run"]["status"] == "interrupted" and recorded["last_run"]["exit_code"] == 130
    assert recorded["consecutive_failures"] == 0


# --- the file -------------------------------------------------------------------------------------


def _history() -> RunHistory:
    requested = after_run(None, "gw-0001", RunOutcome("changed", 0), NOW, request=RenewalRequest(rotate_key=True))
    return after_run(requested, "gw-0001", FAILED, NOW + HOUR)


def test_an_explicit_request_is_kept_as_completed_or_failed_and_survives_later_runs():
    history = _history()
    assert history.last_request == (NOW, "completed", True)  # the failed run after it did not touch it
    failed = after_run(history, "gw-0001", FAILED, NOW + 2 * HOUR, request=RenewalRequest())
    assert failed.last_request == (NOW + 2 * HOUR, "failed", False)


def test_written_and_read_back_unchanged(tmp_path):
    path = tmp_path / ".reconcile-state.json"
    write_history(path, _history())
    assert read_history(path) == _history()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_writing_replaces_a_symlink_rather_than_writing_through_it(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("untouched")
    path = tmp_path / ".reconcile-state.json"
    path.symlink_to(target)
    write_history(path, _history())
    assert target.read_text() == "untouched"
    assert not path.is_symlink() and read_history(path) == _history()


def test_a_symlink_to_a_regular_file_is_read(tmp_path):
    real = tmp_path / "real.json"
    write_history(real, _history())
    link = tmp_path / ".reconcile-state.json"
    link.symlink_to(real)
    assert read_history(link) == _history()


def test_no_file_is_no_history_without_a_warning(tmp_path):
    warnings = []
    assert read_history(tmp_path / "missing.json", warnings.append) is None
    assert warnings == []


def _refused(path: Path) -> str:
    warnings = []
    assert read_history(path, warnings.append) is None
    assert len(warnings) == 1 and "\n" not in warnings[0] and str(path) in warnings[0]
    return warnings[0]


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / ".reconcile-state.json"
    os.mkfifo(path)
    assert "not a regular file" in _refused(path)


def test_a_symlink_to_a_fifo_or_a_device_is_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero")):
        link = tmp_path / f"link-{target.name}"
        link.symlink_to(target)
        assert "not a regular file" in _refused(link)


def test_a_dangling_symlink_and_a_directory_are_refused(tmp_path):
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nothing")
    assert "a link to nothing" in _refused(dangling)
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "not a regular file" in _refused(folder)


def test_an_oversized_file_is_refused(tmp_path):
    path = tmp_path / ".reconcile-state.json"
    document = history_dict(_history())
    document["padding"] = "x" * MAX_BYTES
    path.write_text(json.dumps(document))
    assert f"more than the {MAX_BYTES // 1024} KiB" in _refused(path)


@pytest.mark.parametrize("content, complaint", [
    (b"", "not JSON"),
    (b"{\"format\": 1", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe", "not JSON"),
    (b"[" * 30_000 + b"]" * 30_000, "not JSON"),  # nested past the recursion limit, within the size bound
])
def test_corrupt_content_is_no_history(tmp_path, content, complaint):
    path = tmp_path / ".reconcile-state.json"
    path.write_bytes(content)
    assert complaint in _refused(path)


@pytest.mark.parametrize("change, complaint", [
    ({"format": 2}, "format"),
    ({"format": True}, "format"),
    ({"device_id": 7}, "device_id"),
    ({"consecutive_failures": -1}, "consecutive_failures"),
    ({"consecutive_failures": True}, "consecutive_failures"),
    ({"consecutive_failures": "3"}, "consecutive_failures"),
    ({"last_success": "yesterday"}, "last_success"),
    ({"backoff_until": 1700000000}, "backoff_until"),
    ({"last_run": {"time": "2026-06-01T12:00:00Z", "status": "sleeping", "exit_code": 0}}, "last_run.status"),
    ({"last_run": {"time": "2026-06-01T12:00:00Z", "status": "failed", "exit_code": 300}}, "exit_code"),
    ({"last_failure": {"time": "2026-06-01T12:00:00Z", "reason": "x", "exit_code": 1}}, "message"),
    ({"last_request": {"time": "2026-06-01T12:00:00Z", "status": "pending"}}, "last_request.status"),
    ({"last_request": {"time": "2026-06-01T12:00:00Z", "status": "failed", "rotate_key": "yes"}}, "last_request.rotate_key"),
    ({"last_request": {"status": "failed"}}, "time"),
])
def test_a_field_of_the_wrong_kind_is_named(tmp_path, change, complaint):
    path = tmp_path / ".reconcile-state.json"
    path.write_text(json.dumps({**history_dict(_history()), **change}))
    assert complaint in _refused(path)


def test_unknown_keys_are_ignored(tmp_path):
    path = tmp_path / ".reconcile-state.json"
    path.write_text(json.dumps({**history_dict(_history()), "added_later": {"x": 1}}))
    assert read_history(path) == _history()


def _mutations(seed: int, count: int):
    """Valid documents with bytes flipped, cut, duplicated or replaced, and plain random bytes."""
    rng = random.Random(seed)
    valid = json.dumps(history_dict(_history())).encode()
    for _ in range(count):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            where = rng.randrange(len(data))
            kind = rng.randrange(4)
            if kind == 0:
                data[where] = rng.randrange(256)
            elif kind == 1:
                del data[where:where + rng.randint(1, 20)]
            elif kind == 2:
                data[where:where] = data[rng.randrange(len(data)):][:rng.randint(1, 40)]
            else:
                data[where:where + 1] = rng.choice([b"null", b"-1", b"1e999", b"true", b"\"\"", b"[]", b"{}", b"\\u0000"])
        yield bytes(data)
        yield bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))


def test_fuzzed_files_never_crash_the_reader(tmp_path):
    read = refused = 0
    for number, data in enumerate(_mutations(seed=8, count=1500)):
        try:
            parse_history(data)
            read += 1
        except ValueError:
            refused += 1
        if number % 10 == 0:  # and through the file, on a sample (rewriting one file costs a flush each time)
            path = tmp_path / f"{number}.json"
            path.write_bytes(data)
            warnings = []
            result = read_history(path, warnings.append)
            assert (result is None) == bool(warnings)
            assert all("\n" not in w for w in warnings)
    assert read and refused  # the mutations reached both sides
