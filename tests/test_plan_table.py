"""The planner as a table: (desired state, observation, clock) → reasons, blockers and actions."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from reconciler.planning.model import Kind, Reason, RenewalRequest
from reconciler.planning.observation import Ownership
from reconciler.planning.plan import plan
from tests.conftest import ROOT
from tests.plan_builders import (
    DAY,
    KEY_A,
    KEY_B,
    NOW,
    candidate,
    cert,
    key,
    no_cert,
    no_key,
    observation,
    spec,
    special,
    staged_key,
)

TEDGE_RENEW = ["write_csr", "reenroll", "verify_candidate", "stage", "backup", "activate"]
FIRST_ENROLL = ["write_csr", "enroll", "verify_candidate", "stage", "promote", "activate"]
RE_ENROLL = ["write_csr", "enroll", "verify_candidate", "stage", "backup", "promote", "activate"]
COMMAND = {"activation": {"strategy": "command", "command": ["systemctl", "restart", "mosquitto"]}}
ONE_DAY_CERT = dict(not_before=NOW - timedelta(hours=1), lifetime=DAY)


@dataclass
class Case:
    name: str
    obs: object
    actions: list[str]
    reasons: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    sections: dict = field(default_factory=dict)
    now: object = NOW
    request: object = None  # a RenewalRequest (--renew-now)


ROTATE_RENEW = ["generate_key", "write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup",
                "promote", "activate"]

CASES = [
    Case("converged device plans nothing", observation(), []),
    Case("empty device: new key and first enrollment", observation(no_key(), no_cert()),
         ["generate_key"] + FIRST_ENROLL, ["KeyMissing"]),
    Case("no key but a stale certificate: new key, enroll, back up the stale one", observation(no_key(), cert()),
         ["generate_key"] + RE_ENROLL, ["KeyMissing"]),
    Case("unreadable key blocks and is never overwritten", observation(key(error="not a PEM private key")),
         [], ["KeyUnreadable"], ["KeyUnreadable"]),
    Case("unknown owner blocks", observation(ownership=Ownership(error="user 'tedge' does not exist on this device")),
         [], ["OwnerUnknown"], ["OwnerUnknown"]),
    Case("certificate missing: enroll with the existing key", observation(cert_facts=no_cert()),
         FIRST_ENROLL, ["CertMissing"]),
    Case("certificate missing without a one-time password is blocked but still shows the plan",
         observation(cert_facts=no_cert(), otp=False), FIRST_ENROLL, ["CertMissing"], ["OneTimePasswordMissing"]),
    Case("certificate missing without a tenant is blocked", observation(cert_facts=no_cert()),
         FIRST_ENROLL, ["CertMissing"], ["TenantUnknown"], {"tenant": {}}),
    Case("corrupt certificate: enroll and keep a backup", observation(cert_facts=cert(error="not a PEM certificate")),
         RE_ENROLL, ["CertUnreadable"]),
    Case("certificate of another key: enroll", observation(cert_facts=cert(key_id=KEY_B)),
         RE_ENROLL, ["KeyCertMismatch"]),
    Case("certificate of another device id: enroll", observation(cert_facts=cert(cn="gw-9999")),
         RE_ENROLL, ["CommonNameMismatch"]),
    Case("not yet valid blocks: a clock problem", observation(cert_facts=cert(not_before=NOW + timedelta(seconds=1))),
         [], ["NotYetValid"], ["NotYetValid"]),
    Case("valid from exactly now is valid", observation(cert_facts=cert(not_before=NOW)), []),
    Case("expired at exactly not_after: enroll again", observation(cert_facts=cert(not_after=NOW, not_before=NOW - 365 * DAY)),
         RE_ENROLL, ["Expired"]),
    Case("expired without a one-time password is blocked",
         observation(cert_facts=cert(not_before=NOW - 400 * DAY), otp=False), RE_ENROLL, ["Expired"], ["OneTimePasswordMissing"]),
    Case("one second before expiry is renewal, not enrollment",
         observation(cert_facts=cert(not_before=NOW - 365 * DAY + timedelta(seconds=1))), TEDGE_RENEW, ["RenewalDue"]),
    Case("31 days before expiry with 30d threshold: nothing to do",
         observation(cert_facts=cert(not_before=NOW - 334 * DAY)), []),
    Case("exactly 30 days before expiry: renewal due",
         observation(cert_facts=cert(not_before=NOW - 335 * DAY)), TEDGE_RENEW, ["RenewalDue"]),
    Case("29 days before expiry: renewal with tedge promoting the candidate",
         observation(cert_facts=cert(not_before=NOW - 336 * DAY)), TEDGE_RENEW, ["RenewalDue"]),
    Case("renewal due does not need a one-time password",
         observation(cert_facts=cert(not_before=NOW - 336 * DAY), otp=False), TEDGE_RENEW, ["RenewalDue"]),
    Case("storm guard: 1-day certificate with 30d threshold is not renewed an hour in",
         observation(cert_facts=cert(**ONE_DAY_CERT)), []),
    Case("storm guard: 1-day certificate is renewed in its last third",
         observation(cert_facts=cert(not_before=NOW - timedelta(hours=17), lifetime=DAY)), TEDGE_RENEW, ["RenewalDue"]),
    Case("storm guard: 1-day certificate is not renewed before its last third",
         observation(cert_facts=cert(not_before=NOW - timedelta(hours=15), lifetime=DAY)), []),
    Case("percentage threshold: 90d certificate at 33% left is due",
         observation(cert_facts=cert(not_before=NOW - 61 * DAY, lifetime=90 * DAY)), TEDGE_RENEW, ["RenewalDue"],
         sections={"validity": {"renew_before": "33%"}}),
    Case("percentage threshold: 90d certificate at 40% left is not due",
         observation(cert_facts=cert(not_before=NOW - 54 * DAY, lifetime=90 * DAY)), [],
         sections={"validity": {"renew_before": "33%"}}),
    Case("renewal with the command strategy: test-connect, back up, swap, run the command",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY)),
         ["write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["RenewalDue"], sections=COMMAND),
    Case("renewal without activation or test connection: back up and swap only",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY)),
         ["write_csr", "reenroll", "verify_candidate", "stage", "backup", "promote"], ["RenewalDue"],
         sections={"activation": {"strategy": "none", "verify": "none"}}),
    Case("renewal with key rotation stages a new key and swaps both",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY)),
         ["generate_key", "write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["RenewalDue"], sections={"key": {"rotate_on_renewal": True}}),
    Case("key of another algorithm: rotate while the certificate is valid",
         observation(key(algorithm="rsa-2048")),
         ["generate_key", "write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["KeyAlgorithmMismatch"]),
    Case("key of another algorithm without a certificate: rotate and enroll, the old key backed up first",
         observation(key(algorithm="rsa-2048"), no_cert()),
         ["generate_key", "write_csr", "enroll", "verify_candidate", "stage", "backup", "promote", "activate"],
         ["KeyAlgorithmMismatch"]),
    Case("a usable staged key of the right algorithm is reused",
         observation(key(algorithm="rsa-2048"), staged_key=staged_key(key_id=KEY_B)),
         ["write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["KeyAlgorithmMismatch"]),
    Case("rsa-4096 wanted and held: nothing to do", observation(key(algorithm="rsa-4096")), [],
         sections={"key": {"algorithm": "rsa-4096"}}),
    Case("a candidate already due is finished when there is no certificate to prefer (it was paid for)",
         observation(cert_facts=no_cert(), candidate=candidate(not_before=NOW - 340 * DAY)),
         ["verify_candidate", "stage", "promote", "activate"], ["CandidatePending"]),
    Case("a candidate already due is set aside when the live certificate serves longer",
         observation(candidate=candidate(not_before=NOW - 340 * DAY)), ["discard_candidate"], ["CandidateInvalid"]),
    Case("a candidate already due that outlives a due live certificate is finished",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY), candidate=candidate(not_before=NOW - 339 * DAY)),
         ["verify_candidate", "stage", "backup", "activate"], ["CandidatePending"]),
    Case("a valid candidate is pending: tedge tests and promotes it", observation(candidate=candidate()),
         ["verify_candidate", "stage", "backup", "activate"], ["CandidatePending"]),
    Case("a valid candidate with the command strategy: verify, test, back up, swap, activate",
         observation(candidate=candidate()), ["verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["CandidatePending"],
         sections=COMMAND),
    Case("a candidate of another key is set aside", observation(candidate=candidate(key_id=KEY_B)),
         ["discard_candidate"], ["CandidateInvalid"]),
    Case("an expired candidate is set aside",
         observation(candidate=candidate(not_before=NOW - 400 * DAY)), ["discard_candidate"], ["CandidateInvalid"]),
    Case("a corrupt candidate is set aside", observation(candidate=candidate(error="not a PEM certificate")),
         ["discard_candidate"], ["CandidateInvalid"]),
    Case("a candidate of another device id is set aside, then renewal proceeds",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY), candidate=candidate(cn="other")),
         ["discard_candidate"] + TEDGE_RENEW, ["RenewalDue", "CandidateInvalid"]),
    Case("interrupted rotation (cert and key staged): swap both",
         observation(candidate=candidate(key_id=KEY_B), staged_key=staged_key(key_id=KEY_B)),
         ["verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"], ["CandidatePending"]),
    Case("a candidate for the live key after an old-style half swap: finish it",
         observation(key(key_id=KEY_B), candidate=candidate(key_id=KEY_B)),
         ["verify_candidate", "stage", "backup", "promote", "activate"], ["CandidatePending"]),
    Case("a candidate that does not chain to the configured tenant CA is set aside, then renewal goes on",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY), candidate=candidate()._replace(chain_problem="it does not chain to the tenant CA")),
         ["discard_candidate", *TEDGE_RENEW], ["CandidateInvalid", "RenewalDue"]),
    Case("a FIFO at the certificate: blocked, nothing planned",
         observation(cert_facts=cert()._replace(file=special(cert().file, "a FIFO"), error="is a FIFO, not a regular file", info=None)),
         [], ["NotARegularFile"], ["NotARegularFile"]),
    Case("a directory where <cert>.new belongs: blocked, not set aside",
         observation(candidate=no_cert()._replace(file=special(candidate().file, "a directory"))),
         [], ["NotARegularFile"], ["NotARegularFile"]),
    Case("a device at the key: blocked, never replaced by a generated key",
         observation(key(exists=False)._replace(file=special(key().file, "a character device"))),
         [], ["NotARegularFile"], ["NotARegularFile"]),
    Case("a socket at the staged key during rotation: blocked",
         observation(key(algorithm="rsa-2048"), staged_key=no_key()._replace(file=special(staged_key().file, "a socket"))),
         [], ["NotARegularFile"], ["NotARegularFile"]),
    Case("a CSR path or a directory that is not usable: blocked",
         observation(cert_facts=no_cert())._replace(unusable=("/etc/tedge/device-certs/tedge.csr is a FIFO, not a regular file",)),
         [], ["NotARegularFile"], ["NotARegularFile"]),
    Case("a key that is a link out of the declared directories: read, never chmod'ed",
         observation(key(mode=0o644)._replace(file=key(mode=0o644).file._replace(outside=True))), []),
    Case("key readable by others is fixed", observation(key(mode=0o644)), ["fix_permissions"], ["PermissionsDrift"]),
    Case("owner drift on both files is fixed",
         observation(ownership=Ownership(uid=1000, gid=None)), ["fix_permissions", "fix_permissions"], ["PermissionsDrift"]),
    Case("a certificate about to be replaced gets no permission fix",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY, mode=0o600)),
         ["write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["RenewalDue"], sections=COMMAND),
    Case("renewal that would test-connect without paho-mqtt: blocked before the tenant is asked",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY))._replace(mqtt_library=False),
         ["write_csr", "reenroll", "verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"],
         ["RenewalDue"], ["DependencyMissing"], sections=COMMAND),
    Case("renewal with a token over MQTT without paho-mqtt: blocked",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY))._replace(mqtt_library=False),
         TEDGE_RENEW, ["RenewalDue"], ["DependencyMissing"], sections={"renewal": {"auth": "mqtt"}}),
    Case("paho-mqtt missing but not needed (tedge tests the candidate itself): renews",
         observation(cert_facts=cert(not_before=NOW - 340 * DAY))._replace(mqtt_library=False), TEDGE_RENEW, ["RenewalDue"]),
    Case("first enrollment without the activation command installed: blocked, nothing sent",
         observation(cert_facts=no_cert())._replace(activation_command_found=False),
         FIRST_ENROLL, ["CertMissing"], ["DependencyMissing"]),
    Case("converged without the activation command: nothing needed, nothing blocked",
         observation()._replace(activation_command_found=False, mqtt_library=False), []),
    Case("renewal requested on a converged device: renew with the same key", observation(), TEDGE_RENEW,
         ["RenewalRequested"], request=RenewalRequest()),
    Case("renewal requested with a new key: rotate", observation(), ROTATE_RENEW, ["RenewalRequested"],
         request=RenewalRequest(rotate_key=True)),
    Case("renewal requested under key.rotate_on_renewal: rotate", observation(), ROTATE_RENEW, ["RenewalRequested"],
         sections={"key": {"rotate_on_renewal": True}}, request=RenewalRequest()),
    Case("renewal requested while due: the request names it", observation(cert_facts=cert(not_before=NOW - 340 * DAY)),
         TEDGE_RENEW, ["RenewalRequested"], request=RenewalRequest()),
    Case("renewal requested on an expired certificate: enroll again (a renewal cannot be had)",
         observation(cert_facts=cert(not_before=NOW - 400 * DAY)), RE_ENROLL, ["Expired"], request=RenewalRequest()),
    Case("renewal requested with the clock behind: blocked", observation(cert_facts=cert(not_before=NOW + DAY)),
         [], ["NotYetValid"], ["NotYetValid"], request=RenewalRequest()),
    Case("renewal requested while a candidate waits: the waiting certificate is the renewal",
         observation(candidate=candidate()), ["verify_candidate", "stage", "backup", "activate"], ["CandidatePending"],
         request=RenewalRequest()),
    Case("a new key requested while a candidate for the current key waits: set it aside and rotate",
         observation(candidate=candidate()), ["discard_candidate"] + ROTATE_RENEW, ["RenewalRequested", "CandidateInvalid"],
         request=RenewalRequest(rotate_key=True)),
    Case("a new key requested under key.rotate_on_renewal while a candidate for the current key waits: rotate",
         observation(candidate=candidate()), ["discard_candidate"] + ROTATE_RENEW, ["RenewalRequested", "CandidateInvalid"],
         sections={"key": {"rotate_on_renewal": True}}, request=RenewalRequest()),
    Case("a new key requested while a rotation waits (certificate and new key staged): finish it",
         observation(candidate=candidate(key_id=KEY_B), staged_key=staged_key(key_id=KEY_B)),
         ["verify_candidate", "stage", "verify_connection", "backup", "promote", "activate"], ["CandidatePending"],
         request=RenewalRequest(rotate_key=True)),
    Case("unreadable key with a pending candidate: blocked, nothing moved",
         observation(key(error="cannot read: Permission denied"), candidate=candidate()), [], ["KeyUnreadable"], ["KeyUnreadable"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_table(case: Case):
    result = plan(spec(**case.sections), case.obs, case.now, case.request)
    assert [a.kind.value for a in result.actions] == case.actions
    assert sorted(b.reason.value for b in result.blockers) == sorted(case.blockers)
    assert sorted(result.findings) == sorted(case.reasons)
    assert all(a.message.endswith(".") for a in result.actions)


def test_the_table_reaches_every_reason_and_every_planned_action():
    seen_reasons = {r for case in CASES for r in case.reasons + case.blockers}
    seen_kinds = {k for case in CASES for k in case.actions}
    assert {r.value for r in Reason} - seen_reasons == set()
    assert {k.value for k in Kind if k is not Kind.ROLLBACK} - seen_kinds == set()  # rollback is never planned


DETERMINISM_CASES = [c for c in CASES if c.actions or c.blockers]
PLAN_IN_ANOTHER_PROCESS = """
import sys
from tests.plan_builders import NOW, spec
from tests.test_plan_table import DETERMINISM_CASES
from reconciler.planning.plan import plan
from reconciler.planning.model import Kind, Reason
from tests.conftest import ROOT
for case in DETERMINISM_CASES:
    print(repr(plan(spec(**case.sections), case.obs, case.now, case.request)))
