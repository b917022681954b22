# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The engine's report (the CLI's JSON report) as the `certificate` module's result."""

from pathlib import Path

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._failure import exit_fields

# What `diff` shows of a certificate: enough to see what changed, never key material.
DIFF_FIELDS = ("subject_cn", "issuer", "serial", "not_after", "renew_at", "fingerprint_sha256", "mode", "uid", "gid")
# ... and of the private key's file: what `fix_permissions` changes, never its content.
KEY_DIFF_FIELDS = ("mode", "uid", "gid")


def certificate_summary(facts, key_facts=None):
    """The diff's view of one state: the certificate's fields, and the key file's as `key_<field>`."""
    summary = dict((name, facts.get(name)) for name in DIFF_FIELDS) if facts.get("exists") else {}
    if key_facts and key_facts.get("exists"):
        summary.update(("key_" + name, key_facts.get(name)) for name in KEY_DIFF_FIELDS)
    return summary


def _state_summary(state):
    return certificate_summary(state["certificate"], state.get("key"))


def _backup_file(actions):
    """The copy of the replaced certificate, when this run made one (the backup action names its folder)."""
    from reconciler.device.backup import CERT_FILE

    for action in actions:
        if action["action"] == "backup" and action["status"] == "done" and action["detail"]:
            folder = Path(action["detail"])
            return str(folder / CERT_FILE) if folder.is_dir() else str(folder)
    return None


def _message(report, document):
    if document["error"]:
        return document["error"]["message"]
    if document["blockers"]:
        return " ".join(blocker["message"] for blocker in document["blockers"])
    if report.backoff is not None:
        return report.backoff_message
    if document["message"]:
        return document["message"]
    from reconciler.runs.report import render_text

    return render_text(report).strip()  # the engine's own sentence for a converged device


def _diff(document, pending):
    before = _state_summary(document["before"])
    if document["after"]:
        return dict(before=before, after=_state_summary(document["after"]))
    if pending:  # check mode: nothing was issued yet, so show what would be done
        return dict(before=before, after=dict(before, pending=[f"{a['action']} [{a['reason']}]" for a in document["actions"]]))
    return dict(before=before, after=before)


def certificate_result(report, check_mode, with_diff):
    """(failed, result): the result is the same whether the task fails or not."""
    from reconciler.runs.report import report_dict

    document = report_dict(report)
    # a plan is pending when it has actions, also while a backoff would hold the real run back
    pending = document["status"] == "pending" or (check_mode and document["status"] == "backoff")
    facts = (document["after"] or document["before"])["certificate"]
    result = dict(
        changed=pending if check_mode else document["changed"],
        status=document["status"],
        reasons=document["reasons"],
        actions=document["actions"],
        blockers=document["blockers"],
        certificate=facts,
        message=_message(report, document),
        backoff=document["backoff"],
        **exit_fields(report.exit_code())
    )
    backup_file = _backup_file(document["actions"])
    if backup_file:
        result["backup_file"] = backup_file
    if with_diff:
        result["diff"] = _diff(document, pending)
    # a backoff stops a run, not a plan: check mode reports it (`backoff`, exit_name) without failing
    return document["status"] in ("failed", "blocked") or (document["status"] == "backoff" and not check_mode), result
