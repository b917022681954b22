# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The `reconciler` package on the managed host.

AnsiballZ ships only module_utils; the engine itself must be installed in the Python that
`ansible_python_interpreter` names. Every module asks `require_reconciler()` before it does anything.
"""

import os
import traceback

from ansible.module_utils.basic import missing_required_lib

PIP_PACKAGE = "tedge-cert-reconciler"

# pydantic otherwise looks up plugin entry points on first use, which costs more than a whole plan
# (the CLI does the same).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

try:
    import reconciler  # noqa: F401  pylint: disable=unused-import
except ImportError:
    IMPORT_ERROR = traceback.format_exc()
else:
    IMPORT_ERROR = None


def require_reconciler(module):
    """Fail the task, naming the pip package, when the engine is not importable on this host."""
    if IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(PIP_PACKAGE), exception=IMPORT_ERROR)
