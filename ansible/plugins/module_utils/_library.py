# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The `reconciler` package on the managed host, in the version range this collection was made for.

AnsiballZ ships only module_utils; the engine itself must be installed in the Python that
`ansible_python_interpreter` names. The modules call the engine's internals, which change between
its minor versions, so every module asks `require_reconciler()` before it does anything: a missing
engine and one outside ENGINE_VERSIONS fail the task with the same kind of guidance.
"""

import os
import platform
import re
import sys
import traceback
from contextlib import contextmanager

from ansible.module_utils.basic import missing_required_lib

PIP_PACKAGE = "tedge-cert-reconciler"

# The engine versions this collection works with: at least the first, below the second. Keep in step
# with requirements.txt (execution environments) and the README's install section.
ENGINE_VERSIONS = ("0.1.0", "0.2.0")
REQUIREMENT = "%s>=%s,<%s" % (PIP_PACKAGE, ENGINE_VERSIONS[0], ENGINE_VERSIONS[1])

try:
    import reconciler
except ImportError:
    IMPORT_ERROR = traceback.format_exc()
    ENGINE_VERSION = None
else:
    IMPORT_ERROR = None
    ENGINE_VERSION = getattr(reconciler, "__version__", None)


def release(version):
    """The numeric release of a version string ('0.1.0rc1' → (0, 1, 0)); None when it has none."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(version or ""))
    if match is None:
        return None
    numbers = [int(part) for part in match.group(1).split(".")]
    return tuple(numbers + [0] * (3 - len(numbers)))


def engine_version_problem(version):
    """Why `version` of the engine does not fit this collection, or None when it does."""
    found = release(version)
    if found is None:
        return "it reports no version (reconciler.__version__ = %r)" % (version,)
    if not release(ENGINE_VERSIONS[0]) <= found < release(ENGINE_VERSIONS[1]):
        return "it is version %s" % version
    return None


def require_reconciler(module):
    """Fail the task, naming the pip requirement, when the engine is missing or of another version."""
    if IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(REQUIREMENT), exception=IMPORT_ERROR)
    problem = engine_version_problem(ENGINE_VERSION)
    if problem is not None:
        # In the words of missing_required_lib: where it looked, what to install, which interpreter.
        module.fail_json(
            msg="The required Python library %s on %s's Python %s does not fit this collection: %s (%s). "
            "Install a version in that range into that Python (the tedge_cert.c8y_ca.device role does), or, "
            "if Ansible is using the wrong Python interpreter, please consult the documentation on "
            "ansible_python_interpreter"
            % (REQUIREMENT, platform.node(), sys.executable, problem, os.path.dirname(reconciler.__file__))
        )


@contextmanager
def engine_loading():
    """pydantic's plugins off while the engine's modules are imported, as for the `reconcile` command
    (reconciler.basics.pydantic_plugins); the commands a run starts get the task's environment."""
    from reconciler.basics.pydantic_plugins import plugins_off  # after require_reconciler(): the engine may be missing

    with plugins_off():
        yield
