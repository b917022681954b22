"""Property: the stamp never answers "converged" where the full engine would act.

Two devices are enrolled over HTTPS at the tenant emulator: one with plain key and certificate
files, one whose key was rotated (live-pair links, a backup, owner and group declared by name,
the one-time password in an environment variable). Each case copies one, lets the full engine
write the stamp, changes one input at random (each file's bytes, mode, owner, link target; the
desired state; tedge.toml; an environment variable; the clock; a staged .new; a backup; a
left-over; the run history; a directory), then asks both sides: the full engine's dry run
(in-process, with the same clock and environment) and the stamp. Whenever the dry run plans an
action, is blocked or refuses the input, the stamp must not answer. Control cases change nothing
and must be answered. A smaller number of cases run the real CLI in a subprocess, which must
answer from the stamp exactly when the in-process check says so.

Cases are a function of SEED and the case number (STAMP_CASES to run more).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reconciler.basics.errors import ReconcileError
from reconciler.basics.layout import state_file
from reconciler.basics.timestamps import utc_now
from reconciler.cli.from_stamp import would_answer
from reconciler.converged.stamp import read_stamp, stamp_path
from reconciler.desired.source import load_spec
from reconciler.runs.engine import reconcile
from reconciler.runs.stamp_keeper import StampKeeper
from tests.conftest import RECONCILE
from tests.tenant_device import OTP, make_device

SEED = 4242
CASES = int(os.environ.get("STAMP_CASES", "1000"))
CLI_EVERY = 20  # every 20th case also runs the real CLI (not for clock cases: a subprocess has the real clock)
BATCH = 50
OTP_ENV = "STAMP_TEST_OTP"
UNREACHABLE = "https://127.0.0.1:1"


def _portable(folder: Path, tenant) -> None:
    """The desired state with its CA files copied beside it and the tenant unreachable from now on
    (a full run that would ask it fails at once), so that a copy of the folder is a device of its own."""
    shutil.copy(tenant.ca_bundle, folder / "ca-bundle.pem")
    shutil.copy(tenant.tenant_ca_file, folder / "tenant-ca.pem")
    state = folder / "state.yaml"
    data = yaml.safe_load(state.read_text())
    data["tenant"].update(url=UNREACHABLE, ca_bundle="ca-bundle.pem", ca_certificate="tenant-ca.pem")
    data["renewal"]["token_url"] = UNREACHABLE + "/devicecontrol/deviceAccessToken"
    data["enrollment"]["max_wait"] = "0s"
    state.write_text(yaml.safe_dump(data))


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    from c8y_emulator.server import TenantEmulator

    root = tmp_path_factory.mktemp("stamp-bases")
    with TenantEmulator() as tenant:
        plain = make_device(root / "plain", tenant)
        tenant.register("gw-0001", OTP)
        assert plain.run().returncode == 0
        paired = make_device(root / "paired", tenant, otp=None, device_id="gw-0002",
                             enrollment={"one_time_password_env": OTP_ENV}, paths={"owner": "root", "group": "root"})
        tenant.register("gw-0002", OTP)
        assert paired.run(env={OTP_ENV: OTP}).returncode == 0
        state = yaml.safe_load(paired.state.read_text())
        state["key"] = {"algorithm": "ec-p384"}  # a rotation: key and certificate switch together through links
        paired.state.write_text(yaml.safe_dump(state))
        rotated = paired.run(env={OTP_ENV: OTP})
        assert rotated.returncode == 0, rotated.stderr
        assert paired.key.is_symlink() and any((paired.config_dir / "device-certs" / "backup").iterdir())
        _portable(plain.config_dir, tenant)
        _portable(paired.config_dir, tenant)
    return {"plain": plain.config_dir, "paired": paired.config_dir}


# --- the changes ---------------------------------------------------------------------------------


def certs(folder: Path) -> Path:
    return folder / "device-certs"


def files(folder: Path) -> list[Path]:
    c = certs(folder)
    return [c / "tedge-private-key.pem", c / "tedge-certificate.pem", folder / "state.yaml", folder / "tedge.toml",
            folder / "otp", folder / "ca-bundle.pem", folder / "tenant-ca.pem", c / "tedge.csr"]


def change_bytes(rng, folder, case):
    path = rng.choice(files(folder))
    data = path.read_bytes() if path.exists() else b""
    how = rng.choice(["flip in place", "replace", "truncate", "append", "same bytes in place", "remove"])
    if how == "flip in place" and data:
        at = rng.randrange(len(data))
        with open(path, "r+b") as f:
            f.seek(at)
            f.write(bytes([data[at] ^ (1 << rng.randrange(8))]))
    elif how == "replace":
        other = rng.choice(files(folder))
        path.write_bytes(other.read_bytes() if other.exists() else b"x = 1\n")
    elif how == "truncate":
        path.write_bytes(data[: rng.randrange(len(data) + 1)])
    elif how == "append":
        path.write_bytes(data + rng.choice([b"\n", b" ", b"# comment\n"]))
    elif how == "same bytes in place" and path.exists():
        with open(path, "r+b") as f:
            f.write(data)
    elif path.exists() or path.is_symlink():
        path.unlink()
    return f"{how} {path.name}"


def change_mode(rng, folder, case):
    path = rng.choice(files(folder)[:2] + [certs(folder), folder / "otp", certs(folder) / "backup"])
    if not path.exists():
        return "nothing to chmod"
    mode = rng.choice([0o600, 0o644, 0o640, 0o400, 0o666, 0o700, 0o755, 0o444])
    os.chmod(path, mode)
    return f"chmod {mode:o} {path.name}"


def change_owner(rng, folder, case):
    path = rng.choice(files(folder)[:2] + [folder / "otp"])
    uid, gid = rng.choice([(0, 0), (1, 1), (0, 65534), (65534, 0), (1000, 1000)])
    if not path.exists():
        return "nothing to chown"
    os.chown(path, uid, gid)  # links followed: the live file
    return f"chown {uid}:{gid} {path.name}"


def change_link(rng, folder, case):
    c = certs(folder)
    path = rng.choice([c / "tedge-private-key.pem", c / "tedge-certificate.pem"])
    switch = c / ".tedge-certificate.pem.reconcile-live"
    how = rng.choice(["to a copy inside", "to a copy outside", "dangling", "to the other file", "regular copy",
                      "switch to a copy of its pair" if switch.is_symlink() else "to a copy inside"])
    if how == "switch to a copy of its pair":
        pair = c / os.readlink(switch)
        copy = c / (pair.name + "x")
        shutil.copytree(pair, copy)
        temp = c / "switch.tmp"
        temp.symlink_to(copy.name)
        os.replace(temp, switch)
        return how
    data = path.read_bytes()
    target = {"to a copy inside": c / "copy.pem", "to a copy outside": folder / "outside.pem",
              "dangling": c / "nothing.pem", "to the other file": c / ("tedge-certificate.pem" if "key" in path.name else "tedge-private-key.pem"),
              "regular copy": None}[how]
    if target is not None and how in ("to a copy inside", "to a copy outside"):
        target.write_bytes(data)
    path.unlink()
    if target is None:
        path.write_bytes(data)
    else:
        path.symlink_to(target)
    return f"{path.name} {how}"


def change_desired_state(rng, folder, case):
    state = folder / "state.yaml"
    data = yaml.safe_load(state.read_text())
    how = rng.choice(["device id", "renew before", "key algorithm", "owner", "comment", "tenant url", "backup dir",
                      "requested validity", "cert path"])
    if how == "device id":
        data["device_id"] = "gw-9999"
    elif how == "renew before":
        data["validity"] = {"renew_before": rng.choice(["400d", "99%", "1d"])}
    elif how == "key algorithm":
        data["key"] = {"algorithm": rng.choice(["ec-p256", "ec-p384", "rsa-2048"])}
    elif how == "owner":
        data.setdefault("paths", {})["owner"] = rng.choice(["nobody", "root", "65534"])
    elif how == "tenant url":
        data["tenant"]["url"] = "https://127.0.0.2:1"
    elif how == "backup dir":
        data.setdefault("paths", {})["backup_dir"] = "elsewhere"
    elif how == "requested validity":
        data["validity"] = {"requested": "90d"}
    elif how == "cert path":
        data.setdefault("paths", {})["cert"] = "device-certs/other.pem"
    text = yaml.safe_dump(data) + ("# a comment\n" if how == "comment" else "")
    state.write_text(text)
    return f"desired state: {how}"


def change_tedge_toml(rng, folder, case):
    text = rng.choice(['c8y.url = "example.cumulocity.com"\n', '[certificate.validity]\nminimum_duration = "400d"\n',
                       '[device]\ncert_path = "/nonexistent/cert.pem"\n', "# nothing\n", "[c8y\n",
                       '[certificate]\norganization = "Other"\n'])
    (folder / "tedge.toml").write_text(text)
    return f"tedge.toml {text.splitlines()[0]}"


def change_environment(rng, folder, case):
    name = rng.choice(["TEDGE_CONFIG_DIR", "HOME", OTP_ENV])
    value = rng.choice([None, "", str(folder), "/elsewhere", OTP])
    case["environ"] = {**case["environ"], name: value}
    return f"env {name}={value!r}"


def change_clock(rng, folder, case):
    stamp = read_stamp(stamp_path(folder / "state.yaml"))
    how = rng.choice(["past the renewal time", "past expiry", "before not-before", "just before the renewal time"])
    case["now"] = {
        "past the renewal time": stamp.answer_until + timedelta(seconds=rng.randrange(0, 40 * 86400)),
        "past expiry": stamp.not_after + timedelta(seconds=rng.randrange(0, 400 * 86400)),
        "before not-before": stamp.not_before - timedelta(seconds=rng.randrange(1, 86400)),
        "just before the renewal time": stamp.answer_until - timedelta(seconds=rng.randrange(1, 3600)),
    }[how]
    return f"clock {how}"


def change_staged(rng, folder, case):
    c = certs(folder)
    name = rng.choice(["tedge-certificate.pem.new", "tedge-private-key.pem.new"])
    how = rng.choice(["copy of the live file", "garbage", "a directory", "the other file"])
    path = c / name
    live = c / name.removesuffix(".new")
    if how == "a directory":
        path.mkdir()
    elif how == "garbage":
        path.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    elif how == "the other file":
        path.write_bytes((c / ("tedge-private-key.pem" if "certificate" in name else "tedge-certificate.pem")).read_bytes())
    else:
        path.write_bytes(live.read_bytes())
    return f"{name}: {how}"


def change_backup(rng, folder, case):
    backup = certs(folder) / "backup"
    existing = sorted(p for p in backup.iterdir() if p.name.startswith("backup-")) if backup.is_dir() else []
    if existing and rng.random() < 0.6:
        shutil.rmtree(existing[0])
        return "a backup deleted"
    backup.mkdir(exist_ok=True)
    (backup / "backup-20260101T000000Z").mkdir(exist_ok=True)
    return "a backup added"


def change_leftover(rng, folder, case):
    c = certs(folder)
    name = rng.choice([".tedge-certificate.pem.reconcile-0123abcd.tmp", ".tedge-private-key.pem.reconcile-89abcdef.tmp",
                       ".tedge-certificate.pem.reconcile-pair-20260101T000000Z-abcdef", "unrelated.txt"])
    if "pair" in name:
        (c / name).mkdir()
    else:
        (c / name).write_bytes(b"left over")
    return f"left over {name}"


def change_history(rng, folder, case):
    history = state_file(certs(folder) / "tedge-certificate.pem")
    how = rng.choice(["a directory", "a FIFO", "a pending failure", "corrupt", "removed"])
    data = json.loads(history.read_text())
    history.unlink()
    if how == "a directory":
        history.mkdir()
    elif how == "a FIFO":
        os.mkfifo(history)
    elif how == "a pending failure":
        history.write_text(json.dumps({**data, "consecutive_failures": 2}))
    elif how == "corrupt":
        history.write_text("{")
    return f"run history: {how}"


def change_directory(rng, folder, case):
    c = certs(folder)
    how = rng.choice(["moved and linked back", "backup dir replaced by a file", "backup dir removed", "chmod 700"])
    if how == "moved and linked back":
        os.rename(c, folder / "moved")
        c.symlink_to("moved")
    elif how == "backup dir replaced by a file":
        shutil.rmtree(c / "backup", ignore_errors=True)
        (c / "backup").write_text("")
    elif how == "backup dir removed":
        shutil.rmtree(c / "backup", ignore_errors=True)
    else:
        os.chmod(c, 0o700)
    return f"directory: {how}"


def nothing(rng, folder, case):
    if rng.random() < 0.5:
        (folder / "state.yaml").read_bytes()  # reading changes no input
    return "nothing"


CHANGES = (change_bytes, change_mode, change_owner, change_link, change_desired_state, change_tedge_toml,
           change_environment, change_clock, change_staged, change_backup, change_leftover, change_history,
           change_directory, nothing)


# --- the two sides -------------------------------------------------------------------------------


def full_run(folder: Path) -> None:
    """The full engine, in-process, as `reconcile` runs it: writes the stamp on a converged device."""
    state = folder / "state.yaml"
    keeper = StampKeeper(state, folder)
    report = reconcile(load_spec(str(folder), state), dry_run=False, stamp=keeper)
    assert report.status == "converged" and not report.notes, (report.status, report.notes)


def engine_would_act(folder: Path, environ: dict, now) -> str | None:
    """What the full engine's dry run finds to do at `now` (None: nothing, converged)."""
    try:
        spec = load_spec(str(folder), folder / "state.yaml")
        report = reconcile(spec, dry_run=True, environ=environ, clock=lambda: now)
    except ReconcileError as err:
        return f"refused: {err.message[:60]}"
    if report.plan.actions or report.plan.blockers or report.status != "converged":
        return ",".join(report.plan.findings) or report.status
    return None


