"""The deviceCertificate twin on a real mosquitto: published retained after a run, only when it changed
(or once a day), with the failure and backoff of a failed run; a broker that is down is a warning."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from reconciler.basics.layout import state_file
from reconciler.converged.stamp import stamp_path
from reconciler.runs.history_file import read_history
from reconciler.runs.run_history import LastRun, RunHistory
from reconciler.runs.twin import is_due, next_publication_due, twin_digest, twin_document
from reconciler.x509.facts import certificate_info, load_certificates
from tests.device_files import converged_device
from tests.mosquitto import Mosquitto, free_port
from tests.mqtt_watch import TopicWatch, retained
from tests.reconcile_cli import run as reconcile
from tests.tenant_device import make_device

TOPIC = "te/device/main///twin/deviceCertificate"
FIELDS = {"serialNumber", "issuer", "subject", "notBefore", "notAfter", "renewAt", "notAfterEpoch", "renewAtEpoch",
          "keyAlgorithm", "lastRun", "consecutiveFailures", "backoffUntil", "lastFailureReason", "tool"}


def _device(tmp_path, tenant, broker_address: str, twin: str = "auto", age=timedelta(days=1), **sections):
    converged_device(tmp_path, age=age, ca=tenant.ca)
    return make_device(tmp_path, tenant, report={"twin": twin, "local_broker": broker_address}, **sections)


def _matches_certificate(twin: dict, cert_pem: bytes) -> None:
    info = certificate_info(load_certificates(cert_pem)[0])
    assert set(twin) == FIELDS
    assert twin["serialNumber"] == info.serial and twin["issuer"] == info.issuer and twin["subject"] == info.subject
    assert twin["notAfterEpoch"] == int(info.not_after.timestamp())
    assert twin["notAfter"] == info.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert twin["keyAlgorithm"] == "ec-p256" and twin["tool"]["name"] == "tedge-cert-reconciler"


def test_the_retained_twin_matches_the_certificate_and_an_unchanged_run_does_not_republish(tmp_path, tenant, local_broker):
    device = _device(tmp_path, tenant, local_broker.address)
    watch = TopicWatch(local_broker.port, TOPIC)
    try:
        first = device.run()
        assert first.returncode == 0 and "twin" not in first.stderr, first.stderr
        assert len(watch.wait_for(1)) == 1
        again = device.run()
        assert again.returncode == 0
        assert watch.settle() == 1, "an unchanged run publishes nothing"
        renewed = device.run("--renew-now")
        assert renewed.returncode == 0, renewed.stderr
        assert len(watch.wait_for(2)) == 2, "a new certificate is news"
    finally:
        watch.close()
    twin = retained(local_broker.port, TOPIC)
    _matches_certificate(twin, device.live()[1])
    assert twin["lastRun"]["status"] == "changed" and twin["lastRun"]["exitCode"] == 0
    assert twin["consecutiveFailures"] == 0 and twin["backoffUntil"] is None and twin["lastFailureReason"] is None
    history = read_history(state_file(device.cert))
    assert history.twin_digest == twin_digest(twin) and history.twin_published is not None
    shown = reconcile("status", "-f", str(device.state), "--config-dir", str(device.config_dir))
    assert f"twin:         published {history.twin_published:%Y-%m-%dT%H:%M:%SZ}" in shown.stdout, shown.stdout
    assert not [s for s in (tenant.admin_password, *tenant.tokens_issued) if s and s in json.dumps(twin)]


def test_a_failed_run_publishes_the_failure_and_the_backoff(tmp_path, tenant, local_broker):
    device = _device(tmp_path, tenant, local_broker.address, age=timedelta(days=340))  # renewal due
    tenant.refuse_tokens = True
    result = device.run()
    assert result.returncode == 6
    twin = retained(local_broker.port, TOPIC)
    _matches_certificate(twin, device.live()[1])  # the certificate still in use
    assert twin["lastRun"]["status"] == "failed" and twin["lastRun"]["exitCode"] == 6
    assert twin["consecutiveFailures"] == 1 and twin["lastFailureReason"] == "reenroll:tenant_refused"
    assert twin["backoffUntil"] == read_history(state_file(device.cert)).backoff_until.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_broker_that_is_down_is_a_warning_and_the_next_run_publishes(tmp_path, tenant):
    port = free_port()
    device = _device(tmp_path, tenant, f"127.0.0.1:{port}")
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert "warning: the certificate twin was not published: cannot reach the local MQTT broker" in result.stdout
    assert read_history(state_file(device.cert)).twin_published is None
    broker = Mosquitto(tmp_path / "late-broker")
    try:
        device = make_device(tmp_path, tenant, report={"twin": "auto", "local_broker": broker.address})
        assert device.run().returncode == 0
        assert retained(broker.port, TOPIC)["lastRun"]["status"] == "converged"
    finally:
        broker.stop()


def test_twin_on_fails_the_run_with_exit_8_when_the_broker_is_down(tmp_path, tenant):
    device = _device(tmp_path, tenant, f"127.0.0.1:{free_port()}", twin="on")
    result = device.run()
    assert result.returncode == 8
    assert "report.twin: on" in result.stderr


def test_twin_on_with_the_broker_down_keeps_a_failed_runs_own_error(tmp_path, tenant):
    device = _device(tmp_path, tenant, f"127.0.0.1:{free_port()}", twin="on", age=timedelta(days=340))  # renewal due
    tenant.refuse_tokens = True
    result = device.run()
    assert result.returncode == 6, result.stderr  # the tenant's refusal, not the twin's exit 8
    assert "the certificate twin was not published" in result.stdout  # a warning in the report


def test_twin_off_publishes_nothing(tmp_path, tenant, local_broker):
    device = _device(tmp_path, tenant, local_broker.address, twin="off")
    assert device.run().returncode == 0
    assert retained(local_broker.port, TOPIC, timeout=0.5) is None


def test_a_tls_broker_with_client_certificates_from_tedge_toml(tmp_path, tenant, cloud_broker):
    key, cert = converged_device(tmp_path, age=timedelta(days=1), ca=tenant.ca)  # the device's own pair opens the broker
    (tmp_path / "tedge.toml").write_text(
        "[mqtt]\ntopic_root = \"te2\"\ndevice_topic_id = \"device/child1//\"\n"
        f"[mqtt.client]\nhost = \"127.0.0.1\"\nport = {cloud_broker.port}\n"
        f"[mqtt.client.auth]\nca_file = \"{tenant.ca_bundle}\"\ncert_file = \"{cert}\"\nkey_file = \"{key}\"\n"
    )
    device = make_device(tmp_path, tenant, report={"twin": "on"})
    result = device.run()
    assert result.returncode == 0, result.stderr
    twin = retained(cloud_broker.port, "te2/device/child1///twin/deviceCertificate", tls=(tenant.ca_bundle, cert, key))
    _matches_certificate(twin, cert.read_bytes())


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_an_unchanged_twin_is_due_again_a_day_after_its_last_publication():
    history = RunHistory("gw-0001", last_run=LastRun(NOW, "converged", 0))
    document = twin_document({"serial": "01"}, history)
    assert next_publication_due(history) is None and is_due(document, history, NOW)
    published = history._replace(twin_digest=twin_digest(document), twin_published=NOW)
    assert next_publication_due(published) == NOW + timedelta(days=1)
    later = published._replace(last_run=LastRun(NOW + timedelta(hours=23), "converged", 0))
    assert not is_due(twin_document({"serial": "01"}, later), later, NOW + timedelta(hours=23))
    assert is_due(twin_document({"serial": "01"}, later), later, NOW + timedelta(days=1))
    assert is_due(twin_document({"serial": "02"}, later), later, NOW + timedelta(hours=1))


def test_the_stamp_answers_until_the_twin_is_due_and_keeps_its_record(tmp_path, tenant, local_broker):
    device = _device(tmp_path, tenant, local_broker.address)
    watch = TopicWatch(local_broker.port, TOPIC)
    try:
        assert device.run().returncode == 0
        assert len(watch.wait_for(1)) == 1
        published = read_history(state_file(device.cert))
        stamp = json.loads(stamp_path(device.state).read_text())
        assert stamp["deadlines"]["twin"] == f"{published.twin_published + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
        assert stamp["answer_until"] == stamp["deadlines"]["twin"], "a day is sooner than the renewal"
        answered = device.run("--output", "json")
        assert json.loads(answered.stdout).get("answered_from") == "stamp", answered.stdout
        assert watch.settle() == 1
    finally:
        watch.close()
    after = read_history(state_file(device.cert))
    assert (after.twin_digest, after.twin_published) == (published.twin_digest, published.twin_published)
    assert after.last_run.time >= published.last_run.time


def test_a_failed_publication_leaves_no_stamp_to_answer_the_next_run(tmp_path, tenant):
    device = _device(tmp_path, tenant, f"127.0.0.1:{free_port()}")
    assert device.run().returncode == 0
    assert not stamp_path(device.state).exists(), "the next run must try the twin again"
