"""The planner: (desired state, observation, clock) → ordered actions with reasons. Pure: no I/O.

The decision is a chain of small checks in order; the first that fires names the reason and the
remedy. The chain below reads as the specification, one check per line.
"""

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Callable, NamedTuple

from reconciler.basics.layout import staged
from reconciler.basics.timestamps import human_time
from reconciler.desired.model import DesiredState
from reconciler.desired.secrets import one_time_password_source
from reconciler.planning.candidate_check import better_than, candidate_problem, clock_behind
from reconciler.planning.model import Action, Blocker, Kind, Plan, Reason, RenewalRequest
from reconciler.planning.observation import Observation
from reconciler.planning.renewal import renewal_time


class Remedy(Enum):
    BLOCK = "block"  # only a person can fix it
    ENROLL = "enroll"  # new certificate with the one-time password, same key
    ENROLL_NEW_KEY = "enroll-new-key"  # no key yet: generate it in place, then enroll
    ROTATE = "rotate"  # new key staged beside the live one, then a certificate for it
    RENEW = "renew"  # re-enroll with the device token while the certificate is valid
    FINISH = "finish"  # a verified candidate is staged: back up, swap, activate


class Input(NamedTuple):
    """What every check reads. The last three are worked out once, by `_input`, from the first three."""

    spec: DesiredState
    obs: Observation
    now: datetime
    live_healthy: bool = False  # the live key and certificate work together now
    candidate_key: Path | None = None  # the key a usable staged candidate belongs to
    candidate_rejection: str | None = None  # why a staged candidate must be set aside
    request: RenewalRequest | None = None  # renew now although not due (--renew-now)


class Finding(NamedTuple):
    reason: Reason
    message: str
    remedy: Remedy


Check = Callable[[Input], Finding | None]


def _candidate_key(i: Input):
    """The key path the staged candidate belongs to (live or staged key), or None if it is unusable."""
    candidate = i.obs.candidate
    if not candidate.usable:
        return None, f"it cannot be used ({candidate.error})" if candidate.file.exists else None
    if candidate.chain_problem:
        return None, candidate.chain_problem
    key_path = _matching_key(i, candidate.info)
    if key_path is None:
        cn = candidate.info.subject_cn
        if cn != i.spec.device_id:
            return None, f"its CN is {cn!r}, not the device id {i.spec.device_id!r}"
        return None, "its public key is not the device's key"
    if clock_behind(candidate.info, i.now):
        return None, None  # not set aside: candidate_not_yet_valid blocks until the clock is right
    if key_path == i.spec.paths.key and _rotation_requested(i):
        return None, "it belongs to the current key, and a new key was asked for"
    live = i.obs.cert.info if i.live_healthy else None
    problem = candidate_problem(
        candidate.info, candidate.info.public_key_id, i.spec.device_id, i.now, i.spec.validity.renew_before,
        nothing_better=not better_than(live, candidate.info, i.now),
    )
    return (key_path, None) if problem is None else (None, problem)


def _rotation_requested(i: Input) -> bool:
    """A renewal asked for now that must bring a new key (a staged certificate for the old one will not do)."""
    return i.request is not None and (i.request.rotate_key or i.spec.key.rotate_on_renewal)


# --- the checks -------------------------------------------------------------------------------


def not_a_regular_file(i: Input) -> Finding | None:
    obs = i.obs
    found = [f"{facts.file.path} {facts.file.special}" for facts in (obs.key, obs.cert, obs.candidate, obs.staged_key) if facts.file.special]
    found += obs.unusable
    if found:
        return Finding(
            Reason.NOT_A_REGULAR_FILE,
            f"{'; '.join(found)}: move it away or fix the path (nothing there is read, replaced or followed).",
            Remedy.BLOCK,
        )
    return None


def key_unreadable(i: Input) -> Finding | None:
    key = i.obs.key
    if key.file.exists and key.error:
        return Finding(
            Reason.KEY_UNREADABLE,
            f"The key {key.file.path} cannot be used ({key.error}); it is never overwritten, "
            "so move it away to have a new key generated.",
            Remedy.BLOCK,
        )
    return None


