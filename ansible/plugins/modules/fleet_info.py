#!/usr/bin/python
# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

DOCUMENTATION = r"""
---
module: fleet_info
short_description: Every thin-edge.io device's certificate as the Cumulocity inventory shows it
version_added: 0.1.0
description:
  - The facts of C(reconcile fleet status --output json), from the tenant administrator's side. Each device
    publishes its certificate's facts as the twin fragment C(deviceCertificate) after every run; this module
    reads them back from the inventory, sorted by the tenant on C(deviceCertificate.notAfterEpoch)
    (soonest expiry first), in pages of 2000.
  - Without a filter it also returns the devices without the fragment and the registrations never used.
  - Reads only; usually run with C(delegate_to=localhost) and C(run_once=true).
  - Of O(tenant) it uses O(tenant.url), O(tenant.ca_bundle) and O(tenant.timeout) (default C(60s)) and ignores the other keys.
  - The administrator needs ROLE_INVENTORY_READ and ROLE_DEVICE_CONTROL_READ.
  - The tenant and the administrator can come from the environment alone (E(C8Y_HOST), E(C8Y_USER),
    E(C8Y_PASSWORD), E(C8Y_TENANT)), as for C(reconcile fleet).
author:
  - tedge-cert-reconciler maintainers (@tedge-cert-reconciler)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tedge_cert.c8y_ca.attributes
  - tedge_cert.c8y_ca.library
  - tedge_cert.c8y_ca.tenant
  - tedge_cert.c8y_ca.admin
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    details: Nothing changes.
  idempotent:
    support: full
    details: It only reads.
options:
  expiring_within:
    description: Only the devices whose certificate expires within this duration (V(30d), V(12h), ...).
    type: str
  failing:
    description: Only the devices whose last runs failed (C(deviceCertificate.consecutiveFailures) above 0).
    type: bool
    default: false
seealso:
  - module: tedge_cert.c8y_ca.certificate
  - module: tedge_cert.c8y_ca.registration
"""

EXAMPLES = r"""
- name: Certificates that expire within 30 days
  tedge_cert.c8y_ca.fleet_info:
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    expiring_within: 30d
  delegate_to: localhost
  run_once: true
  register: expiring

- name: Name them
  ansible.builtin.debug:
    msg: "{{ item.device }} expires in {{ item.days_left }} days"
  loop: "{{ expiring.devices }}"
"""

RETURN = r"""
devices:
  description: One entry per device that carries the C(deviceCertificate) fragment, soonest expiry first.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The device id (the certificate's CN, else the managed object's name).
      type: str
    managed_object:
      description: The managed object's id.
      type: str
    serial:
      description: The certificate's serial number (hex).
      type: str
    not_after:
      description: When the certificate expires (ISO 8601 UTC).
      type: str
    days_left:
      description: Whole days until then (negative once expired); null when the fragment has no C(notAfterEpoch).
      type: int
    renew_at:
      description: When the device will renew (ISO 8601 UTC).
      type: str
    last_run:
      description: When reconcile last ran on the device.
      type: str
    last_status:
      description: That run's outcome (C(converged), C(changed), C(failed), ...).
      type: str
    failures:
      description: Consecutive failed runs.
      type: int
    last_failure_reason:
      description: The reason of the current run of failures, or null.
      type: str
without_fragment:
  description: Devices without the fragment (no reconcile run has published yet); empty with a filter.
  returned: always
  type: list
  elements: dict
unused_registrations:
  description: Registrations never used for an enrollment (C(device), C(status)); empty with a filter.
  returned: always
  type: list
  elements: dict
requests:
  description: The requests made to the tenant, also when the task failed (those made before the failure).
  returned: always
  type: int
exit_code:
  description: The exit code C(reconcile fleet status) would have.
  returned: always
  type: int
exit_name:
  description: The name of RV(exit_code) in lower case.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._admin import admin_argument_spec, admin_client
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields, fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading, require_reconciler


def argument_spec():
    return dict(
        admin_argument_spec(),
        expiring_within=dict(type="str"),
        failing=dict(type="bool", default=False),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    require_reconciler(module)

    # The engine, now that it is known to be installed.
    with engine_loading():  # pydantic's plugins off for these imports only
        from reconciler.basics.durations import parse_duration
        from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
        from reconciler.basics.timestamps import utc_now
        from reconciler.c8y.fleet_status import fleet_status

    params, admin = module.params, None
    now_epoch = int(utc_now().timestamp())
    try:
        expiring_before = None
        if params["expiring_within"]:
            try:
                expiring_before = now_epoch + int(parse_duration(params["expiring_within"]).total_seconds())
            except ValueError as err:
                raise BadInput(f"expiring_within: {err}") from None
        admin = admin_client(params)
        status = fleet_status(admin, expiring_before=expiring_before, failing=params["failing"])
    except ReconcileError as err:
        # Every key documented `returned: always`, empty: a playbook may read them after ignore_errors.
        fail_with_engine_error(module, err, changed=False, devices=[], without_fragment=[], unused_registrations=[],
                               requests=admin.requests_made if admin is not None else 0)
    module.exit_json(changed=False, devices=status.rows(now_epoch), requests=status.requests, **status.others(),
                     **exit_fields(ExitCode.OK))


if __name__ == "__main__":
    main()
