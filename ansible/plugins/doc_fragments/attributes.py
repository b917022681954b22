# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Attributes every module of the collection documents besides Ansible's common ones."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
attributes:
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second run reports no change
        (when nothing else changed in between).
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: full
    membership:
      - tedge_cert.c8y_ca.c8y
notes:
  - A task whose host lacks the engine (or has one of another version) fails before anything else, with only
    C(msg) (and C(exception)); every other result, failed or not, has each key documented as returned V(always).
"""
