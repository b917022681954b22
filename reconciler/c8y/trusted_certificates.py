"""The tenant CA, read by the administrator: the device cannot learn it by itself (a tenant's
certificates carry no key identifier, every tenant's CA has the same name, and its EST
`cacerts` is undocumented), so fleet tooling fetches it here and gives it to every device as
`tenant.ca_certificate`.

    GET /tenant/currentTenant                                  -> {"name": "<tenant id>", ...}
    GET /tenant/tenants/<id>/trusted-certificates?certificateAuthority=true
        -> {"certificates": [{"certInPemFormat", "fingerprint", "tenantCertificateAuthority", "status", ...}]}
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from urllib.parse import quote

from cryptography import x509

from reconciler.basics.errors import TenantRefused
from reconciler.basics.timestamps import format_time
from reconciler.c8y.admin import AdminClient
from reconciler.x509.chain import fingerprint
from reconciler.x509.facts import certificates_pem, name_text

CURRENT_TENANT_PATH = "/tenant/currentTenant"
TRUSTED_PATH = "/tenant/tenants/{}/trusted-certificates?certificateAuthority=true&pageSize=2000"
ROLES = "ROLE_TENANT_ADMIN or ROLE_TENANT_MANAGEMENT_READ"


@dataclass(frozen=True)
class TenantCa:
    certificates: tuple[x509.Certificate, ...]

    @property
    def pem(self) -> bytes:
        return certificates_pem(list(self.certificates))

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(c) for c in self.certificates]

    def as_dict(self) -> dict:
        """What the CLI's JSON and the Ansible module return (public certificates only)."""
        with warnings.catch_warnings():  # the tenant CA's non-ISO country value reads with a warning
            warnings.simplefilter("ignore", UserWarning)
            subjects = [name_text(c.subject) for c in self.certificates]
        return {"pem": self.pem.decode(), "fingerprints_sha256": self.fingerprints, "subjects": subjects,
                "not_after": [format_time(c.not_valid_after_utc) for c in self.certificates]}


def _json(admin: AdminClient, path: str, what: str) -> dict:
    try:  # the role that registers devices alone cannot read trusted certificates
        answer = admin.request("GET", path, needs=ROLES, headers={"Accept": "application/json"})
    except TenantRefused as err:
        raise TenantRefused(f"reading {what}: {err}") from None
    if not 200 <= answer.status < 300:
        raise TenantRefused(f"reading {what}: the tenant answered {answer.status}: {answer.tenant_message()}")
    data = answer.json_object()
    if data is None:
        raise TenantRefused(f"reading {what}: the tenant's answer ({answer.status}) is not a JSON object")
    return data


def current_tenant_id(admin: AdminClient) -> str:
    name = _json(admin, CURRENT_TENANT_PATH, "the current tenant").get("name")
    if not isinstance(name, str) or not name:
        raise TenantRefused(f"reading the current tenant: {CURRENT_TENANT_PATH} names no tenant id")
    return name


def _certificate(text: str) -> x509.Certificate:
    """certInPemFormat: PEM, or (as the tenant shows it) the base64 body without armour lines."""
    text = text.strip()
    if "-----BEGIN" not in text:
        text = f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n"
    with warnings.catch_warnings():  # the tenant CA's non-ISO country value reads with a warning
        warnings.simplefilter("ignore", UserWarning)
        return x509.load_pem_x509_certificate(text.encode())


def fetch_tenant_ca(admin: AdminClient) -> TenantCa:
    """The tenant's own CA certificate(s): the trusted certificates marked `tenantCertificateAuthority`
    (the enabled ones when some are disabled). TenantRefused when there is none or it is unreadable."""
    tenant_id = current_tenant_id(admin)
    data = _json(admin, TRUSTED_PATH.format(quote(tenant_id, safe="")), "the tenant's trusted certificates")
    listed = data.get("certificates")
    entries = [e for e in listed if isinstance(e, dict) and e.get("tenantCertificateAuthority") is True] if isinstance(listed, list) else []
    enabled = [e for e in entries if e.get("status") == "ENABLED"]
    if not entries:
        raise TenantRefused(f"tenant {tenant_id} lists no certificate authority among its trusted certificates "
                            "(tenantCertificateAuthority: true): is its certificate-authority feature on?")
    certificates = []
    for entry in enabled or entries:
        text = entry.get("certInPemFormat")
        try:
            if not isinstance(text, str):
                raise ValueError("no certInPemFormat")
            certificates.append(_certificate(text))
        except ValueError as err:
            raise TenantRefused(f"tenant {tenant_id}'s CA entry {str(entry.get('fingerprint'))[:64]!r} holds no readable "
                                f"certificate ({str(err).splitlines()[0] if str(err) else 'unreadable'})") from None
    return TenantCa(tuple(certificates))
