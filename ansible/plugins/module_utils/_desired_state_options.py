# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Module options that mirror the desired-state file, section by section.

The engine owns every default (many come from tedge.toml), so no option here has one: what is
left out stays out of the desired state. Durations and file modes are `raw` because the file takes
text or a number for them ("30d" or 2592000, "0600" or 0o600). A test (tests/ansible/
test_options_match_model.py) derives the same tree from the desired state's JSON Schema and
compares, so that a key added to one cannot be missing from the other.
"""

RAW = dict(type="raw")
TEXT = dict(type="str")
PATH = dict(type="path")


def _section(**options):
    return dict(type="dict", options={name: dict(spec) for name, spec in options.items()})


# The tenant's address and trust, shared by `certificate` and `registration`.
TENANT_CONNECTION = dict(url=TEXT, ca_bundle=PATH)

# enrollment.one_time_password is the module's own: held in memory, never in a file.
ONE_TIME_PASSWORD = "one_time_password"

SECTIONS = dict(
    tenant=_section(mqtt=TEXT, ca_certificate=PATH, timeout=RAW, backoff=_section(first=RAW, max=RAW), **TENANT_CONNECTION),
    enrollment=dict(
        _section(
            one_time_password=dict(type="str", no_log=True),
            one_time_password_file=PATH,
            one_time_password_env=dict(type="str", no_log=False),
            retry_every=RAW,
            max_wait=RAW,
            max_attempts=dict(type="int"),
        ),
        mutually_exclusive=[(ONE_TIME_PASSWORD, "one_time_password_file", "one_time_password_env")],
    ),
    validity=_section(requested=RAW, renew_before=RAW),
    key=dict(
        _section(
            algorithm=dict(type="str", choices=["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]),
            rotate_on_renewal=dict(type="bool"),
        ),
        no_log=False,
    ),
    subject=_section(organization=TEXT, organizational_unit=TEXT),
    paths=_section(
        key=PATH,
        cert=PATH,
        csr=PATH,
        backup_dir=PATH,
        backup_keep=dict(type="int"),
        owner=TEXT,
        group=TEXT,
        key_mode=dict(type="raw", no_log=False),
        cert_mode=RAW,
    ),
    renewal=_section(
        auth=dict(type="str", choices=["tedge-proxy", "mqtt", "device-token"]),
        proxy_url=TEXT,
        local_broker=TEXT,
        token_url=dict(type="str", no_log=False),
    ),
    activation=_section(
        strategy=dict(type="str", choices=["tedge", "command", "none"]),
        command=dict(type="list", elements="str"),
        verify=dict(type="str", choices=["mqtt", "none"]),
        timeout=RAW,
    ),
    report=dict(
        _section(
            twin=dict(type="str", choices=["auto", "on", "off"]),
            local_broker=TEXT,
            topic=TEXT,
            ca_file=PATH,
            ca_dir=PATH,
            cert_file=PATH,
            key_file=dict(type="path", no_log=False),  # a path, not the key
        ),
    ),
)


def desired_state_argument_spec():
    """device_id and the sections of the file, or `state_file` naming a file on the host; `config_dir`
    holds tedge.toml for the defaults, as the CLI's --config-dir."""
    return dict(
        device_id=TEXT,
        state_file=PATH,
        config_dir=PATH,
        **SECTIONS
    )


# A desired-state file on the host replaces every inline section; the sections need a device id.
# `tenant` is an exception: every module of the action group takes it, so `module_defaults` may set it for
# a task that reads a file; there it is ignored with a warning (the file is the one copy the timer reads too).
# `enrollment` is the other: with a file, it may carry the in-memory one-time password alone (checked in
# _desired_state.py), which no file can hold.
_FILE_EXCLUDES = sorted(name for name in SECTIONS if name not in ("tenant", "enrollment"))
DESIRED_STATE_MUTUALLY_EXCLUSIVE = [("state_file", name) for name in ["device_id"] + _FILE_EXCLUDES]
DESIRED_STATE_REQUIRED_BY = dict((name, "device_id") for name in _FILE_EXCLUDES)


def tenant_argument_spec():
    """The `tenant` option as every module takes it (a copy: a module may add a fallback)."""
    return dict(SECTIONS["tenant"], options=dict((name, dict(spec)) for name, spec in SECTIONS["tenant"]["options"].items()))
