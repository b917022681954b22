#!/usr/bin/python
# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

DOCUMENTATION = r"""
---
module: certificate_info
short_description: Facts of a thin-edge.io device certificate, whether its renewal is due, and what the last runs did
version_added: 0.1.0
description:
  - Reads the certificate at O(path) (or given as O(content)), or the one a desired state names, as C(reconcile show)
    does, and returns its subject, issuer, serial, validity, days left, renewal time, whether renewal is due,
    key algorithm and fingerprint; also under the names community.crypto's M(community.crypto.x509_certificate_info)
    uses (RV(subject) and RV(issuer) as dicts, RV(serial_number) as an integer, RV(fingerprints), RV(public_key_type)).
  - Returns the run history as C(reconcile status) shows it (RV(history)), that is the last run and its outcome, the last
    success, the failures in a row and the backoff. Changes nothing.
  - Renewal is due under O(renew_before), else the desired state's C(validity.renew_before), else
    C(certificate.validity.minimum_duration) from C(tedge.toml), else C(30d).
  - A certificate that is missing or cannot be read fails the task.
  - Takes O(tenant) only so that C(module_defaults) for the action group C(group/tedge_cert.c8y_ca.c8y) may set it;
    it is not used (this module contacts nothing).
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
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: N/A
    details: It changes nothing, so there is no difference to show.
  idempotent:
    support: full
    details: It changes nothing.
options:
  path:
    description: The certificate. Default C(paths.cert) of the desired state, else C(device.cert_path), else C(<config_dir>/device-certs/tedge-certificate.pem).
    type: path
  content:
    description:
      - The certificate itself (PEM), instead of a file, as in M(community.crypto.x509_certificate_info).
      - RV(file) is then V(null); RV(history) is still that of the desired state's certificate.
    type: str
  state_file:
    description: A desired-state YAML file on the managed host. Default C(<config_dir>/reconcile.yaml) when it exists.
    type: path
  config_dir:
    description: The thin-edge config dir holding C(tedge.toml). Default C($TEDGE_CONFIG_DIR), else C(/etc/tedge).
    type: path
  renew_before:
    description: Renewal is due this long before expiry (C(30d)), or at this share of the issued lifetime left (C(33%)).
    type: raw
  valid_at:
    description:
      - Points in time to check the certificate's validity at, by name, as in M(community.crypto.x509_certificate_info).
      - Each is relative to now (C(+30d), C(-1h), the durations of the desired state) or absolute
        (C(20270101000000Z), or C(2027-01-01T00:00:00Z)). The answers are in RV(valid_at).
    type: dict
seealso:
  - module: tedge_cert.c8y_ca.certificate
  - module: community.crypto.x509_certificate_info
"""

EXAMPLES = r"""
- name: Read the device certificate
  tedge_cert.c8y_ca.certificate_info:
    config_dir: /etc/tedge
  register: cert

- name: Warn about certificates that have less than two weeks left
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} expires on {{ cert.not_after }}"
  when: cert.days_left < 14

- name: Which devices are due for renewal at 60 days, and valid in a week?
  tedge_cert.c8y_ca.certificate_info:
    path: /etc/tedge/device-certs/tedge-certificate.pem
    renew_before: 60d
    valid_at:
      next_week: +7d
  register: due

- name: Devices whose last run failed
  ansible.builtin.debug:
    msg: "{{ cert.history.last_failure.reason }}: {{ cert.history.last_failure.message }}"
  when: cert.history.consecutive_failures > 0
"""

