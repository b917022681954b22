# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The engine's exit codes as result fields, so that playbooks can tell a lock from a missing registration."""


def exit_fields(code):
    """`exit_code` as the `reconcile` command would exit, and its name (`locked`, `timed_out`, ...)."""
    from reconciler.basics.errors import ExitCode

    try:
        name = ExitCode(code).name.lower()
    except ValueError:  # a code this version of the engine does not name
        name = f"exit_{int(code)}"
    return dict(exit_code=int(code), exit_name=name)


def fail_with_engine_error(module, engine_error, /, **result):
    """Fail the task with the engine's one-line message (a ReconcileError, e.g. bad input or a held lock)."""
    module.fail_json(msg=engine_error.message, **result, **exit_fields(engine_error.exit_code))