def owner_unknown(i: Input) -> Finding | None:
    if i.obs.ownership.error:
        return Finding(
            Reason.OWNER_UNKNOWN,
            f"The {i.obs.ownership.error}; create it or change paths.owner / paths.group.",
            Remedy.BLOCK,
        )
    return None


def candidate_not_yet_valid(i: Input) -> Finding | None:
    candidate = i.obs.candidate
    if not candidate.usable or candidate.chain_problem:
        return None
    behind = clock_behind(candidate.info, i.now)
    if behind is None or _matching_key(i, candidate.info) is None:
        return None
    return Finding(Reason.NOT_YET_VALID, f"The staged certificate {candidate.file.path} {behind}.", Remedy.BLOCK)


def _matching_key(i: Input, info):
    """The key path (live, else staged) whose public key the certificate carries, for this device id."""
    if info.subject_cn != i.spec.device_id:
        return None
    for key_facts, key_path in ((i.obs.key, i.spec.paths.key), (i.obs.staged_key, staged(i.spec.paths.key))):
        if key_facts.usable and key_facts.public_key_id == info.public_key_id:
            if key_path == i.spec.paths.key or not key_facts.file.outside:
                return key_path
    return None


def candidate_pending(i: Input) -> Finding | None:
    key_path = i.candidate_key
    if key_path is None:
        return None
    info = i.obs.candidate.info
    return Finding(
        Reason.CANDIDATE_PENDING,
        f"Activating the staged certificate {i.obs.candidate.file.path} (serial {info.serial}, "
        f"valid until {human_time(info.not_after)}), which belongs to the key {key_path}.",
        Remedy.FINISH,
    )


def key_missing(i: Input) -> Finding | None:
    if not i.obs.key.file.exists:
        return Finding(
            Reason.KEY_MISSING,
            f"Generating a {i.spec.key.algorithm} key at {i.spec.paths.key} and enrolling, as the key does not exist.",
            Remedy.ENROLL_NEW_KEY,
        )
    return None


def key_algorithm_mismatch(i: Input) -> Finding | None:
    have, want = i.obs.key.algorithm, i.spec.key.algorithm
    if have != want:
        return Finding(
            Reason.KEY_ALGORITHM_MISMATCH,
            f"Rotating to a new {want} key, as the key {i.spec.paths.key} is {have}.",
            Remedy.ROTATE,
        )
    return None


def cert_missing(i: Input) -> Finding | None:
    if not i.obs.cert.file.exists:
        return Finding(
            Reason.CERT_MISSING, f"Enrolling, as the certificate {i.spec.paths.cert} does not exist.", Remedy.ENROLL
        )
    return None


def cert_unreadable(i: Input) -> Finding | None:
    if not i.obs.cert.usable:
        return Finding(
            Reason.CERT_UNREADABLE,
            f"Enrolling, as the certificate {i.spec.paths.cert} cannot be used ({i.obs.cert.error}).",
            Remedy.ENROLL,
        )
    return None


def key_cert_mismatch(i: Input) -> Finding | None:
    if i.obs.cert.info.public_key_id != i.obs.key.public_key_id:
        return Finding(
            Reason.KEY_CERT_MISMATCH,
            f"Enrolling, as the certificate {i.spec.paths.cert} does not belong to the key {i.spec.paths.key}.",
            Remedy.ENROLL,
        )
    return None


def common_name_mismatch(i: Input) -> Finding | None:
    cn = i.obs.cert.info.subject_cn
    if cn != i.spec.device_id:
        return Finding(
            Reason.COMMON_NAME_MISMATCH,
            f"Enrolling, as the certificate is for {cn!r}, not the device id {i.spec.device_id!r}.",
            Remedy.ENROLL,
        )
    return None


