#!/usr/bin/python
# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

DOCUMENTATION = r"""
---
module: registration
short_description: Register thin-edge.io devices on a Cumulocity tenant for certificate enrollment
version_added: 0.1.0
description:
  - The tenant administrator's side of enrollment, as C(reconcile register) does it. Each device is
    registered with its one-time password, so that the device can fetch its first certificate with
    M(tedge_cert.c8y_ca.certificate).
  - Usually run once for a whole inventory with C(delegate_to=localhost) and C(run_once=true).
  - The tenant and the administrator can come from the environment alone (E(C8Y_HOST), E(C8Y_USER),
    E(C8Y_PASSWORD), E(C8Y_TENANT)), as for C(reconcile register).
  - The administrator needs ROLE_DEVICE_CONTROL_ADMIN, and ROLE_IDENTITY_READ for the look-up of enrolled devices.
  - Idempotent. A device whose registration is already pending is V(present) and left alone (the tenant
    does not show its password), unless O(replace=true). O(state=absent) removes pending registrations.
  - A device that has already enrolled is looked up first (the identity API, its C(c8y_Serial) external id)
    and left alone as V(enrolled), since a new registration would issue a new one-time password with which anyone
    holding it could obtain a certificate for the device's name. That holds whatever its pending registration
    (a leftover one, even C(ACCEPTED)) and also with O(replace=true), as for C(reconcile register --replace).
    O(replace_enrolled=true) registers it all the same, on purpose.
  - O(tenant) takes the same shape as in every module of the collection; this module uses O(tenant.url),
    O(tenant.ca_bundle) and O(tenant.timeout) (default C(60s), as C(reconcile register)) and ignores the other keys.
  - The task also returns the tenant's CA certificate (RV(tenant_ca)), read from the tenant's trusted
    certificates (C(GET /tenant/tenants/<id>/trusted-certificates), the entry marked
    C(tenantCertificateAuthority)). A device cannot learn it by itself; put it into every device's
    C(tenant.ca_certificate) so that the certificates it is issued are checked against it.
  - New registrations go to the tenant in bulk (C(POST /devicecontrol/bulkNewDeviceRequests), 1000 per
    request); each device's status is read first (C(GET /devicecontrol/newDeviceRequests/<id>)).
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
    details: Reads each device's status (pending registration, enrolled) and reports what would change; registers and removes nothing.
  diff_mode:
    support: none
    details: The results per device (RV(devices)) say what changed.
  idempotent:
    support: partial
    details:
      - A second run with the same arguments leaves pending and enrolled devices alone and reports V(ok).
      - Not with O(replace=true) or O(replace_enrolled=true), which register again on every run, on purpose.
options:
  devices:
    description: The devices.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: The device id (its certificate's CN and external id).
        type: str
        required: true
      one_time_password:
        description:
          - The one-time password the device will enroll with, 8 to 32 characters without white space.
          - Required with O(state=present).
        type: str
      name:
        description: The device's name on the tenant. Default the id.
        type: str
      type:
        description: The device's type on the tenant.
        type: str
        default: thin-edge.io
  state:
    description: V(present) registers the devices; V(absent) removes their pending registrations.
    type: str
    choices: [present, absent]
    default: present
  replace:
    description:
      - Remove a pending registration first and register the device again, with the password given now.
      - Not for a device that has enrolled; that takes O(replace_enrolled).
    type: bool
    default: false
  replace_enrolled:
    description:
      - Register a device that has already enrolled again, which issues a new one-time password for an existing
        device (for example one whose key was lost). Anyone holding that password can obtain a certificate for it.
      - Without it, an enrolled device is left alone and reported V(enrolled).
    type: bool
    default: false
  fetch_tenant_ca:
    description:
      - Read the tenant's CA certificate and return it as RV(tenant_ca), as C(reconcile register --ca-out) does.
      - Needs a user with ROLE_TENANT_ADMIN or ROLE_TENANT_MANAGEMENT_READ; set V(false) for a user that only registers devices.
    type: bool
    default: true
seealso:
  - module: tedge_cert.c8y_ca.certificate
"""

EXAMPLES = r"""
- name: Register every device of the play with its generated one-time password
  tedge_cert.c8y_ca.registration:
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    devices: >-
      {{ ansible_play_hosts | map('extract', hostvars, 'c8y_registration') | list }}
  delegate_to: localhost
  run_once: true
  environment:
    C8Y_USER: "{{ vault_c8y_user }}"
    C8Y_PASSWORD: "{{ vault_c8y_password }}"
    C8Y_TENANT: t12345

- name: Register the devices and keep the tenant CA for them
  tedge_cert.c8y_ca.registration:
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    devices: "{{ new_devices }}"
  delegate_to: localhost
  run_once: true
  register: registration

- name: Give every device the tenant CA (its tenant.ca_certificate)
  ansible.builtin.copy:
    content: "{{ registration.tenant_ca.pem }}"
    dest: /etc/tedge/device-certs/c8y-tenant-ca.pem
    mode: "0644"

- name: Issue a new one-time password for a device that has enrolled but lost its key
  tedge_cert.c8y_ca.registration:
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    devices:
      - id: gw-0042
        one_time_password: "{{ new_password }}"
    replace_enrolled: true
  delegate_to: localhost

- name: Withdraw a registration that was never used
  tedge_cert.c8y_ca.registration:
    tenant:
      url: https://t12345.eu-latest.cumulocity.com
    user: "{{ vault_c8y_user }}"
    password: "{{ vault_c8y_password }}"
    devices:
      - id: gw-0042
    state: absent
"""

