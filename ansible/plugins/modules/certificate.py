#!/usr/bin/python
# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

DOCUMENTATION = r"""
---
module: certificate
short_description: Keep a thin-edge.io device's certificate from a Cumulocity tenant CA in the desired state
version_added: 0.1.0
description:
  - Runs one pass of the reconciler's engine, the same as the C(reconcile) command, on the managed host.
    It observes the key, the certificate, a staged C(<cert>.new) and the backups, plans what closes the
    gap (each action with a reason such as C(KeyMissing) or C(RenewalDue)) and applies it under a lock.
  - First enrollment uses a one-time password (EST C(simpleenroll)); renewal uses a device token
    (C(simplereenroll)) and keeps the key unless O(key.rotate_on_renewal). The new certificate is
    staged and verified before anything live changes; the old one is backed up; the swap is one rename.
  - The options mirror the desired-state file section by section; what is left out comes from
    C(tedge.toml) in O(config_dir), then from thin-edge's defaults. Alternatively O(state_file) names a
    desired-state file already on the host.
  - "Invalid values fail with C(field: reason), as the C(reconcile) command reports them."
author:
  - tedge-cert-reconciler maintainers (@tedge-cert-reconciler)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tedge_cert.c8y_ca.attributes
  - tedge_cert.c8y_ca.library
  - tedge_cert.c8y_ca.tenant
attributes:
  check_mode:
    support: full
    details: The engine's dry run. C(changed) is true exactly when the plan has actions; nothing is written or asked of the tenant.
  diff_mode:
    support: partial
    details:
      - O(ignore:before) and O(ignore:after) summaries of the certificate (CN, issuer, serial, expiry, renewal time,
        fingerprint, mode, owner, group) and of the private key's file (mode, owner, group; never its content).
      - The CSR, the backups and the run history are not shown. In check mode, RV(ignore:diff.after.pending) lists the planned actions.
  idempotent:
    support: full
    details:
      - A converged device is V(ok) and untouched. A renewal is due again only when its time comes, so a run may change
        the device without any change of the arguments.
options:
  device_id:
    description:
      - The device id, which becomes the certificate's CN and the device's external id on the tenant.
      - Without it, the desired state is read from O(state_file), as the C(reconcile) command reads it.
    type: str
  state_file:
    description:
      - A desired-state YAML file on the managed host, used instead of the inline options
        (O(device_id) and the sections). Relative paths in it are relative to the file.
      - Default C(<config_dir>/reconcile.yaml) when O(device_id) is not given.
    type: path
  config_dir:
    description:
      - The thin-edge config dir holding C(tedge.toml), whose settings fill what the desired state leaves out.
      - Relative paths in the inline options are relative to it.
      - Default C($TEDGE_CONFIG_DIR), else C(/etc/tedge).
    type: path
  ignore_backoff:
    description:
      - Ask the tenant now even while backing off after earlier failed runs (O(tenant.backoff)).
      - Without it, such a run fails with RV(exit_name=backing_off) and asks nothing.
      - It does not renew a certificate that is not due, nor regenerate anything (unlike C(force) of community.crypto's modules).
    type: bool
    default: false
    aliases: [force]
  renew_now:
    description:
      - Renew now although the certificate is not due (a compromised key, a CA change), through every step of a
        normal renewal (verified, backed up, swapped, activated, rolled back on failure); the reason is C(RenewalRequested).
      - The key is kept unless O(rotate_key) or O(key.rotate_on_renewal).
      - A one-off, like C(reconcile --renew-now) - every task with it renews again, so the task always reports
        C(changed); the run history keeps it only as completed or failed. The backoff (O(tenant.backoff)) does not hold it back.
      - In check mode the plan is shown and nothing is sent.
    type: bool
    default: false
  rotate_key:
    description:
      - With O(renew_now), renew with a new key (the old one is backed up with the certificate).
    type: bool
    default: false
  lock_timeout:
    description:
      - How long to wait for another run's lock, in seconds. A lock still held then fails the task with RV(exit_name=locked).
      - A negative number, NaN or infinity fails the task with RV(exit_name=bad_input).
    type: float
    default: 60
  enrollment:
    description:
      - The first certificate, with a one-time password. Give at most one of O(enrollment.one_time_password),
        O(enrollment.one_time_password_file) and O(enrollment.one_time_password_env).
    type: dict
    suboptions:
      one_time_password:
        description:
          - The one-time password itself, held in memory only; never written to disk or put in the environment
            of the activation command. The natural way to pass a vaulted or generated password.
          - Only in this module; the desired-state file has the two options below instead.
          - The one enrollment option allowed with O(state_file) (it takes the place of the file's own password
            source); the rest of O(enrollment) comes from the file.
        type: str
      one_time_password_file:
        description: A file on the managed host holding the one-time password.
        type: path
      one_time_password_env:
        description: An environment variable of the module (see the C(environment) keyword) holding the one-time password.
        type: str
      retry_every:
        description: Pause between enrollment attempts while the registration is not there yet (a duration). Default C(30s).
        type: raw
      max_wait:
        description:
          - Give up after this long (a duration; C(0) is one attempt). Default C(10m).
          - Then the task fails with RV(exit_name=timed_out), which an C(until) loop can wait on.
        type: raw
      max_attempts:
        description:
          - Requests to the tenant per run at most (enrollment and renewal). Default C(5).
          - Then the task fails, and O(tenant.backoff) decides when the next run may ask.
        type: int
  validity:
    description: Validity and renewal.
    type: dict
    suboptions:
      requested:
        description: The validity to ask for (recorded; the tenant decides). Default C(certificate.validity.requested_duration), else C(365d).
        type: raw
      renew_before:
        description:
          - Renew this long before expiry (C(30d)), or at this share of the issued lifetime left (C(33%)).
          - Default C(certificate.validity.minimum_duration), else C(30d).
        type: raw
  key:
    description: The private key.
    type: dict
    suboptions:
      algorithm:
        description: Key algorithm. Default C(ec-p256). A key of another algorithm is replaced (with a new certificate).
        type: str
        choices: [ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096]
      rotate_on_renewal:
        description: Generate a new key on renewal. Default V(false) (thin-edge keeps the key).
        type: bool
  subject:
    description: Subject of the certificate signing request besides the CN.
    type: dict
    suboptions:
      organization:
        description: O. Default C(certificate.organization), else C(Thin Edge).
        type: str
      organizational_unit:
        description: OU. Default C(certificate.organization_unit), else C(Device).
        type: str
  paths:
    description: Files, their owner and modes.
    type: dict
    suboptions:
      key:
        description: The private key. Default C(device.key_path), else C(<config_dir>/device-certs/tedge-private-key.pem).
        type: path
      cert:
        description: The certificate; the candidate is C(<cert>.new). Default C(device.cert_path), else C(<config_dir>/device-certs/tedge-certificate.pem).
        type: path
      csr:
        description: The certificate signing request. Default C(device.csr_path), else C(<config_dir>/device-certs/tedge.csr).
        type: path
      backup_dir:
        description: Where replaced certificates are kept, one folder each. Default C(<cert dir>/backup).
        type: path
      backup_keep:
        description: How many backups to keep. Default C(5).
        type: int
      owner:
        description: Owner of key and certificate. Unset leaves it as it is.
        type: str
      group:
        description: Group of key and certificate. Unset leaves it as it is.
        type: str
      key_mode:
        description: Mode of the private key, octal (quote it, V("0600")). Default C(0600).
        type: raw
      cert_mode:
        description: Mode of the certificate, octal (quote it, V("0644")). Default C(0644).
        type: raw
  renewal:
    description: How renewal gets a device token.
    type: dict
    suboptions:
      auth:
        description:
          - C(tedge-proxy) through thin-edge's local auth proxy, C(mqtt) over the local broker (C(c8y/s/uat)),
            C(device-token) from the tenant's C(deviceAccessToken) over mTLS. Default C(tedge-proxy).
        type: str
        choices: [tedge-proxy, mqtt, device-token]
      proxy_url:
        description: thin-edge's auth proxy. Default C(http(s\)://<c8y.proxy.client.host>:<port>/c8y) (C(127.0.0.1:8001)).
        type: str
      local_broker:
        description: The local MQTT broker C(host[:port]). Default C(mqtt.client.host:port) (C(localhost:1883)).
        type: str
      token_url:
        description: The C(deviceAccessToken) endpoint. Default C(https://<tenant host>:8443/devicecontrol/deviceAccessToken).
        type: str
  activation:
    description: How a new certificate goes live.
    type: dict
    suboptions:
      strategy:
        description:
          - C(tedge) runs C(tedge reconnect c8y), which tests and promotes C(<cert>.new); C(command) swaps,
            then runs O(activation.command); C(none) swaps only. Default C(tedge).
        type: str
        choices: [tedge, command, none]
      command:
        description: The activation command, a list of arguments. Default V([tedge, reconnect, c8y]).
        type: list
        elements: str
      verify:
        description: With C(command) or C(none), test-connect to O(tenant.mqtt) with the candidate before the swap. Default C(mqtt).
        type: str
        choices: [mqtt, none]
      timeout:
        description: How long the activation command may run (a duration). Default C(2m).
        type: raw
  report:
    description:
      - The certificate's facts as a thin-edge twin (the C(deviceCertificate) fragment of the device's managed object),
        published retained to the local MQTT broker after a run when they changed, else once a day.
    type: dict
    suboptions:
      twin:
        description:
          - C(auto) publishes when the local broker is reachable (a failure is a warning), C(on) fails the task when
            it cannot (exit 8, the certificate work itself done), C(off) never publishes. Default C(auto).
        type: str
        choices: [auto, "on", "off"]
      local_broker:
        description: The local MQTT broker C(host[:port]). Default C(mqtt.client.host:port) (C(localhost:1883)).
        type: str
      topic:
        description: The twin topic. Default C(<mqtt.topic_root>/<mqtt.device_topic_id>/twin/deviceCertificate).
        type: str
      ca_file:
        description: CA for TLS to the local broker. Default C(mqtt.client.auth.ca_file).
        type: path
      ca_dir:
        description: CA directory for TLS to the local broker. Default C(mqtt.client.auth.ca_dir).
        type: path
      cert_file:
        description: Client certificate for the local broker. Default C(mqtt.client.auth.cert_file).
        type: path
      key_file:
        description: Client key for the local broker (its path; the key is never read into a result). Default C(mqtt.client.auth.key_file).
        type: path
notes:
  - The exit codes of the C(reconcile) command are returned as RV(exit_code), with a name in RV(exit_name),
    so that C(until) loops can wait for a registration (C(timed_out)) or a lock (C(locked)).
  - With pipelining off, Ansible writes each task's arguments, O(enrollment.one_time_password) included,
    into a temporary file on the managed host while the task runs. Enable pipelining to keep them off its disk.
seealso:
  - module: tedge_cert.c8y_ca.registration
  - module: tedge_cert.c8y_ca.certificate_info
"""

