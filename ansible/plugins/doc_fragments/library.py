# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Documentation every module of the collection shares: where the engine must be installed, and where it runs."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - tedge-cert-reconciler (the C(reconciler) Python package, C(pip install tedge-cert-reconciler)) in the
    Python that runs the module
notes:
  - The modules import the engine on the host where they run; Ansible ships only their own helpers.
    Point C(ansible_python_interpreter) at a Python that has it (for C(delegate_to=localhost), the
    controller's). Without it, the task fails with a message naming the pip package.
"""