RETURN = r"""
devices:
  description:
    - One entry per device, in the order given.
    - Empty when the task failed before any device was looked at (bad input, refused credentials).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The device id.
      type: str
    result:
      description:
        - V(created), V(updated), V(replaced) or V(reregistered) (registered now; V(reregistered) is an enrolled device
          with O(replace_enrolled=true)), V(present) (already pending, left alone), V(enrolled) (has its certificate,
          left alone), V(removed), V(absent) (nothing to remove), or V(failed).
        - In check mode, what would be done.
      type: str
      choices: [created, updated, replaced, reregistered, present, enrolled, removed, absent, failed]
    status:
      description: The pending registration's status before the task (C(WAITING_FOR_CONNECTION), C(PENDING_ACCEPTANCE), ...), or null.
      type: str
    managed_object_id:
      description: The id of the device's managed object when it has enrolled (looked up for every device with O(state=present)), else null.
      type: str
    changed:
      description:
        - Whether the task changed the tenant for this device, also when it then failed (a pending registration
          removed by O(replace) before an upload that failed).
      type: bool
    reason:
      description: Why V(failed) (the tenant's reason, or the error that ended the task before this device was done), or why V(enrolled).
      type: str
tenant_ca:
  description:
    - The tenant's CA certificate, for the devices' C(tenant.ca_certificate); null with O(fetch_tenant_ca=false),
      and when the task failed before it was read.
    - Cumulocity renews it every year with the same key, so a device keeps verifying with an older copy;
      a CA with a new key is refused by the devices until their copy is replaced.
  returned: always
  type: dict
  contains:
    pem:
      description: The CA certificate(s) in PEM.
      type: str
    fingerprints_sha256:
      description: The SHA-256 fingerprint of each certificate (hex), as C(reconcile status) shows the trusted CA.
      type: list
      elements: str
    subjects:
      description: The subject of each certificate.
      type: list
      elements: str
    not_after:
      description: When each certificate expires (UTC).
      type: list
      elements: str
message:
  description: A count of the results, with the reasons of failed devices; or the error that ended the task.
  returned: always
  type: str
  sample: 2 created, 1 present
exit_code:
  description: The exit code C(reconcile register) would have; V(1) when a device failed.
  returned: always
  type: int
exit_name:
  description: The name of RV(exit_code) in lower case (C(ok), C(error), C(bad_input), C(tenant_refused), C(unreachable)).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._admin import admin_argument_spec, admin_client
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields, fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import require_reconciler
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._registration import (
    interrupted,
    new_rows,
    reconcile_registrations,
    registrations,
    summary,
    tenant_ca_of,
)


def argument_spec():
    return dict(
        admin_argument_spec(),
        devices=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                id=dict(type="str", required=True),
                one_time_password=dict(type="str", no_log=True),
                name=dict(type="str"),
                type=dict(type="str", default="thin-edge.io"),
            ),
        ),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        replace=dict(type="bool", default=False),
        replace_enrolled=dict(type="bool", default=False),
        fetch_tenant_ca=dict(type="bool", default=True),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    require_reconciler(module)

    # The engine, now that it is known to be installed.
    from reconciler.basics.errors import ExitCode, ReconcileError

    params, rows, tenant_ca = module.params, [], None
    try:
        devices = registrations(params["devices"], params["state"])
        admin = admin_client(params)
        tenant_ca = tenant_ca_of(admin) if params["fetch_tenant_ca"] else None  # first: a refusal registers nothing
        rows = new_rows(devices)
        reconcile_registrations(admin, devices, rows, params["state"], params["replace"], params["replace_enrolled"],
                                module.check_mode)
    except ReconcileError as err:  # what was done before it stays in the rows, and in `changed`
        rows = interrupted(rows, err)
        fail_with_engine_error(module, err, changed=any(row["changed"] for row in rows), devices=rows,
                               tenant_ca=tenant_ca, message=err.message)
    failed = any(row["result"] == "failed" for row in rows)
    result = dict(
        changed=any(row["changed"] for row in rows),
        devices=rows,
        tenant_ca=tenant_ca,
        message=summary(rows),
        **exit_fields(ExitCode.ERROR if failed else ExitCode.OK)
    )
    if failed:
        module.fail_json(msg=result["message"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
