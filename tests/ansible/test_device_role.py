"""The device role (tedge_cert.c8y_ca.device) through real `ansible-playbook -vvv` runs on localhost:
from an empty venv path to an enrolled device on a timer, against the tenant emulator. Units, links and
the cron entry go into a temporary root (no systemd runs here), where systemd-analyze and systemctl
--root check them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.basics.timestamps import utc_now
from reconciler.device.observe import observe_cert
from tests.ansible.ansible_run import run_playbook, write_inventory

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTP = "device-role-otp-0001"
DEVICE = "gw-role-1"
ROLE = "tedge_cert.c8y_ca.device : "  # how Ansible names the role's tasks
UNITS = ("tedge-cert-reconcile.service", "tedge-cert-reconcile.timer")
RENEWERS = ("tedge-cert-renewer@c8y.timer", "tedge-cert-renewer-c8y@prod.timer")
RENEWER_TEMPLATE = "[Unit]\nDescription=thin-edge's renewer %i\n[Timer]\nOnCalendar=hourly\n[Install]\nWantedBy=timers.target\n"


class Device:
    """The folders of one device on this machine: venv, config dir, and a root for units."""

    def __init__(self, tmp_path: Path, tenant, wheel: Path):
        self.tmp, self.tenant = tmp_path, tenant
        self.venv = tmp_path / "opt" / "tedge-cert-reconciler"
        self.config_dir = tmp_path / "etc-tedge"
        self.state_file = self.config_dir / "reconcile.yaml"
        self.root = tmp_path / "root"
        (self.config_dir / "device-certs").mkdir(parents=True)
        self.install_tedge_renewers()
        self.vars = {
            "reconciler_wheel": str(wheel),
            "reconciler_venv": str(self.venv),
            "reconciler_python": sys.executable,
            "reconciler_state_file": str(self.state_file),
            "reconciler_scheduler": "systemd",
            "device_root": str(self.root),
            "device_config_dir": str(self.config_dir),
            "device_one_time_password": OTP,
            "device_tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle), "timeout": "5s"},
            "device_enrollment": {"max_wait": "3s", "retry_every": "1s"},
            "device_renewal": {"auth": "device-token", "token_url": tenant.token_url},
            "device_activation": {"strategy": "none", "verify": "none"},  # no thin-edge on this machine
            "device_paths": {"cert_mode": "0644"},
        }

    def install_tedge_renewers(self):
        """thin-edge's renewer timers, installed and enabled as its package leaves them."""
        lib = self.root / "lib" / "systemd" / "system"
        lib.mkdir(parents=True)
        (self.root / "etc" / "systemd" / "system").mkdir(parents=True)
        for template in ("tedge-cert-renewer@.timer", "tedge-cert-renewer-c8y@.timer"):
            (lib / template).write_text(RENEWER_TEMPLATE)
        self.systemctl("enable", *RENEWERS)
        assert all(self.wants(name).is_symlink() for name in RENEWERS)

    def systemctl(self, *args: str) -> str:
        done = subprocess.run(["systemctl", f"--root={self.root}", *args], capture_output=True, text=True, timeout=60)
        return done.stdout.strip()

    def wants(self, unit: str) -> Path:
        return self.root / "etc" / "systemd" / "system" / "timers.target.wants" / unit

    def unit(self, name: str) -> Path:
        return self.root / "etc" / "systemd" / "system" / name

    def run(self, *args: str, **changes):
        self.vars.update(changes)
        inventory = write_inventory(self.tmp / "inventory.yml", {DEVICE: dict(self.vars)})
        return run_playbook(PLAYBOOKS / "device_role.yml", inventory, self.tmp / "ansible", self.collections,
                            lambda: [OTP, *self.tenant.tokens_issued], *args, timeout=600)

    def desired_state(self) -> dict:
        return yaml.safe_load(self.state_file.read_text())

    def certificate(self):
        return observe_cert(self.config_dir / "device-certs" / "tedge-certificate.pem").info


@pytest.fixture
def device(tmp_path, tenant, device_wheel, installed_collections):
    found = Device(tmp_path, tenant, device_wheel)
    found.collections = installed_collections
    return found


def changed_tasks(run) -> set[str]:
    return {r["task"] for r in run.records if r["outcome"] == "changed"}


