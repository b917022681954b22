"""reconcile(environ=...): where `enrollment.one_time_password_env` is read — the Ansible module hands
a password over in memory this way, never through the process environment."""

from __future__ import annotations

from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import load_tedge_config
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile
from tests.local_authority import LocalAuthority

NAME, PASSWORD = "IN_MEMORY_ONE_TIME_PASSWORD", "in-memory-pass-0001"


class RecordingAuthority(LocalAuthority):
    def __init__(self):
        super().__init__()
        self.passwords: list[str] = []

    def enroll(self, csr_der: bytes, one_time_password: str, store):
        self.passwords.append(one_time_password)
        super().enroll(csr_der, one_time_password, store)


def _spec(config_dir):
    desired = DesiredState(
        device_id="gw-0001",
        tenant={"url": "https://127.0.0.1:9"},
        enrollment={"one_time_password_env": NAME},
        activation={"strategy": "none", "verify": "none"},
    )
    return resolve(desired, load_tedge_config(config_dir), config_dir)


def test_the_password_comes_from_the_given_mapping_not_the_process_environment(device_dir, monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    spec = _spec(device_dir)
    assert [b.reason.value for b in reconcile(spec, dry_run=True).plan.blockers] == ["OneTimePasswordMissing"]
    planned = reconcile(spec, dry_run=True, environ={NAME: PASSWORD})
    assert not planned.plan.blockers and "enroll" in [a.kind.value for a in planned.plan.actions]

    authority = RecordingAuthority()
    report = reconcile(spec, dry_run=False, backends=Backends(authority=authority), lock_timeout=2, environ={NAME: PASSWORD})
    assert report.failed is None and report.changed
    assert authority.passwords == [PASSWORD]