RETURN = r"""
file:
  description:
    - The certificate file. V(null) with O(content), and when the task failed before the path was known (bad input).
    - Nested, so that Ansible does not add the file attributes of a top-level C(path) to the result.
  returned: always
  type: dict
  contains:
    path:
      description: The certificate file.
      type: str
    exists:
      description: Whether it exists (a missing certificate fails the task).
      type: bool
    mode:
      description: Its mode, octal.
      type: str
      sample: "0644"
    uid:
      description: Its owner.
      type: int
    gid:
      description: Its group.
      type: int
history:
  description:
    - What the last runs did, from the run history beside the certificate (C(.<cert name>.reconcile-state.json)),
      as C(reconcile status --output json) shows it. V(null) when the task failed before the desired state was read.
    - A device with no history yet has RV(history.last_run=null) and no failures.
  returned: always
  type: dict
  contains:
    device_id:
      description: The device the history is of.
      type: str
    last_run:
      description: The last run (not a dry run), or null.
      type: dict
      contains:
        time:
          description: When it ended, UTC.
          type: str
        status:
          description: C(converged), C(changed), C(blocked), C(failed), C(interrupted) or C(backoff).
          type: str
        exit_code:
          description: Its exit code.
          type: int
    last_success:
      description: When a run last converged or changed the device, UTC, or null.
      type: str
    consecutive_failures:
      description: Blocked or failed runs since the last success.
      type: int
    last_failure:
      description: The last blocked or failed run, or null.
      type: dict
      contains:
        time:
          description: When it ended, UTC.
          type: str
        reason:
          description: Short and machine-readable, for example C(enroll:unreachable) or C(blocked:OneTimePasswordMissing).
          type: str
        exit_code:
          description: Its exit code.
          type: int
        message:
          description: What went wrong.
          type: str
    backoff_until:
      description: No request to the tenant before this time (UTC), or null.
      type: str
    tenant_failures:
      description: Runs in a row in which the tenant failed.
      type: int
    backoff_reason:
      description: What failed last with the tenant, or null.
      type: str
    tenant_wait_until:
      description: The tenant's own C(Retry-After), UTC, or null.
      type: str
    last_request:
      description:
        - The last explicit renewal (O(tedge_cert.c8y_ca.certificate#module:renew_now), C(reconcile --renew-now), the
          C(c8y_RenewCertificate) operation), or null. A record, never a pending order.
      type: dict
      contains:
        time:
          description: When its run ended, UTC.
          type: str
        status:
          description: C(completed) or C(failed).
          type: str
        rotate_key:
          description: Whether a new key was asked for.
          type: bool
    twin_published:
      description: When the C(deviceCertificate) twin was last published to the local broker, UTC, or null.
      type: str
    backing_off:
      description:
        - Whether the backoff holds now for this desired state (a run would ask the tenant nothing).
        - See C(ignore_backoff) of M(tedge_cert.c8y_ca.certificate).
      type: bool
subject_cn:
  description: The CN, the device id.
  returned: success
  type: str
  sample: gw-0001
subject:
  description: The subject as community.crypto returns it, by attribute name (a repeated attribute gives its last value).
  returned: success
  type: dict
  sample: {"commonName": "gw-0001", "organizationName": "Thin Edge", "organizationalUnitName": "Device"}
subject_rfc4514:
  description: The subject, RFC 4514.
  returned: success
  type: str
  sample: OU=Device,O=Thin Edge,CN=gw-0001
issuer:
  description: The issuer as community.crypto returns it, by attribute name.
  returned: success
  type: dict
  sample: {"commonName": "management", "organizationName": "Cumulocity"}
issuer_rfc4514:
  description: The issuer, RFC 4514.
  returned: success
  type: str
  sample: CN=management,O=Cumulocity,C=United States
serial:
  description: The serial number, hexadecimal (as C(reconcile show) prints it).
  returned: success
  type: str
  sample: 1a2b3c
serial_number:
  description: The serial number as an integer, as community.crypto returns it.
  returned: success
  type: int
  sample: 1715004
not_before:
  description: Start of validity, UTC.
  returned: success
  type: str
  sample: "2026-11-27T09:24:17Z"
not_after:
  description: End of validity, UTC.
  returned: success
  type: str
  sample: "2027-11-27T09:24:17Z"
days_left:
  description: Days until it expires.
  returned: success
  type: float
  sample: 364.5
renew_at:
  description: When renewal is due, UTC.
  returned: success
  type: str
  sample: "2027-10-28T09:24:17Z"
renewal_due:
  description: Whether renewal is due now.
  returned: success
  type: bool
expired:
  description: Whether it has expired.
  returned: success
  type: bool
renew_before:
  description: The threshold used for RV(renew_at).
  returned: success
  type: str
  sample: 30d
valid_at:
  description: For each point of O(valid_at), whether the certificate is valid then. Empty without O(valid_at).
  returned: success
  type: dict
  sample: {"next_week": true}
fingerprint_sha256:
  description: SHA-256 fingerprint of the DER certificate, hexadecimal.
  returned: success
  type: str
fingerprints:
  description: Fingerprints of the DER certificate by hash, colon-separated hexadecimal, as community.crypto returns them.
  returned: success
  type: dict
  contains:
    sha256:
      description: The SHA-256 fingerprint.
      type: str
      sample: "ab:cd:ef:..."
key_algorithm:
  description: The algorithm of its public key.
  returned: success
  type: str
  sample: ec-p256
public_key_type:
  description: The type of its public key as community.crypto names it (C(ECC), C(RSA), C(Ed25519), C(Ed448), ...).
  returned: success
  type: str
  sample: ECC
exit_code:
  description: The exit code C(reconcile show) would have (V(0), V(1) when the certificate cannot be read, V(3) for bad input).
  returned: always
  type: int
exit_name:
  description: The name of RV(exit_code) in lower case.
  returned: always
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._certificate_info import (
    crypto_names,
    public_key_type,
    split_facts,
    valid_at,
)
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import tenant_argument_spec
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields, fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading, require_reconciler


def _certificate(params, path, renew_before, now):
    """(file facts or None, the engine's certificate facts, the parsed certificate).
    ReconcileError when there is none (its `file` says what is at the path)."""
    from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
    from reconciler.basics.limits import MAX_PEM_BYTES
    from reconciler.basics.safe_read import read_regular
    from reconciler.device.observe import observe_cert
    from reconciler.planning.observation import CertFacts, FileInfo
    from reconciler.runs.facts import cert_facts
    from reconciler.x509.facts import certificate_info, load_certificates

    if params["content"] is not None:
        try:
            cert = load_certificates(params["content"].encode())[0]
            info = certificate_info(cert)
        except ValueError as err:
            raise BadInput(f"content: {err}") from None
        facts = cert_facts(CertFacts(FileInfo(Path("content"), True), info=info), renew_before, now)
        return None, split_facts(facts)[1], cert
    facts = cert_facts(observe_cert(path), renew_before, now)
    file, rest = split_facts(facts)
    problem = None if facts["exists"] else "no such certificate"
    problem = facts["error"] or problem
    if problem is None:
        try:  # read again for the names community.crypto gives: the engine's facts hold only text
            return file, rest, load_certificates(read_regular(path, MAX_PEM_BYTES))[0]
        except (OSError, ValueError) as err:  # replaced between the two reads
            problem = str(err)
    error = ReconcileError(f"{path}: {problem}", ExitCode.ERROR)  # as `reconcile show`: exit 1
    error.file = file
    raise error


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            content=dict(type="str"),
            state_file=dict(type="path"),
            config_dir=dict(type="path"),
            renew_before=dict(type="raw"),
            valid_at=dict(type="dict"),
            tenant=tenant_argument_spec(),
        ),
        mutually_exclusive=[("path", "content")],
        supports_check_mode=True,
    )
    require_reconciler(module)

    # The engine, now that it is known to be installed.
    with engine_loading():  # pydantic's plugins off for these imports only
        from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
        from reconciler.basics.layout import state_file
        from reconciler.basics.timestamps import utc_now
        from reconciler.desired.source import load_spec_or_defaults
        from reconciler.desired.types import parse_renew_before
        from reconciler.runs.history_view import history_view
        from reconciler.runs.history_file import read_history

    params, file, history, now = module.params, None, None, utc_now()
    try:
        source = load_spec_or_defaults(params["config_dir"], Path(params["state_file"]) if params["state_file"] else None)
        spec = source.spec
        renew_before = spec.validity.renew_before
        if params["renew_before"] is not None:
            try:
                renew_before = parse_renew_before(params["renew_before"])
            except ValueError as err:
                raise BadInput(f"renew_before: {err}") from None
        path = Path(params["path"]) if params["path"] else spec.paths.cert
        runs = read_history(state_file(path), warn=module.warn)
        # without a desired state the device id is only a placeholder: the history knows better
        device_id = runs.device_id if runs is not None and not source.given else spec.device_id
        history = history_view(runs, device_id, spec, source.given, now)
        file, facts, cert = _certificate(params, path, renew_before, now)
        moments = valid_at(params["valid_at"], cert.not_valid_before_utc, cert.not_valid_after_utc, now)
    except ReconcileError as err:
        fail_with_engine_error(module, err, changed=False, file=getattr(err, "file", file), history=history)
    facts["subject_rfc4514"], facts["issuer_rfc4514"] = facts.pop("subject"), facts.pop("issuer")
    module.exit_json(
        changed=False,
        file=file,
        history=history,
        renew_before=str(renew_before),
        public_key_type=public_key_type(facts["key_algorithm"]),
        valid_at=moments,
        **dict(facts, **crypto_names(cert)),
        **exit_fields(ExitCode.OK)
    )


if __name__ == "__main__":
    main()
