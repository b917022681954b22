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
  - Idempotent. A device whose registration is already pending is V(present) and left alone (the tenant
    does not show its password), unless O(replace=true). O(state=absent) removes pending registrations.
    A device that has already enrolled has no pending registration; register it again only when it
    needs a new first certificate (the fleet example in the collection README asks the devices first).
  - The task also returns the tenant's CA certificate (RV(tenant_ca)), read from the tenant's trusted
    certificates (C(GET /tenant/tenants/<id>/trusted-certificates), the entry marked
    C(tenantCertificateAuthority)). A device cannot learn it by itself; put it into every device's
    C(tenant.ca_certificate) so that the certificates it is issued are checked against it.
  - New registrations go to the tenant in bulk (C(POST /devicecontrol/bulkNewDeviceRequests), 1000 per
    request); each device's status is read first (C(GET /devicecontrol/newDeviceRequests/<id>)).
author:
  - tedge-cert-reconciler maintainers (@tedge-cert-reconciler)
extends_documentation_fragment:
  - tedge_cert.c8y_ca.library
attributes:
  check_mode:
    support: full
    description: Reads each device's status and reports what would change; registers and removes nothing.
  diff_mode:
    support: none
    description: The results per device say what changed.
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
    description: Remove a pending registration first and register the device again, with the password given now.
    type: bool
    default: false
  fetch_tenant_ca:
    description:
      - Read the tenant's CA certificate and return it as RV(tenant_ca), as C(reconcile register --ca-out) does.
      - Needs a user with ROLE_TENANT_ADMIN or ROLE_TENANT_MANAGEMENT_READ; set V(false) for a user that only registers devices.
    type: bool
    default: true
  tenant:
    description: The tenant, in the same shape as in M(tedge_cert.c8y_ca.certificate).
    type: dict
    suboptions:
      url:
        description:
          - The tenant's HTTPS address; C(https://) is added.
          - If not set, the environment variable E(C8Y_HOST) is used, as by C(reconcile register).
        type: str
      ca_bundle:
        description: PEM file to trust for the tenant's HTTPS instead of the system store.
        type: path
  user:
    description:
      - The administrator's user name (ROLE_DEVICE_CONTROL_ADMIN).
      - If not set, the environment variable E(C8Y_USER) is used.
    type: str
    required: true
  password:
    description:
      - The administrator's password.
      - If not set, the environment variable E(C8Y_PASSWORD) is used.
    type: str
    required: true
  tenant_id:
    description:
      - The tenant id, which prefixes the user name (C(t12345/admin)).
      - If not set, the environment variable E(C8Y_TENANT) is used.
    type: str
notes:
  - The module talks only to the tenant; run it where the tenant can be reached, usually the controller.
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
  description: One entry per device, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The device id.
      type: str
    result:
      description:
        - V(created), V(updated) or V(replaced) (registered now), V(present) (already pending, left alone),
          V(removed), V(absent) (nothing to remove), or V(failed).
        - In check mode, what would be done.
      type: str
    status:
      description: The pending registration's status before the task (C(WAITING_FOR_CONNECTION), C(PENDING_ACCEPTANCE), ...), or null.
      type: str
    reason:
      description: The tenant's reason when V(failed).
      type: str
tenant_ca:
  description:
    - The tenant's CA certificate, for the devices' C(tenant.ca_certificate); null with O(fetch_tenant_ca=false).
    - Cumulocity renews it every year with the same key, so a device keeps verifying with an older copy;
      a CA with a new key is refused by the devices until their copy is replaced.
  returned: when O(fetch_tenant_ca=true)
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
  description: A count of the results, with the reasons of failed devices.
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

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import TENANT_CONNECTION
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields, fail_with_engine_error
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import require_reconciler
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._registration import (
    CHANGES,
    reconcile_registrations,
    registrations,
    summary,
    tenant_ca_of,
)


def argument_spec():
    tenant = dict((name, dict(spec)) for name, spec in TENANT_CONNECTION.items())
    tenant["url"]["fallback"] = (env_fallback, ["C8Y_HOST"])
    return dict(
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
        fetch_tenant_ca=dict(type="bool", default=True),
        tenant=dict(type="dict", options=tenant, apply_defaults=True),  # so that C8Y_HOST alone will do
        user=dict(type="str", required=True, fallback=(env_fallback, ["C8Y_USER"])),
        password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["C8Y_PASSWORD"])),
        tenant_id=dict(type="str", fallback=(env_fallback, ["C8Y_TENANT"])),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    require_reconciler(module)

    # The engine, now that it is known to be installed.
    from reconciler.c8y.admin import AdminClient, AdminCredentials
    from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
    from reconciler.desired.model import normalize_tenant_url

    params, tenant = module.params, module.params["tenant"]
    try:
        if not tenant["url"]:
            raise BadInput("tenant.url: required (or C8Y_HOST in the environment)")
        try:
            url = normalize_tenant_url(tenant["url"])
        except ValueError as err:
            raise BadInput(f"tenant.url: {err}") from None
        devices = registrations(params["devices"], params["state"])
        admin = AdminClient(url, AdminCredentials(params["user"], params["password"], params["tenant_id"]), tenant["ca_bundle"])
        tenant_ca = tenant_ca_of(admin) if params["fetch_tenant_ca"] else None  # first: a refusal registers nothing
        rows = reconcile_registrations(admin, devices, params["state"], params["replace"], module.check_mode)
    except ReconcileError as err:
        fail_with_engine_error(module, err, changed=False, devices=[])
    failed = any(row["result"] == "failed" for row in rows)
    result = dict(
        changed=any(row["result"] in CHANGES for row in rows),
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