def not_yet_valid(i: Input) -> Finding | None:
    info = i.obs.cert.info
    if i.now < info.not_before:
        return Finding(
            Reason.NOT_YET_VALID,
            f"The certificate is valid only from {human_time(info.not_before)} but the device clock says "
            f"{human_time(i.now)}; check the clock.",
            Remedy.BLOCK,
        )
    return None


def expired(i: Input) -> Finding | None:
    info = i.obs.cert.info
    if i.now >= info.not_after:
        return Finding(
            Reason.EXPIRED,
            f"Enrolling again, as the certificate expired on {human_time(info.not_after)} "
            "and an expired certificate cannot be renewed.",
            Remedy.ENROLL,
        )
    return None


def renewal_due(i: Input) -> Finding | None:
    info = i.obs.cert.info
    due = renewal_time(info.not_before, info.not_after, i.spec.validity.renew_before)
    if i.now >= due:
        remedy = Remedy.ROTATE if i.spec.key.rotate_on_renewal else Remedy.RENEW
        return Finding(
            Reason.RENEWAL_DUE,
            f"Renewing, as renewal was due on {human_time(due)} (the certificate expires {human_time(info.not_after)}).",
            remedy,
        )
    return None


def renewal_requested(i: Input) -> Finding | None:
    if i.request is None:
        return None
    info = i.obs.cert.info
    rotate = _rotation_requested(i)
    return Finding(
        Reason.RENEWAL_REQUESTED,
        f"Renewing{' with a new key' if rotate else ''}, as requested (the certificate expires "
        f"{human_time(info.not_after)}).",
        Remedy.ROTATE if rotate else Remedy.RENEW,
    )


CHAIN: tuple[Check, ...] = (
    not_a_regular_file,  # a FIFO, device or directory where a file belongs: never touched
    key_unreadable,  # a key we cannot read is never overwritten
    candidate_not_yet_valid,  # the tenant's certificate is ahead of our clock: keep it, fix the clock
    owner_unknown,  # files cannot get an owner that does not exist
    candidate_pending,  # a verified <cert>.new waits: finish the swap first
    key_missing,  # no key: generate one and enroll
    key_algorithm_mismatch,  # wrong key type: rotate to the desired one
    cert_missing,  # key but no certificate: enroll
    cert_unreadable,  # corrupt certificate: enroll
    key_cert_mismatch,  # certificate of another key: enroll
    common_name_mismatch,  # certificate of another device id: enroll
    not_yet_valid,  # a clock problem, not a certificate problem
    expired,  # too late to renew: enroll again
    renewal_requested,  # asked for now: renew (or rotate) whether due or not
    renewal_due,  # inside the renewal window: re-enroll with the device token
)


# --- from a finding to actions ----------------------------------------------------------------


def _live_pair_healthy(i: Input) -> bool:
    """The live key and certificate work together now: something a failed swap must fall back to."""
    if not (i.obs.key.usable and i.obs.cert.usable):
        return False
    return not any(check(i) for check in (key_cert_mismatch, common_name_mismatch, not_yet_valid, expired))


def _activation(i: Input, reason: Reason, key_path, with_key: bool) -> list[Action]:
    spec, obs = i.spec, i.obs
    cert, candidate = spec.paths.cert, staged(spec.paths.cert)
    healthy = i.live_healthy
    # thin-edge's own renewal flow: `tedge reconnect c8y` tests <cert>.new, then renames it.
    tedge_promotes = spec.activation.strategy == "tedge" and not with_key and healthy
    actions = []
    if spec.activation.verify == "mqtt" and healthy and not tedge_promotes:
        actions.append(
            Action(Kind.VERIFY_CONNECTION, reason, f"Test-connecting to {spec.tenant.mqtt} with the candidate.", candidate, key_path)
        )
    key_replaced = with_key and obs.key.file.exists  # a key is backed up before it is ever replaced
    if obs.cert.file.exists or key_replaced:
        what = " and ".join(name for name, there in (("certificate", obs.cert.file.exists), ("key", key_replaced)) if there)
        actions.append(
            Action(Kind.BACKUP, reason, f"Backing up the current {what} to {spec.paths.backup_dir}.", cert, spec.paths.key, with_key)
        )
    if not tedge_promotes:
        what = f"{candidate} and {key_path}" if with_key else str(candidate)
        actions.append(Action(Kind.PROMOTE, reason, f"Swapping in {what} atomically.", cert, key_path, with_key))
    if spec.activation.strategy != "none":
        command = " ".join(spec.activation.command)
        message = f"Running `{command}`" + (" (it tests and promotes the candidate)." if tedge_promotes else ".")
        actions.append(Action(Kind.ACTIVATE, reason, message, cert, key_path))
    return actions


