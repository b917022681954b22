"""The `certificate` module's converged check: the same stamp as the `reconcile` command's
(reconciler.converged), written by a full run that ended converged, answered from before the
engine loads, bypassed by `ignore_backoff` and by any change of the options or the device."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from reconciler.basics.layout import state_file
from reconciler.converged.stamp import stamp_path
from tests.ansible.module_call import call_module
from tests.device_files import converged_device
from tests.reconcile_cli import run

pytestmark = pytest.mark.usefixtures("collection_imports")

INLINE_STAMP = ".ansible-certificate.reconcile-stamp.json"


def options(config_dir, **changes) -> dict:
    return {"device_id": "gw-0001", "config_dir": str(config_dir), "tenant": {"url": "https://127.0.0.1:9"},
            "enrollment": {"one_time_password": "secret-0001"}, "activation": {"strategy": "none", "verify": "none"},
            "report": {"twin": "off"},  # no local broker here: a twin left unpublished is a warning, and no stamp
            **changes}


@pytest.fixture
def device(tmp_path):
    key, cert = converged_device(tmp_path)
    time.sleep(0.05)  # older than a file system clock tick: the first run writes the stamp
    return tmp_path, cert


def test_a_converged_device_is_answered_from_the_stamp_and_recorded(device):
    folder, cert = device
    failed, full = call_module("certificate", options(folder), diff=True)
    assert not failed and full["status"] == "converged" and "answered_from" not in full
    stamp = folder / INLINE_STAMP
    assert stamp.exists() and "secret-0001" not in stamp.read_text()
    before = json.loads(state_file(cert).read_text())
    time.sleep(1.1)  # the history keeps whole seconds
    failed, quick = call_module("certificate", options(folder), diff=True)
    assert not failed and quick.pop("answered_from") == "stamp"
    for result in (full, quick):
        result["certificate"].pop("days_left")
        result.pop("invocation", None)
    assert quick == full
    assert json.loads(state_file(cert).read_text())["last_run"]["time"] != before["last_run"]["time"]


def test_check_mode_answers_from_the_stamp_and_records_nothing(device):
    folder, cert = device
    call_module("certificate", options(folder))
    history = state_file(cert).read_bytes()
    failed, result = call_module("certificate", options(folder), check_mode=True)
    assert not failed and result["answered_from"] == "stamp" and result["changed"] is False
    assert state_file(cert).read_bytes() == history


@pytest.mark.parametrize("change", ["other options", "ignore_backoff", "another password", "certificate removed", "renew now"])
def test_any_change_goes_to_the_full_engine(device, change):
    folder, cert = device
    call_module("certificate", options(folder))
    args = options(folder)
    if change == "other options":
        args["validity"] = {"renew_before": "400d"}  # due now: the engine plans a renewal
    elif change == "ignore_backoff":
        args["ignore_backoff"] = True
    elif change == "renew now":
        args["renew_now"] = True
    elif change == "another password":
        args["enrollment"] = {"one_time_password": "another-one"}  # only whether one is given counts: still answered
    else:
        cert.unlink()
    failed, result = call_module("certificate", args, check_mode=True)
    if change == "another password":
        assert result.get("answered_from") == "stamp"
    else:
        assert "answered_from" not in result


def test_a_state_file_shares_the_commands_stamp(device):
    folder, cert = device
    state = folder / "reconcile.yaml"
    state.write_text(yaml.safe_dump({"device_id": "gw-0001", "activation": {"strategy": "none", "verify": "none"},
                                     "report": {"twin": "off"}}))
    time.sleep(0.05)
    assert run("-f", str(state), "--config-dir", str(folder)).returncode == 0  # the command writes the stamp
    assert stamp_path(state).exists()
    failed, result = call_module("certificate", {"state_file": str(state), "config_dir": str(folder)})
    assert not failed and result["answered_from"] == "stamp"