EXAMPLES = r"""
- name: Enroll with a vaulted one-time password, renew when due
  tedge_cert.c8y_ca.certificate:
    device_id: "{{ inventory_hostname }}"
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    enrollment:
      one_time_password: "{{ vault_one_time_passwords[inventory_hostname] }}"
      max_wait: 5m
    validity:
      renew_before: 30d

- name: Use the desired state already on the device
  tedge_cert.c8y_ca.certificate:
    state_file: /etc/tedge/reconcile.yaml

- name: Wait while another run holds the lock
  tedge_cert.c8y_ca.certificate:
    device_id: "{{ inventory_hostname }}"
    lock_timeout: 5
  register: cert
  until: cert is succeeded or cert.exit_name | default('') != 'locked'
  retries: 10
  delay: 30

- name: Renew now with a new key (the key may have leaked), whether due or not
  tedge_cert.c8y_ca.certificate:
    state_file: /etc/tedge/reconcile.yaml
    renew_now: true
    rotate_key: true

- name: Show what would change
  tedge_cert.c8y_ca.certificate:
    device_id: "{{ inventory_hostname }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
status:
  description: The engine's verdict.
  returned: always
  type: str
  sample: changed
  choices: [converged, pending, changed, blocked, failed, backoff]
reasons:
  description: The reason codes the planner found.
  returned: always
  type: list
  elements: str
  sample: [RenewalDue]
actions:
  description: The planned actions and what became of each.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description:
        - C(generate_key), C(write_csr), C(enroll), C(reenroll), C(verify_candidate), C(stage), C(verify_connection),
          C(backup), C(promote), C(activate), C(fix_permissions), C(discard_candidate) or C(rollback).
      type: str
    reason:
      description: Why it is planned.
      type: str
    message:
      description: What it does, as a sentence.
      type: str
    status:
      description: C(planned) (check mode), C(done), C(failed), C(not-run) or C(rolled-back).
      type: str
    target:
      description: The file it writes or checks.
      type: str
    detail:
      description: What it reported, for example the issued serial.
      type: str
blockers:
  description: Findings that need a person (for example an unreadable key); the task fails when there are any.
  returned: always
  type: list
  elements: dict
  contains:
    reason:
      description: The reason code.
      type: str
    message:
      description: What is wrong.
      type: str
certificate:
  description:
    - Facts of the live certificate, after the run (before it in check mode). The fields past C(error) are there when it could be read.
    - V(null) when the task failed before the device was looked at (bad input, a lock held by another run).
  returned: always
  type: dict
  contains:
    path:
      description: The certificate file.
      type: str
    exists:
      description: Whether it exists.
      type: bool
    mode:
      description: Its mode, octal.
      type: str
    uid:
      description: Its owner.
      type: int
    gid:
      description: Its group.
      type: int
    error:
      description: Why it could not be read, or null.
      type: str
    subject_cn:
      description: The CN, the device id.
      type: str
    subject:
      description: The subject, RFC 4514.
      type: str
    issuer:
      description: The issuer, RFC 4514.
      type: str
    serial:
      description: The serial number.
      type: str
    not_before:
      description: Start of validity, UTC.
      type: str
    not_after:
      description: End of validity, UTC.
      type: str
    renew_at:
      description: When renewal is due under O(validity.renew_before), UTC.
      type: str
    renewal_due:
      description: Whether renewal is due now.
      type: bool
    expired:
      description: Whether it has expired.
      type: bool
    days_left:
      description: Days until it expires.
      type: float
    fingerprint_sha256:
      description: SHA-256 fingerprint of the DER certificate.
      type: str
    key_algorithm:
      description: The algorithm of its public key.
      type: str
backup_file:
  description: The copy of the replaced certificate, when this run made one.
  returned: changed and a certificate was replaced
  type: str
  sample: /etc/tedge/device-certs/backup/backup-20270101T000000.000000Z-1a2b/tedge-certificate.pem
message:
  description: What the engine found or did, or why it failed, in one sentence.
  returned: always
  type: str
  sample: Renewing, as renewal was due on 2027-10-28 09:24:17Z (the certificate expires 2027-11-27 09:24:17Z).
exit_code:
  description: The exit code the C(reconcile) command would have, V(0) when converged or changed (its table is in the collection README).
  returned: always
  type: int
  sample: 7
backoff:
  description:
    - Set when the plan needs the tenant but earlier runs failed with it (O(tenant.backoff)); the task then fails
      with RV(exit_name=backing_off) and asks nothing. V(null) otherwise.
  returned: always
  type: dict
  sample: {"until": "2026-11-27T16:05:00Z", "failures": 2, "reason": "enroll:unreachable"}
answered_from:
  description:
    - V(stamp) when a converged device was answered from the stamp of the last full run (see the C(reconcile)
      README, "The converged check"), without loading the engine; absent when the engine ran.
  returned: when the stamp answered
  type: str
  sample: stamp
exit_name:
  description:
    - The name of RV(exit_code) in lower case, for example C(ok), C(blocked), C(locked), C(timed_out), C(unreachable),
      C(tenant_refused), C(bad_input), C(backing_off).
  returned: always
  type: str
  sample: timed_out
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._certificate_result import certificate_result
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._converged import answer_from_stamp, stamp_keeper
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state import load_desired_state
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import (
    DESIRED_STATE_MUTUALLY_EXCLUSIVE,
    DESIRED_STATE_REQUIRED_BY,
    desired_state_argument_spec,
)
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading, require_reconciler


def main():
    module = AnsibleModule(
        argument_spec=dict(
            desired_state_argument_spec(),
            lock_timeout=dict(type="float", default=60),
            ignore_backoff=dict(
                type="bool", default=False, aliases=["force"],
                deprecated_aliases=[dict(name="force", version="1.0.0", collection_name="tedge_cert.c8y_ca")],
            ),
            renew_now=dict(type="bool", default=False), rotate_key=dict(type="bool", default=False),
        ),
        mutually_exclusive=DESIRED_STATE_MUTUALLY_EXCLUSIVE,
        required_by=DESIRED_STATE_REQUIRED_BY,
        supports_check_mode=True,
    )
    require_reconciler(module)
    tenant = module.params["tenant"] or {}
    if module.params["device_id"] is None and any(value is not None for value in tenant.values()):
        module.warn("tenant: ignored, as the desired state is read from a file (state_file); set the tenant there")
    answered = answer_from_stamp(module.params, module.check_mode, module._diff)  # --- stamp: before the engine loads
    if answered is not None:
        module.exit_json(**answered)

    # The engine, now that it is known to be installed.
    with engine_loading():  # pydantic's plugins off for these imports only
        from reconciler.runs.engine import reconcile
        from reconciler.basics.errors import BadInput, ReconcileError
        from reconciler.planning.model import RenewalRequest

    try:
        if not 0 <= module.params["lock_timeout"] < float("inf"):  # NaN too: a wait that never ends
            raise BadInput("lock_timeout: must be a finite number of seconds, not negative")
        if module.params["rotate_key"] and not module.params["renew_now"]:
            raise BadInput("rotate_key: needs renew_now")
        stamp = stamp_keeper(module.params, module.check_mode)  # --- stamp: before the desired state is read
        spec, environ = load_desired_state(module.params)
        request = RenewalRequest(rotate_key=module.params["rotate_key"]) if module.params["renew_now"] else None
        report = reconcile(
            spec, dry_run=module.check_mode, lock_timeout=module.params["lock_timeout"], environ=environ,
            force=module.params["ignore_backoff"], request=request, stamp=stamp,
        )
    except ReconcileError as err:  # before there is a plan: bad input, a held lock
        fail_with_engine_error(module, err, changed=False, status="failed", reasons=[], actions=[], blockers=[],
                               certificate=None, message=err.message, backoff=None)
    for warning in report.warnings:  # e.g. a certificate already due when issued: kept, and the next request waits
        module.warn(warning)
    failed, result = certificate_result(report, module.check_mode, module._diff)
    if failed:
        module.fail_json(msg=result["message"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
