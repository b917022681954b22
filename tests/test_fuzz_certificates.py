"""Fuzz: whatever the tenant answers and whatever a certificate file holds, the readers give
certificates or refuse with a ValueError, and so does reading the facts of what they give; the
chain check and the observer answer with a verdict or facts. Nothing else comes out, nothing hangs.

Cases (10,000 per target) are mutations of the real tenant's answer and of answers the
emulator's writer makes (DER, BER, PEM, PKCS#7 PEM, base64; chains of one to three
certificates), mutated below their base64 or PEM armour, structurally (lengths, definite and
indefinite forms, tags, nesting) and byte by byte.
"""

from __future__ import annotations

import warnings

from cryptography import x509

from reconciler.device.observe import observe_cert
from reconciler.planning.observation import CertFacts
from reconciler.x509.answer import certificates_from_answer
from reconciler.x509.chain import chain_problem
from reconciler.x509.facts import CertificateInfo, certificate_info, load_certificates
from tests.fuzz_corpus import root
from tests.fuzz_harness import cases, fresh_file, fuzz
from tests.fuzz_mutators import answer_mutator

CASES = cases(10_000)


def described(certs: list) -> list[CertificateInfo]:
    """The facts of every certificate a reader gave; ValueError for one that cannot be described."""
    assert isinstance(certs, list) and certs, f"not a non-empty list: {certs!r:.80}"
    assert all(isinstance(c, x509.Certificate) for c in certs), "not certificates"
    return [certificate_info(c) for c in certs]


def read_enrollment_answer(data: bytes) -> list[CertificateInfo]:
    with warnings.catch_warnings(record=True):  # this inner reader may warn; load_certificates may not
        warnings.simplefilter("always")
        certs = certificates_from_answer(data)
    return described(certs)


def enough_reach(tally) -> None:
    """Mutations that kept many cases readable and found many distinct ways to refuse the rest."""
    assert tally.accepted > CASES // 50 and len(tally.messages) > 20, tally


def test_enrollment_answers_give_certificates_or_a_value_error():
    enough_reach(fuzz("certificates_from_answer", answer_mutator(), CASES, read_enrollment_answer))


def test_certificate_bytes_from_disk_give_certificates_or_a_value_error():
    enough_reach(fuzz("load_certificates", answer_mutator(), CASES, lambda data: described(load_certificates(data))))


def test_the_chain_check_gives_a_verdict_for_any_chain_that_loads():
    def verdict(data: bytes) -> str | None:
        try:
            certs = load_certificates(data)
        except ValueError:
            return None  # nothing to chain: the readers' refusals are the tests above
        return chain_problem(certs, [root()])

    def check(problem) -> None:
        assert problem is None or isinstance(problem, str) and problem, f"chain_problem gave {problem!r}"

    fuzz("chain_problem", answer_mutator(), CASES, verdict, refusals=(), check=check)


def test_observing_a_certificate_file_gives_facts_whatever_it_holds(tmp_path):
    path = tmp_path / "tedge-certificate.pem"

    def observe(data: bytes) -> CertFacts:
        return observe_cert(fresh_file(path, data), (tmp_path,), anchors=[root()])

    def check(facts) -> None:
        assert isinstance(facts, CertFacts), facts
        assert (facts.error is None) == isinstance(facts.info, CertificateInfo), facts
        assert facts.error is None or isinstance(facts.error, str) and facts.error, facts

    fuzz("observe_cert", answer_mutator(), CASES, observe, refusals=(), check=check)
