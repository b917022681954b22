#!/usr/bin/python
# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

DOCUMENTATION = r"""
---
module: certificate_info
short_description: Facts of a thin-edge.io device certificate, and whether its renewal is due
version_added: 0.1.0
description:
  - Reads the certificate at O(path), or the one a desired state names, as C(reconcile show) does,
    and returns its subject, issuer, serial, validity, days left, renewal time, whether renewal is due,
    key algorithm and fingerprint. Changes nothing.
  - Renewal is due under O(renew_before), else the desired state's C(validity.renew_before), else
    C(certificate.validity.minimum_duration) from C(tedge.toml), else C(30d).
  - A certificate that is missing or cannot be read fails the task.
author:
  - tedge-cert-reconciler maintainers (@tedge-cert-reconciler)
extends_documentation_fragment:
  - tedge_cert.c8y_ca.library
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: N/A
    description: It changes nothing, so there is no difference to show.
options:
  path:
    description: The certificate. Default C(paths.cert) of the desired state, else C(device.cert_path), else C(<config_dir>/device-certs/tedge-certificate.pem).
    type: path
  state_file:
    description: A desired-state YAML file on the managed host. Default C(<config_dir>/reconcile.yaml) when it exists.
    type: path
  config_dir:
    description: The thin-edge config dir holding C(tedge.toml). Default C($TEDGE_CONFIG_DIR), else C(/etc/tedge).
    type: path
  renew_before:
    description: Renewal is due this long before expiry (C(30d)), or at this share of the issued lifetime left (C(33%)).
    type: raw
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

- name: Which devices are due for renewal at 60 days?
  tedge_cert.c8y_ca.certificate_info:
    path: /etc/tedge/device-certs/tedge-certificate.pem
    renew_before: 60d
  register: due
"""

RETURN = r"""
path:
  description: The certificate file.
  returned: always
  type: str
exists:
  description: Whether it exists (a missing certificate fails the task).
  returned: always
  type: bool
mode:
  description: Its mode, octal.
  returned: success
  type: str
  sample: "0644"
uid:
  description: Its owner.
  returned: success
  type: int
gid:
  description: Its group.
  returned: success
  type: int
subject_cn:
  description: The CN, the device id.
  returned: success
  type: str
  sample: gw-0001
subject:
  description: The subject, RFC 4514.
  returned: success
  type: str
  sample: OU=Device,O=Thin Edge,CN=gw-0001
issuer:
  description: The issuer, RFC 4514.
  returned: success
  type: str
  sample: CN=management,O=Cumulocity,C=United States
serial:
  description: The serial number.
  returned: success
  type: str
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
fingerprint_sha256:
  description: SHA-256 fingerprint of the DER certificate.
  returned: success
  type: str
key_algorithm:
  description: The algorithm of its public key.
  returned: success
  type: str
  sample: ec-p256
exit_code:
  description: The exit code C(reconcile show) would have.
  returned: failure
  type: int
exit_name:
  description: The name of RV(exit_code) in lower case.
  returned: failure
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state import load_desired_state
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import require_reconciler


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            state_file=dict(type="path"),
            config_dir=dict(type="path"),
            renew_before=dict(type="raw"),
        ),
        supports_check_mode=True,
    )
    require_reconciler(module)

    # The engine, now that it is known to be installed.
    from reconciler.basics.timestamps import utc_now
    from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
    from reconciler.runs.facts import cert_facts
    from reconciler.device.observe import observe_cert
    from reconciler.desired.types import parse_renew_before

    params = module.params
    try:
        spec = load_desired_state(params, required=False)[0]
        renew_before = spec.validity.renew_before
        if params["renew_before"] is not None:
            try:
                renew_before = parse_renew_before(params["renew_before"])
            except ValueError as err:
                raise BadInput(f"renew_before: {err}") from None
        path = Path(params["path"]) if params["path"] else spec.paths.cert
        facts = cert_facts(observe_cert(path), renew_before, utc_now())
    except ReconcileError as err:
        fail_with_engine_error(module, err, changed=False)
    if not facts["exists"] or facts["error"]:  # as `reconcile show`: exit 1, the certificate cannot be read
        problem = facts["error"] or "no such certificate"
        fail_with_engine_error(module, ReconcileError(f"{path}: {problem}", ExitCode.ERROR), changed=False, **facts)
    module.exit_json(changed=False, renew_before=str(renew_before), **facts)


if __name__ == "__main__":
    main()
