"""The tenant as certificate authority: enroll, re-enroll, and the chain check, over real HTTPS."""

from __future__ import annotations

import logging

from cryptography import x509

from reconciler.basics.errors import BadInput, TenantRefused
from reconciler.basics.interrupts import held_back
from reconciler.basics.urls import redact
from reconciler.c8y.device_token import MQTT_WAIT_SECONDS, token_over_mqtt, token_over_mtls
from reconciler.c8y.est import CACERTS_PATH, CSR_HEADERS, ENROLL_PATH, REENROLL_PATH, csr_body, judge
from reconciler.c8y.http import Transient, new_session, send
from reconciler.c8y.progress import Progress
from reconciler.c8y.retry import Pace, keep_trying
from reconciler.desired.model import DesiredState
from reconciler.planning.backends import AnswerSink
from reconciler.x509.facts import load_certificates
from reconciler.x509.tenant_ca import TrustedCa, configured_ca, no_ca, offered_ca

log = logging.getLogger("reconciler.tenant")


class TenantAuthority:
    """Implements the apply-side CertificateAuthority seam against a (real or emulated) tenant."""

    def __init__(self, spec: DesiredState, pace: Pace | None = None, progress_stream=None,
                 mqtt_wait: float = MQTT_WAIT_SECONDS):
        self.spec = spec
        self.session = new_session(spec.tenant.ca_bundle)
        self.timeout = spec.tenant.timeout.total_seconds()
        enrollment = spec.enrollment
        self.pace = pace or Pace(enrollment.retry_every.total_seconds(), enrollment.max_wait.total_seconds(), enrollment.max_attempts)
        self.progress_stream = progress_stream  # None: stderr
        self.trust: TrustedCa | None = None  # the CA issued certificates are checked against, once asked
        self.mqtt_wait = mqtt_wait  # per token request over MQTT (tests shorten it)
        # every request toward the tenant (EST, device tokens, its CA certificates): a run that sent
        # none cannot have been failed by the tenant, one that sent some and failed backs off
        self.requests = 0

    def _sent(self) -> None:
        self.requests += 1

    def _tenant_url(self, path: str) -> str:
        if not self.spec.tenant.url:
            raise BadInput("the tenant is unknown: set tenant.url or c8y.url in tedge.toml")
        return self.spec.tenant.url + path

    def _post_csr(self, url: str, csr_der: bytes, enrolling: bool, store: AnswerSink, **kwargs) -> None:
        def attempt():
            self.requests += 1
            with held_back():  # Ctrl-C/SIGTERM act once the answer, if any, is kept
                answer = send(self.session, "POST", url, timeout=self.timeout, data=csr_body(csr_der), headers=headers,
                              sink=store, **kwargs)  # a 2xx body lands in the reservation as it arrives
                verdict = judge(answer, enrolling=enrolling)
                if verdict.answer is not None:
                    store.keep(verdict.answer)  # durable before anything else happens, a log line included
            log.info("POST %s answered %s (%d bytes)", redact(url), answer.status, len(answer.body))
            return verdict

        headers = {**CSR_HEADERS, **kwargs.pop("headers", {})}
        what = f"{'enrollment' if enrolling else 're-enrollment'} of {self.spec.device_id}"
        return keep_trying(attempt, self.pace, Progress(what, self.progress_stream))

    def enroll(self, csr_der: bytes, one_time_password: str, store: AnswerSink) -> None:
        url = self._tenant_url(ENROLL_PATH)
        self._post_csr(url, csr_der, True, store, auth=(self.spec.device_id, one_time_password))

    def reenroll(self, csr_der: bytes, store: AnswerSink) -> None:
        auth = self.spec.renewal.auth
        if auth == "tedge-proxy":  # the mapper's proxy adds the device token itself
            self._post_csr(self.spec.renewal.proxy_url + REENROLL_PATH, csr_der, False, store)
            return
        if auth == "mqtt":
            token = token_over_mqtt(self.spec, wait=self.mqtt_wait, sent=self._sent)
        else:
            token = token_over_mtls(self.spec, sent=self._sent)
        self._post_csr(self._tenant_url(REENROLL_PATH), csr_der, False, store, headers={"Authorization": f"Bearer {token}"})

    def _tenant_ca(self) -> TrustedCa:
        """The configured tenant CA, else what /.well-known/est/cacerts offers, else none and why;
        found once per run (`trust`, which the report shows)."""
        if self.trust is None:
            path = self.spec.tenant.ca_certificate
            self.trust = configured_ca(path) if path is not None else self._offered_ca()
            if not self.trust.verified:  # the warning itself is the report's, once per run
                log.info("the chain is not checked: %s", self.trust.unverified_because)
        return self.trust

    def _offered_ca(self) -> TrustedCa:
        if not self.spec.tenant.url:
            return no_ca("the tenant URL is unknown")
        url = self._tenant_url(CACERTS_PATH)
        try:
            self._sent()
            answer = send(self.session, "GET", url, timeout=self.timeout)
        except (Transient, TenantRefused) as err:
            return no_ca(f"asking {CACERTS_PATH} failed ({err})")
        if answer.status != 200:  # a real Cumulocity tenant documents no such endpoint
            return no_ca(f"the tenant answered {CACERTS_PATH} with {answer.status}")
        try:
            return offered_ca(load_certificates(answer.body))  # any form; warnings of odd certificates kept inside
        except ValueError as err:
            return no_ca(f"the tenant's {CACERTS_PATH} answer holds no readable certificate ({err})")

    def check_chain(self, issued: list[x509.Certificate]) -> str | None:
        return self._tenant_ca().problem_with(issued)