def _verify_and_stage(reason: Reason, candidate, key_path) -> list[Action]:
    return [
        Action(
            Kind.VERIFY_CANDIDATE, reason, "Checking the certificate against the key, CN, clock and tenant CA.", candidate, key_path
        ),
        Action(Kind.STAGE, reason, f"Staging it as {candidate} in PEM.", candidate, key_path),
    ]


def _issue(i: Input, finding: Finding) -> tuple[list[Action], list[Blocker]]:
    spec, obs, reason = i.spec, i.obs, finding.reason
    paths = spec.paths
    remedy = finding.remedy
    candidate = staged(paths.cert)
    actions: list[Action] = []
    blockers: list[Blocker] = []

    if remedy is Remedy.FINISH:  # verified exactly like a fresh answer, chain to the tenant CA included
        key_path = i.candidate_key
        actions = _verify_and_stage(reason, candidate, key_path)
        return actions + _activation(i, reason, key_path, with_key=key_path != paths.key), blockers

    rotate = remedy is Remedy.ROTATE
    key_path = staged(paths.key) if rotate else paths.key
    via_token = remedy is Remedy.RENEW or (rotate and i.live_healthy)

    if not via_token:
        source = one_time_password_source(spec)
        if not obs.one_time_password_available:
            blockers.append(
                Blocker(
                    Reason.ONE_TIME_PASSWORD_MISSING,
                    f"Enrollment needs a one-time password, but {source.describe()} has none; register the "
                    "device on the tenant and configure enrollment.one_time_password_file or _env.",
                )
            )
        if spec.tenant.url is None:
            blockers.append(
                Blocker(Reason.TENANT_UNKNOWN, "Enrollment needs the tenant: set tenant.url or c8y.url in tedge.toml.")
            )

    if remedy is Remedy.ENROLL_NEW_KEY:
        actions.append(Action(Kind.GENERATE_KEY, reason, f"Generating a {spec.key.algorithm} key.", paths.key))
    elif rotate and not (
        obs.staged_key.usable and obs.staged_key.algorithm == spec.key.algorithm and not obs.staged_key.file.outside
    ):
        actions.append(
            Action(Kind.GENERATE_KEY, reason, f"Generating a new {spec.key.algorithm} key beside the live one.", key_path)
        )
    actions.append(Action(Kind.WRITE_CSR, reason, f"Writing a CSR for CN={spec.device_id}.", paths.csr, key_path))
    if via_token:
        actions.append(
            Action(Kind.REENROLL, reason, f"Re-enrolling with a device token ({spec.renewal.auth}).", candidate, key_path)
        )
    else:
        actions.append(
            Action(Kind.ENROLL, reason, f"Enrolling at {spec.tenant.url} with the one-time password.", candidate, key_path)
        )
    actions.extend(_verify_and_stage(reason, candidate, key_path))
    actions.extend(_activation(i, reason, key_path, with_key=rotate))
    return actions, blockers


MQTT_EXTRA = "pip install 'tedge-cert-reconciler[mqtt]'"