def _environ(overrides: dict) -> dict:
    environ = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def _cli_answers(folder: Path, environ: dict) -> bool:
    result = subprocess.run([*RECONCILE, "-f", str(folder / "state.yaml"), "--config-dir", str(folder), "--output", "json"],
                            capture_output=True, text=True, env=environ, timeout=60)
    try:
        return json.loads(result.stdout).get("answered_from") == "stamp"
    except ValueError:
        return False


def test_the_stamp_never_answers_where_the_engine_would_act(bases, tmp_path, monkeypatch):
    monkeypatch.setenv(OTP_ENV, OTP)
    outcomes: Counter = Counter()
    cli_checked = 0
    for start in range(0, CASES, BATCH):
        numbers = range(start, min(start + BATCH, CASES))
        folders = {}
        for number in numbers:
            rng = random.Random(f"{SEED}:{number}")
            base = "paired" if rng.random() < 0.5 else "plain"
            folders[number] = tmp_path / f"case-{number}"
            shutil.copytree(bases[base], folders[number], symlinks=True)
        time.sleep(0.03)  # older than a file system clock tick: the stamp can be written at once
        for number in numbers:
            folder = folders[number]
            full_run(folder)
            assert read_stamp(stamp_path(folder / "state.yaml")) is not None, f"case {number}: no stamp written"
            rng = random.Random(f"{SEED}:{number}:change")
            change = CHANGES[number % len(CHANGES)]
            case = {"environ": {}, "now": None}
            what = change(rng, folder, case)
            environ, now = _environ(case["environ"]), case["now"] or utc_now()
            answers = would_answer(folder / "state.yaml", folder, environ, now)
            acts = engine_would_act(folder, environ, now)
            assert not (acts and answers), f"case {number} ({change.__name__}: {what}): the engine would act ({acts}), the stamp answers"
            if change is nothing:
                assert answers, f"case {number}: nothing changed, yet the stamp does not answer"
            outcomes[(change.__name__, "acts" if acts else "converged", "answered" if answers else "full engine")] += 1
            if number % CLI_EVERY == 0 and change is not change_clock:
                cli_checked += 1
                assert _cli_answers(folder, environ) == answers, f"case {number} ({what}): the CLI disagrees"
            shutil.rmtree(folder, ignore_errors=True)
    table = "\n".join(f"  {kind:<22} {acts:<10} {answered:<12} {n}" for (kind, acts, answered), n in sorted(outcomes.items()))
    print(f"\n{CASES} cases, {cli_checked} through the CLI:\n{table}")
    for change in CHANGES:  # every input was changed, and most changes are ones the engine acts on
        assert any(key[0] == change.__name__ for key in outcomes), change.__name__
    assert sum(n for key, n in outcomes.items() if key[1] == "acts") > CASES / 5
