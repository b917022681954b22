"""The certificate_info module in this process: the facts `reconcile show` prints, as a result."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ansible.module_call import call_module
from tests.device_files import converged_device

pytestmark = pytest.mark.usefixtures("collection_imports")


def test_facts_of_the_certificate_in_the_config_dir(tmp_path):
    converged_device(tmp_path, age=timedelta(days=10))
    failed, result = call_module("certificate_info", {"config_dir": str(tmp_path)}, check_mode=True)
    assert not failed and result["changed"] is False
    assert result["subject_cn"] == "gw-0001" and "CN=gw-0001" in result["subject"]
    assert 354 < result["days_left"] < 356 and result["renewal_due"] is False and result["expired"] is False
    assert result["renew_before"] == "30d" and result["key_algorithm"] == "ec-p256"
    assert len(result["fingerprint_sha256"].replace(":", "")) == 64


def test_renewal_due_under_a_given_renew_before(tmp_path):
    _, cert = converged_device(tmp_path, age=timedelta(days=10))
    failed, result = call_module("certificate_info", {"path": str(cert), "renew_before": "360d"})
    assert not failed and result["renewal_due"] is True and result["renew_before"] == "360d"


def test_renew_before_of_the_desired_state(tmp_path):
    converged_device(tmp_path, age=timedelta(days=10))
    state = tmp_path / "state.yaml"
    state.write_text("device_id: gw-0001\nvalidity: {renew_before: 99%}\n")
    failed, result = call_module("certificate_info", {"state_file": str(state), "config_dir": str(tmp_path)})
    assert not failed and result["renewal_due"] is True and result["renew_before"] == "99%"


def test_a_missing_certificate_fails_as_reconcile_show_does(tmp_path):
    failed, result = call_module("certificate_info", {"path": str(tmp_path / "none.pem")})
    assert failed and result["msg"] == f"{tmp_path / 'none.pem'}: no such certificate"
    assert result["exit_code"] == 1 and result["exists"] is False


def test_a_bad_renew_before_names_the_option(tmp_path):
    failed, result = call_module("certificate_info", {"path": str(tmp_path / "c.pem"), "renew_before": "soon"})
    assert failed and result["msg"].startswith("renew_before: ") and result["exit_name"] == "bad_input"
