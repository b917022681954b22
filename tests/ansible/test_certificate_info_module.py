"""The certificate_info module in this process: the facts `reconcile show` prints, under our names and
community.crypto's, `valid_at`, and the run history as `reconcile status` shows it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from reconciler.basics.layout import state_file
from reconciler.runs.history_file import record_run
from reconciler.runs.run_history import RunOutcome
from tests.ansible.module_call import call_module
from tests.device_files import converged_device

pytestmark = pytest.mark.usefixtures("collection_imports")


def test_facts_of_the_certificate_in_the_config_dir(tmp_path):
    converged_device(tmp_path, age=timedelta(days=10))
    failed, result = call_module("certificate_info", {"config_dir": str(tmp_path)}, check_mode=True)
    assert not failed and result["changed"] is False
    assert result["subject_cn"] == "gw-0001" and "CN=gw-0001" in result["subject_rfc4514"]
    assert 354 < result["days_left"] < 356 and result["renewal_due"] is False and result["expired"] is False
    assert result["renew_before"] == "30d" and result["key_algorithm"] == "ec-p256"
    assert len(result["fingerprint_sha256"]) == 64
    assert result["exit_code"] == 0 and result["exit_name"] == "ok"


def test_the_path_is_nested_so_ansible_adds_no_file_attributes(tmp_path):
    _, cert = converged_device(tmp_path)
    failed, result = call_module("certificate_info", {"path": str(cert)})
    assert not failed
    assert result["file"] == {"path": str(cert), "exists": True, "mode": "0644", "uid": cert.stat().st_uid,
                              "gid": cert.stat().st_gid}
    assert not {"path", "mode", "uid", "gid", "error"} & set(result)


def test_community_crypto_names_beside_ours(tmp_path):
    _, cert_path = converged_device(tmp_path)
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    failed, result = call_module("certificate_info", {"path": str(cert_path)})
    assert not failed
    assert result["serial_number"] == cert.serial_number and result["serial"] == format(cert.serial_number, "x")
    assert result["subject"] == {"commonName": "gw-0001", "organizationName": "Thin Edge", "organizationalUnitName": "Device"}
    assert result["issuer"]["commonName"] and isinstance(result["issuer_rfc4514"], str)
    assert result["fingerprints"]["sha256"].replace(":", "") == result["fingerprint_sha256"]
    assert result["public_key_type"] == "ECC"


def test_valid_at_relative_and_absolute_points(tmp_path):
    _, cert = converged_device(tmp_path, age=timedelta(days=10))  # valid for 355 more days
    points = {"now": "+0s", "in_a_year": "+366d", "last_month": "-30d", "asn1": "20000101000000Z",
              "iso": (datetime.now(timezone.utc) + timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    failed, result = call_module("certificate_info", {"path": str(cert), "valid_at": points})
    assert not failed, result["msg"]
    assert result["valid_at"] == {"now": True, "in_a_year": False, "last_month": False, "asn1": False, "iso": True}
    failed, result = call_module("certificate_info", {"path": str(cert), "valid_at": {"soon": "tomorrow"}})
    assert failed and result["msg"].startswith("valid_at.soon: ") and result["exit_name"] == "bad_input"
    failed, result = call_module("certificate_info", {"path": str(cert), "valid_at": {"far": "+999999999d"}})
    assert failed and result["msg"].startswith("valid_at.far: ") and result["exit_name"] == "bad_input"  # was a traceback


def test_content_instead_of_a_file(tmp_path):
    _, cert = converged_device(tmp_path)
    failed, result = call_module("certificate_info", {"content": cert.read_text(), "config_dir": str(tmp_path)})
    assert not failed and result["file"] is None and result["subject_cn"] == "gw-0001"
    failed, result = call_module("certificate_info", {"content": "not a certificate"})
    assert failed and result["msg"].startswith("content: ") and result["exit_name"] == "bad_input"


def test_the_run_history_as_reconcile_status_shows_it(tmp_path):
    _, cert = converged_device(tmp_path)
    failed, result = call_module("certificate_info", {"config_dir": str(tmp_path)})
    assert not failed and result["history"]["last_run"] is None and result["history"]["backing_off"] is False
    when = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    record_run(state_file(cert), "gw-0001", RunOutcome("failed", 8, "enroll:unreachable", "tenant down"), when)
    failed, result = call_module("certificate_info", {"config_dir": str(tmp_path)})
    history = result["history"]
    assert history["last_run"] == {"time": "2026-11-27T10:00:00Z", "status": "failed", "exit_code": 8}
    assert history["consecutive_failures"] == 1 and history["last_failure"]["reason"] == "enroll:unreachable"
    assert history["device_id"] == "gw-0001" and "backoff_digest" not in history and "format" not in history


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
    assert result["exit_code"] == 1 and result["file"]["exists"] is False and result["history"] is not None


def test_a_bad_renew_before_names_the_option(tmp_path):
    failed, result = call_module("certificate_info", {"path": str(tmp_path / "c.pem"), "renew_before": "soon"})
    assert failed and result["msg"].startswith("renew_before: ") and result["exit_name"] == "bad_input"


def test_a_tenant_from_module_defaults_is_accepted_and_unused(tmp_path):
    _, cert = converged_device(tmp_path)
    failed, result = call_module("certificate_info", {"path": str(cert), "tenant": {"url": "https://t1.example"}})
    assert not failed and "tenant" not in json.dumps(result.get("warnings", []))


def test_the_history_has_exactly_the_documented_keys(tmp_path):
    """A field the run history gains (history_codec.history_dict) must be documented, or left out in history_view."""
    from tests.ansible.test_early_failures import documented_returns

    _, cert = converged_device(tmp_path)
    record_run(state_file(cert), "gw-0001", RunOutcome("converged", 0), datetime(2026, 11, 27, tzinfo=timezone.utc))
    failed, result = call_module("certificate_info", {"config_dir": str(tmp_path)})
    documented = documented_returns("certificate_info")["history"]["contains"]
    assert not failed and set(result["history"]) == set(documented)
    assert set(result["history"]["last_run"]) == set(documented["last_run"]["contains"])
