"""An in-process stand-in for the tenant's CA, for fast apply tests (the HTTPS path has its own tests).

It issues from a real CA and judges the chain with the real check: against `tenant.ca_certificate`
when the desired state names one, else against the CA it offers itself (as a tenant's
/.well-known/est/cacerts would). `ca` signs; `offers` is the CA it claims (default: `ca`)."""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography import x509

from c8y_emulator.ca import CertificateAuthority
from c8y_emulator.pkcs7_writer import certs_only
from reconciler.x509.tenant_ca import TrustedCa, configured_ca, offered_ca
from tests.device_files import shared_ca


class LocalAuthority:
    def __init__(self, spec=None, lifetime=timedelta(days=365), issue_for=None,
                 ca: CertificateAuthority | None = None, offers: CertificateAuthority | None = None):
        self.calls: list[str] = []
        self.lifetime = lifetime
        self.issue_for = issue_for  # replace the CSR's public key, to test rejection
        self.ca = ca or shared_ca()
        self.offers = offers or self.ca
        self.spec = spec
        self.trust: TrustedCa | None = None  # as TenantAuthority: found once, at the first check

    def __call__(self, spec):
        self.spec = spec
        return self

    def _issue(self, csr_der: bytes) -> bytes:
        """The answer as the real tenant sends it: base64 of BER PKCS#7 certs-only."""
        csr = x509.load_der_x509_csr(csr_der)
        public_key = self.issue_for.public_key() if self.issue_for else csr.public_key()
        return base64.b64encode(certs_only([self.ca.issue(public_key, csr.subject, lifetime=self.lifetime)]))

    @property
    def requests(self) -> int:
        return len(self.calls)

    def enroll(self, csr_der: bytes, one_time_password: str, store):
        self.calls.append("enroll")
        store.keep(self._issue(csr_der))

    def reenroll(self, csr_der: bytes, store):
        self.calls.append("reenroll")
        store.keep(self._issue(csr_der))

    def check_chain(self, issued):
        if self.trust is None:
            path = self.spec.tenant.ca_certificate if self.spec is not None else None
            self.trust = configured_ca(path) if path is not None else offered_ca([self.offers.certificate])
        return self.trust.problem_with(issued)
