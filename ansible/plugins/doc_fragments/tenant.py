# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The `tenant` option, in the one shape every module of the collection takes, so that
`module_defaults: {group/tedge_cert.c8y_ca.c8y: {tenant: ...}}` can set it once for all of them."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  tenant:
    description:
      - The tenant, in the same shape in every module of the collection (and in the desired-state file), so that
        C(module_defaults) for the action group C(group/tedge_cert.c8y_ca.c8y) can set it once for all of them.
      - Each module uses the keys it needs and ignores the others; its description says which.
    type: dict
    suboptions:
      url:
        description:
          - The tenant's HTTPS address; C(https://) is added, C(http://) is refused.
          - M(tedge_cert.c8y_ca.certificate) defaults to C(c8y.http), else C(c8y.url), of C(tedge.toml);
            M(tedge_cert.c8y_ca.registration) to the environment variable E(C8Y_HOST).
        type: str
      mqtt:
        description: The tenant's MQTT endpoint C(host[:port]), for C(activation.verify=mqtt). Default C(c8y.mqtt), else the URL's host and port 8883.
        type: str
      ca_bundle:
        description: PEM file to trust for the tenant's HTTPS (and MQTT) instead of the system store.
        type: path
      ca_certificate:
        description:
          - The tenant CA certificate (PEM) that issued certificates must chain to.
          - When unset it is asked for at C(/.well-known/est/cacerts), and the chain is not checked if the tenant has none.
        type: path
      timeout:
        description:
          - Timeout of each HTTPS request, a duration (C(30s), C(2m), or whole seconds).
          - Default C(30s); in M(tedge_cert.c8y_ca.registration) C(60s), as C(reconcile register).
        type: raw
      backoff:
        description:
          - After a run in which the tenant failed (an enrollment or renewal that failed, or a certificate already due
            for renewal when issued), no request until this pause is over; see C(ignore_backoff) of M(tedge_cert.c8y_ca.certificate).
          - The pause starts at O(tenant.backoff.first) and doubles per failed run up to O(tenant.backoff.max).
        type: dict
        suboptions:
          first:
            description: The pause after the first failed run (a duration). Default C(1h).
            type: raw
          max:
            description: The longest pause (a duration). Default C(24h).
            type: raw
"""
