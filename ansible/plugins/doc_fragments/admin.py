# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The tenant administrator's credentials, as the modules that work from the controller take them."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  user:
    description:
      - The administrator's user name; each module names the roles it needs.
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
"""