def _missing_dependencies(i: Input, actions: list[Action]) -> list[Blocker]:
    """What the planned actions need that this device lacks: found now, before the tenant is asked."""
    spec, obs = i.spec, i.obs
    kinds = {a.kind for a in actions}
    needs = []
    if not obs.mqtt_library:
        if Kind.VERIFY_CONNECTION in kinds:
            needs.append(f"activation.verify: mqtt needs paho-mqtt, which is not installed ({MQTT_EXTRA}, or set activation.verify: none)")
        if Kind.REENROLL in kinds and spec.renewal.auth == "mqtt":
            needs.append(f"renewal.auth: mqtt needs paho-mqtt, which is not installed ({MQTT_EXTRA}, or choose another renewal.auth)")
    if Kind.ACTIVATE in kinds and not obs.activation_command_found:
        command = " ".join(spec.activation.command)
        needs.append(f"the activation command `{command}` needs {spec.activation.command[0]}, which is not installed or not on PATH")
    return [Blocker(Reason.DEPENDENCY_MISSING, f"{need}; nothing was sent to the tenant.") for need in needs]


def _permission_fixes(i: Input, written: set) -> list[Action]:
    spec, obs = i.spec, i.obs
    wanted_uid, wanted_gid = obs.ownership.uid, obs.ownership.gid
    fixes = []
    for facts, mode in ((obs.key, spec.paths.key_mode), (obs.cert, spec.paths.cert_mode)):
        info = facts.file
        if not facts.usable or info.path in written or info.outside:  # never chmod what a link leads out to
            continue
        drift = []
        if info.mode != mode:
            drift.append(f"mode {info.mode:04o} → {mode:04o}")
        if wanted_uid is not None and info.uid != wanted_uid:
            drift.append(f"owner {info.uid} → {wanted_uid}")
        if wanted_gid is not None and info.gid != wanted_gid:
            drift.append(f"group {info.gid} → {wanted_gid}")
        if drift:
            fixes.append(
                Action(Kind.FIX_PERMISSIONS, Reason.PERMISSIONS_DRIFT, f"Setting {', '.join(drift)} on {info.path}.", info.path)
            )
    return fixes


def _input(spec: DesiredState, obs: Observation, now: datetime, request: RenewalRequest | None) -> Input:
    i = Input(spec, obs, now, request=request)
    i = i._replace(live_healthy=_live_pair_healthy(i))
    key_path, rejection = _candidate_key(i)
    return i._replace(candidate_key=key_path, candidate_rejection=rejection)


def plan(spec: DesiredState, obs: Observation, now: datetime, request: RenewalRequest | None = None) -> Plan:
    """The ordered actions that bring the device from `obs` to `spec` at `now` (an aware UTC time).
    With `request`, a healthy certificate is renewed even though it is not due."""
    i = _input(spec, obs, now, request)
    actions: list[Action] = []
    blockers: list[Blocker] = []

    candidate_rejection = i.candidate_rejection
    if candidate_rejection:
        actions.append(
            Action(
                Kind.DISCARD_CANDIDATE,
                Reason.CANDIDATE_INVALID,
                f"Moving the staged {obs.candidate.file.path} to {spec.paths.backup_dir}, as {candidate_rejection}.",
                obs.candidate.file.path,
            )
        )

    finding = next((f for f in (check(i) for check in CHAIN) if f is not None), None)
    if finding is not None and finding.remedy is Remedy.BLOCK:
        return Plan(
            blockers=(Blocker(finding.reason, finding.message),), findings=(finding.reason.value,), message=finding.message
        )
    if finding is not None:
        issued, blockers = _issue(i, finding)
        actions.extend(issued)
        blockers += _missing_dependencies(i, actions)

    written = set()
    for action in actions:
        if action.kind is Kind.GENERATE_KEY:
            written.add(action.target)
        if action.kind in (Kind.PROMOTE, Kind.ACTIVATE):
            written.add(spec.paths.cert)
            if action.with_key:
                written.add(spec.paths.key)
    actions.extend(_permission_fixes(i, written))
    reasons = ([finding.reason.value] if finding else []) + [a.reason.value for a in actions]
    message = finding.message if finding else (actions[0].message if actions else None)
    live = i.obs.cert.info if i.live_healthy else None
    return Plan(tuple(actions), tuple(blockers), tuple(dict.fromkeys(reasons)), message, live)
