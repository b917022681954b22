# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""The `certificate_info` result: the facts `reconcile show` prints, the names community.crypto's
x509_certificate_info uses for the same facts, `valid_at`, and the run history `reconcile status` shows.

Call only after `require_reconciler()`: the engine (and `cryptography`, which it needs) is imported on use.
"""

import re
from datetime import datetime, timezone

# The file's own facts, returned nested under `file` (a top-level `path` would make Ansible add owner, group, ...).
FILE_FIELDS = ("path", "exists", "mode", "uid", "gid")
# community.crypto's names of public key types
_KEY_TYPES = (("ec-", "ECC"), ("rsa-", "RSA"), ("ed25519", "Ed25519"), ("ed448", "Ed448"), ("x25519", "X25519"), ("x448", "X448"))
_ASN1_TIME = re.compile(r"(\d{14})Z")


def split_facts(facts):
    """(file, certificate facts): the engine's cert_facts() without `error`, the file part apart."""
    file = dict((name, facts[name]) for name in FILE_FIELDS)
    rest = dict((name, value) for name, value in facts.items() if name not in FILE_FIELDS and name != "error")
    return file, rest


def public_key_type(key_algorithm):
    for prefix, name in _KEY_TYPES:
        if key_algorithm.startswith(prefix):
            return name
    return "unknown"


def _name_dict(name):
    """A name as community.crypto returns it: {commonName: ..., organizationName: ...} (a repeated attribute: the last)."""
    out = {}
    for attribute in name:
        out[attribute.oid._name] = str(attribute.value)  # pylint: disable=protected-access  # cryptography's only table of these names
    return out


def crypto_names(cert):
    """The facts under community.crypto's names: subject and issuer as dicts, serial_number as int, fingerprints."""
    import warnings  # only here: cryptography warns about what it reads (a malformed country code, a serial <= 0)

    from cryptography.hazmat.primitives import hashes

    with warnings.catch_warnings():  # as the engine's certificate_info(): the facts are shown, not judged here
        warnings.simplefilter("ignore")
        digest = cert.fingerprint(hashes.SHA256()).hex()
        subject, issuer, serial_number = _name_dict(cert.subject), _name_dict(cert.issuer), cert.serial_number
    return dict(
        subject=subject,
        issuer=issuer,
        serial_number=serial_number,
        fingerprints=dict(sha256=":".join(digest[i:i + 2] for i in range(0, len(digest), 2))),
    )


def point_in_time(text, now):
    """`+30d` / `-1h` (from now, in the engine's durations), C(20270101000000Z) (ASN.1) or C(2027-01-01T00:00:00Z)."""
    from reconciler.basics.durations import parse_duration
    from reconciler.basics.timestamps import parse_time

    text = str(text).strip()
    if text[:1] in "+-" and len(text) > 1:
        delta = parse_duration(text[1:])
        return now + delta if text[0] == "+" else now - delta
    match = _ASN1_TIME.fullmatch(text)
    if match:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return parse_time(text)


def valid_at(points, not_before, not_after, now):
    """{name: whether the certificate is valid at that point}; BadInput names the point that cannot be read."""
    from reconciler.basics.errors import BadInput

    out = {}
    for name, text in (points or {}).items():
        try:
            moment = point_in_time(text, now)
        except (ValueError, OverflowError) as err:  # OverflowError: +999999999d is past year 9999
            raise BadInput(f"valid_at.{name}: {err} (or +30d, -1h, 20270101000000Z)") from None
        out[name] = not_before <= moment <= not_after  # both ends are valid times (RFC 5280)
    return out
