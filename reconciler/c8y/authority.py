"""The tenant as certificate authority: enroll, re-enroll, and the chain check, over real HTTPS."""

from __future__ import annotations

import logging
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from reconciler.c8y.device_token import token_over_mqtt, token_over_mtls
from reconciler.c8y.est import CACERTS_PATH, CSR_HEADERS, ENROLL_PATH, REENROLL_PATH, csr_body, judge
from reconciler.c8y.http import Transient, new_session, send
from reconciler.c8y.answer import certificates_from_answer
from reconciler.c8y.progress import Progress
from reconciler.c8y.retry import Pace, keep_trying
from reconciler.errors import BadInput, TenantRefused
from reconciler.spec import DesiredState

log = logging.getLogger("reconciler.tenant")
MAX_CHAIN = 5


class TenantAuthority:
    """Implements the apply-side CertificateAuthority seam against a (real or emulated) tenant."""

    def __init__(self, spec: DesiredState, pace: Pace | None = None, progress_stream=None):
        self.spec = spec
        self.session = new_session(spec.tenant.ca_bundle)
        self.timeout = spec.tenant.timeout.total_seconds()
        self.pace = pace or Pace(spec.enrollment.retry_every.total_seconds(), spec.enrollment.max_wait.total_seconds())
        self.progress_stream = progress_stream  # None: stderr
        self._ca: list[x509.Certificate] | None = None

    def _tenant_url(self, path: str) -> str:
        if not self.spec.tenant.url:
            raise BadInput("the tenant is unknown: set tenant.url or c8y.url in tedge.toml")
        return self.spec.tenant.url + path

    def _post_csr(self, url: str, csr_der: bytes, enrolling: bool, **kwargs):
        def attempt():
            answer = send(self.session, "POST", url, timeout=self.timeout, data=csr_body(csr_der), headers=headers, **kwargs)
            log.info("POST %s answered %s (%d bytes)", url, answer.status, len(answer.body))
            return judge(answer, enrolling=enrolling)

        headers = {**CSR_HEADERS, **kwargs.pop("headers", {})}
        what = f"{'enrollment' if enrolling else 're-enrollment'} of {self.spec.device_id}"
        return keep_trying(attempt, self.pace, Progress(what, self.progress_stream))

    def enroll(self, csr_der: bytes, one_time_password: str) -> list[x509.Certificate]:
        url = self._tenant_url(ENROLL_PATH)
        return self._post_csr(url, csr_der, True, auth=(self.spec.device_id, one_time_password))

    def reenroll(self, csr_der: bytes) -> list[x509.Certificate]:
        auth = self.spec.renewal.auth
        if auth == "tedge-proxy":  # the mapper's proxy adds the device token itself
            return self._post_csr(self.spec.renewal.proxy_url + REENROLL_PATH, csr_der, False)
        token = token_over_mqtt(self.spec) if auth == "mqtt" else token_over_mtls(self.spec)
        return self._post_csr(self._tenant_url(REENROLL_PATH), csr_der, False, headers={"Authorization": f"Bearer {token}"})

    def _tenant_ca(self) -> list[x509.Certificate]:
        """The configured tenant CA, else what /.well-known/est/cacerts offers, else nothing."""
        if self._ca is not None:
            return self._ca
        path = self.spec.tenant.ca_certificate
        if path is not None:
            try:
                self._ca = x509.load_pem_x509_certificates(path.read_bytes())
            except (OSError, ValueError) as err:
                raise BadInput(f"tenant.ca_certificate {path}: cannot load: {err}") from None
            return self._ca
        self._ca = []
        if self.spec.tenant.url:
            try:
                answer = send(self.session, "GET", self._tenant_url(CACERTS_PATH), timeout=self.timeout)
                if answer.status == 200:
                    self._ca = certificates_from_answer(answer.body)
            except (Transient, TenantRefused, ValueError) as err:
                log.info("the tenant CA is unknown (%s); the chain is not checked", err)
        return self._ca

    def check_chain(self, issued: list[x509.Certificate]) -> str | None:
        anchors = self._tenant_ca()
        if not anchors:
            return None
        with warnings.catch_warnings():  # the real tenant CA's name reads with a warning
            warnings.simplefilter("ignore", UserWarning)
            current, pool = issued[0], list(issued[1:])
            for _ in range(MAX_CHAIN):
                for anchor in anchors:
                    if current.issuer == anchor.subject and _signed_by(current, anchor):
                        return None
                parent = next((c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None)
                if parent is None:
                    break
                pool.remove(parent)
                current = parent
        return "it does not chain to the tenant CA"


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
