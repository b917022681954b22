# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The tenant administrator's options and session, shared by the modules that talk to the tenant
from the controller (registration, fleet_info), as `reconcile register` and `reconcile fleet` share them."""

from ansible.module_utils.basic import env_fallback

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import tenant_argument_spec
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading


def admin_argument_spec():
    """`tenant` (its URL defaulting to C8Y_HOST) and the administrator's user, password and tenant id."""
    tenant = tenant_argument_spec()
    tenant["options"]["url"]["fallback"] = (env_fallback, ["C8Y_HOST"])
    return dict(
        tenant=dict(tenant, apply_defaults=True),  # so that C8Y_HOST alone will do
        user=dict(type="str", required=True, fallback=(env_fallback, ["C8Y_USER"])),
        password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["C8Y_PASSWORD"])),
        tenant_id=dict(type="str", fallback=(env_fallback, ["C8Y_TENANT"])),
    )


def admin_client(params):
    """The administrator's session on the tenant: `tenant.url`, `tenant.ca_bundle` and `tenant.timeout` (the rest is not used here).

    Call only after `require_reconciler()`: the engine is imported here, on use.
    """
    with engine_loading():  # pydantic's plugins off for these imports only
        from reconciler.basics.durations import parse_duration
        from reconciler.basics.errors import BadInput
        from reconciler.c8y.admin import AdminClient, AdminCredentials
        from reconciler.desired.model import normalize_tenant_url

    tenant = params["tenant"]
    if not tenant["url"]:
        raise BadInput("tenant.url: required (or C8Y_HOST in the environment)")
    try:
        url = normalize_tenant_url(tenant["url"])
    except ValueError as err:
        raise BadInput(f"tenant.url: {err}") from None
    timeout = 60.0  # as `reconcile register`: a bulk upload of 1000 devices takes a while
    if tenant["timeout"] is not None:
        try:
            timeout = parse_duration(tenant["timeout"]).total_seconds()
        except ValueError as err:
            raise BadInput(f"tenant.timeout: {err}") from None
    credentials = AdminCredentials(params["user"], params["password"], params["tenant_id"])
    return AdminClient(url, credentials, tenant["ca_bundle"], timeout=timeout)