"""


def test_the_plan_depends_on_its_inputs_alone():
    # Another process, another hash seed, another time zone, a later wall clock: a planner that read
    # the clock, iterated a set of strings or drew a random name would plan differently there.
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Kiritimati"}
    other = subprocess.run([sys.executable, "-c", PLAN_IN_ANOTHER_PROCESS], capture_output=True, text=True, env=env,
                           cwd=ROOT, check=True, timeout=60)
    here = [repr(plan(spec(**c.sections), c.obs, c.now, c.request)) for c in DETERMINISM_CASES]
    assert other.stdout.splitlines() == here


def test_rotation_backs_up_and_promotes_the_key_with_the_certificate():
    result = plan(spec(key={"rotate_on_renewal": True}), observation(cert_facts=cert(not_before=NOW - 340 * DAY)), NOW)
    backup, promote = (next(a for a in result.actions if a.kind.value == k) for k in ("backup", "promote"))
    assert backup.with_key and promote.with_key
    assert str(promote.key).endswith("tedge-private-key.pem.new")


def test_enrollment_never_generates_over_a_live_key():
    result = plan(spec(), observation(cert_facts=no_cert()), NOW)
    assert "generate_key" not in [a.kind.value for a in result.actions]


def test_the_builders_default_key_and_certificate_are_one_pair():
    # The table's "converged" rows rest on this; KEY_B must differ from it in what the planner reads.
    assert observation().key.public_key_id == observation().cert.info.public_key_id == KEY_A
    assert cert(key_id=KEY_B).info.public_key_id != key().public_key_id
