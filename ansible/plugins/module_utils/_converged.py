# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The converged check of the `certificate` module, the same as the `reconcile` command's: a
converged device is answered from the stamp of the last full run (reconciler.converged) before
pydantic, PyYAML or cryptography is imported; the full engine writes the stamp again.

With `state_file` (or the config dir's reconcile.yaml) the stamp is the command's own, beside that
file. Inline options have theirs in the config dir, for the digest of the options (the one-time
password left out: only whether one is given counts). Call only after `require_reconciler()`.
"""

import hashlib
import json
import os
from pathlib import Path

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._certificate_result import certificate_summary
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state import IN_MEMORY_PASSWORD, desired_state_data
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields

INLINE_STAMP = ".ansible-certificate.reconcile-stamp.json"
CONFIG_DIR_ENV = "TEDGE_CONFIG_DIR"  # as reconciler.desired.tedge_toml.config_dir_from
DEFAULT_CONFIG_DIR = "/etc/tedge"


def _config_dir(params):
    return Path(params.get("config_dir") or os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def stamp_place(params):
    """(stamp file, source, config dir, environ, options digest or None) of the desired state the options name."""
    from reconciler.converged.stamp import absolute, stamp_path  # after require_reconciler(): the engine may be missing

    config_dir = _config_dir(params)
    if params.get("device_id") is None:
        desired = Path(params["state_file"]) if params["state_file"] else config_dir / "reconcile.yaml"
        return stamp_path(desired), absolute(desired), config_dir, dict(os.environ), None
    data, password = desired_state_data(params)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    environ = dict(os.environ, **{IN_MEMORY_PASSWORD: password}) if password is not None else dict(os.environ)
    return config_dir / INLINE_STAMP, "options:" + digest, config_dir, environ, digest


def answer_from_stamp(params, check_mode, with_diff):
    """The module's result when the stamp answers (a real run recorded in the run history, under the
    lock; a check records nothing, as a dry run); None when the full engine must run."""
    from reconciler.converged.answer import answer  # after require_reconciler()

    if params["ignore_backoff"] or params.get("renew_now") or params.get("rotate_key") or params["lock_timeout"] < 0:
        return None
    stamp_file, source, config_dir, environ = stamp_place(params)[:4]
    answered = answer(stamp_file, source, config_dir, environ, record=not check_mode)
    if answered is None:
        return None
    facts = answered.report["before"]["certificate"]
    result = dict(changed=False, status="converged", reasons=[], actions=[], blockers=[], certificate=facts,
                  message=answered.stamp.summary, backoff=None, answered_from="stamp", **exit_fields(0))
    if with_diff:
        summary = certificate_summary(facts, answered.report["before"].get("key"))
        result["diff"] = dict(before=summary, after=summary)
    return result


def stamp_keeper(params, check_mode):
    """What the full engine keeps the stamp with: made before the desired state is read (a check keeps none)."""
    from reconciler.runs.stamp_keeper import NoStamp, StampKeeper  # the full engine is being loaded anyway

    if check_mode:
        return NoStamp()
    stamp_file, source, config_dir, environ, digest = stamp_place(params)
    if digest is None:
        return StampKeeper(Path(source), config_dir)
    return StampKeeper(Path(source), config_dir, options_digest=digest, stamp_file=stamp_file, environ=environ)