@pytest.mark.timeout(900)
def test_from_an_empty_venv_path_to_an_enrolled_device_on_a_timer_then_nothing_changes(device, tenant):
    tenant.register(DEVICE, OTP)
    assert not device.venv.exists()
    units_before = sorted(p.name for p in device.root.rglob("*"))

    check = device.run("--check")
    assert check.returncode == 0, check.output[-6000:]
    assert not device.venv.exists() and not device.state_file.exists()
    assert sorted(p.name for p in device.root.rglob("*")) == units_before
    assert tenant.requests_to("simpleenroll") == []

    first = device.run()
    assert first.returncode == 0, first.output[-6000:]
    # The engine, in its own venv, from the wheel; the modules ran with that venv's Python.
    version = subprocess.run([device.venv / "bin" / "reconcile", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "reconcile 0.1.0"
    assert f"{device.venv}/bin/python" in first.output  # the certificate task's interpreter
    # The desired state: one file, from the role's variables, root's, 0644.
    assert device.desired_state() == {
        "device_id": DEVICE,
        "tenant": device.vars["device_tenant"],
        "enrollment": device.vars["device_enrollment"],
        "renewal": device.vars["device_renewal"],
        "activation": device.vars["device_activation"],
        "paths": {"cert_mode": "0644"},
    }
    mode = device.state_file.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o644 and mode.st_uid == 0
    assert OTP not in device.state_file.read_text()
    # Enrolled against the emulator, once.
    assert first.outcome(ROLE + "Enroll or renew the certificate", DEVICE) == "changed"
    assert len(tenant.requests_to("simpleenroll")) == 1
    info = device.certificate()
    assert info.subject_cn == DEVICE and info.not_after > utc_now()
    # The units: templated to the venv and the file, verified by systemd, the timer enabled.
    service = device.unit(UNITS[0]).read_text()
    assert f"\nExecStart={device.venv}/bin/reconcile -f {device.state_file} --config-dir {device.config_dir}\n" in service
    verify = subprocess.run(["systemd-analyze", "verify", *(str(device.unit(u)) for u in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stdout + verify.stderr
    assert device.wants("tedge-cert-reconcile.timer").is_symlink()
    assert device.systemctl("is-enabled", "tedge-cert-reconcile.timer") == "enabled"
    # thin-edge's renewers: no longer wanted by timers.target, and masked.
    for renewer in RENEWERS:
        assert not device.wants(renewer).exists() and not device.wants(renewer).is_symlink(), renewer
        assert device.unit(renewer).is_symlink() and str(device.unit(renewer).readlink()) == "/dev/null"
        assert device.systemctl("is-enabled", renewer) == "masked"

    second = device.run()
    assert second.returncode == 0, second.output[-6000:]
    assert changed_tasks(second) == set()
    assert {r["outcome"] for r in second.records} <= {"ok", "skipped"}
    assert second.result(ROLE + "Enroll or renew the certificate", DEVICE)["status"] == "converged"
    assert len(tenant.requests_to("simpleenroll")) == 1


@pytest.mark.timeout(900)
def test_a_changed_variable_changes_the_file_and_the_run_reconciles_it_and_a_bad_one_is_refused(device, tenant):
    tenant.register(DEVICE, OTP)
    assert device.run().returncode == 0
    cert = device.config_dir / "device-certs" / "tedge-certificate.pem"
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644

    changed = device.run(device_paths={"cert_mode": "0640"})
    assert changed.returncode == 0, changed.output[-6000:]
    assert changed_tasks(changed) == {ROLE + "Write the desired state", ROLE + "Enroll or renew the certificate"}
    assert device.desired_state()["paths"] == {"cert_mode": "0640"}
    assert stat.S_IMODE(cert.stat().st_mode) == 0o640
    assert "PermissionsDrift" in changed.result(ROLE + "Enroll or renew the certificate", DEVICE)["reasons"]

    before = device.state_file.read_text()
    refused = device.run(device_validity={"renew_before": "soon"})
    assert refused.returncode == 2
    assert refused.outcome(ROLE + "Write the desired state", DEVICE) == "failed"
    assert "validity.renew_before" in refused.result(ROLE + "Write the desired state", DEVICE)["msg"] + refused.output
    assert device.state_file.read_text() == before, "the old desired state stays"


@pytest.mark.timeout(900)
def test_without_systemd_a_cron_entry_with_jitter(device, tenant):
    tenant.register(DEVICE, OTP)
    missing = device.run(reconciler_scheduler="cron")
    assert missing.returncode == 2 and "install cron" in missing.result(ROLE + "Require cron", DEVICE)["msg"]
    (device.root / "etc" / "cron.d").mkdir()
    run = device.run()
    assert run.returncode == 0, run.output[-6000:]
    entry = (device.root / "etc" / "cron.d" / "tedge-cert-reconcile").read_text()
    (line,) = [line for line in entry.splitlines() if not line.startswith("#")]
    assert line.startswith(f"0 * * * * root {device.venv}/bin/reconcile -f {device.state_file} --config-dir {device.config_dir}"
                           " --jitter 45m ")
    assert not device.unit(UNITS[1]).exists()
    assert len(tenant.requests_to("simpleenroll")) == 1
    assert all(device.wants(name).is_symlink() for name in RENEWERS), "cron alone: systemd's links left as they were"


def test_the_role_installs_the_projects_units_and_cron_entry():
    """The role's templates are examples/systemd/ and the cron example, but for the venv and the file:
    every setting the same, so that the hardening tested on the examples is what devices get."""
    import jinja2

    from tests.ansible.ansible_run import COLLECTION_SOURCE, ROOT

    templates = COLLECTION_SOURCE / "roles" / "device" / "templates"
    defaults = yaml.safe_load((COLLECTION_SOURCE / "roles" / "device" / "defaults" / "main.yml").read_text())
    values = {"reconciler_venv": "/usr/local", "reconciler_state_file": "/etc/tedge/reconcile.yaml",
              "ansible_managed": "Ansible managed", "reconciler_cron_jitter": "45m",
              "reconciler_cron_options": defaults["reconciler_cron_options"],
              "device_config_dir": defaults["device_config_dir"], "device_paths": defaults["device_paths"]}
    # As Ansible's template module renders (trim_blocks), with the two Ansible filters the templates use.
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True)
    environment.filters.update(dirname=os.path.dirname, path_join=lambda parts: os.path.join(*parts))

    def settings(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]

    pairs = [(templates / f"{unit}.j2", ROOT / "examples" / "systemd" / unit) for unit in UNITS]
    pairs.append((templates / "cron.d-tedge-cert-reconcile.j2", ROOT / "examples" / "cron.d-tedge-cert-reconcile"))
    for template, example in pairs:
        rendered = environment.from_string(template.read_text()).render(values)
        assert settings(rendered) == settings(example.read_text()), template.name


@pytest.mark.timeout(900)
def test_the_schedule_follows_the_config_dir_and_the_paths_and_another_scheduler_replaces_the_old(device):
    """The units and the cron entry run `reconcile` with the role's config dir and may write where the desired
    state says; `device_report` is the file's `report`; switching systemd -> cron -> none leaves one schedule."""
    state_dir, elsewhere = device.tmp / "state", device.tmp / "certs-elsewhere"
    state_dir.mkdir()
    (device.root / "etc" / "cron.d").mkdir()
    device.state_file = state_dir / "reconcile.yaml"
    paths = {"cert": str(elsewhere / "gw.pem"), "key": "keys/gw-key.pem", "csr": "gw.csr", "cert_mode": "0644"}
    systemd = device.run(reconciler_state_file=str(device.state_file), device_reconcile_now=False, device_paths=paths,
                         device_report={"twin": "off"})
    assert systemd.returncode == 0, systemd.output[-6000:]
    assert device.desired_state()["report"] == {"twin": "off"}

    service = device.unit(UNITS[0]).read_text()
    assert f"\nExecStart={device.venv}/bin/reconcile -f {device.state_file} --config-dir {device.config_dir}\n" in service
    writable = [line.partition("=")[2] for line in service.splitlines() if line.startswith("ReadWritePaths=")]
    # the config dir's, then the folders outside it (relative paths: beside the desired state), each once
    assert writable == [f"{device.config_dir}/device-certs", str(device.config_dir), f"-{state_dir}",
                        f"-{state_dir}/keys", f"-{elsewhere}", "-/var/lib/prometheus/node-exporter"]
    verify = subprocess.run(["systemd-analyze", "verify", *(str(device.unit(u)) for u in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stdout + verify.stderr
    assert device.wants("tedge-cert-reconcile.timer").is_symlink()

    cron_entry = device.root / "etc" / "cron.d" / "tedge-cert-reconcile"
    for _ in range(2):  # the second run changes nothing
        cron = device.run(reconciler_scheduler="cron")
        assert cron.returncode == 0, cron.output[-6000:]
        assert not any(device.unit(u).exists() for u in UNITS), "the role's units are gone"
        assert not device.wants("tedge-cert-reconcile.timer").is_symlink(), "the timer is disabled"
        (line,) = [line for line in cron_entry.read_text().splitlines() if not line.startswith("#")]
        assert f"/bin/reconcile -f {device.state_file} --config-dir {device.config_dir} --jitter 45m " in line
    assert changed_tasks(cron) == set()
    assert all(device.unit(r).is_symlink() for r in RENEWERS), "thin-edge's renewers stay masked"

    for _ in range(2):
        none = device.run(reconciler_scheduler="none")
        assert none.returncode == 0, none.output[-6000:]
        assert not cron_entry.exists() and not any(device.unit(u).exists() for u in UNITS)
    assert changed_tasks(none) == set()
