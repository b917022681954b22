"""Fuzz: whatever a certificate file holds, certificate_info's names as community.crypto gives them
(subject and issuer dicts, serial number, fingerprints, public key type) come out for every
certificate the engine's readers accept and describe; nothing else escapes (the module would show a
traceback instead of a one-line message). Cases are mutations of real answers, as in
tests/test_fuzz_certificates.py."""

from __future__ import annotations

import pytest

from reconciler.x509.facts import certificate_info, load_certificates
from tests.fuzz_harness import cases, fuzz
from tests.fuzz_mutators import answer_mutator

pytestmark = pytest.mark.usefixtures("collection_imports")

CASES = cases(10_000)


def test_community_crypto_names_for_every_certificate_the_engine_describes():
    from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._certificate_info import crypto_names, public_key_type

    def names(data: bytes) -> dict:
        cert = load_certificates(data)[0]
        info = certificate_info(cert)  # the module asks the engine first; a ValueError here is its refusal
        return dict(crypto_names(cert), public_key_type=public_key_type(info.key_algorithm))

    def check(result: dict) -> None:
        assert isinstance(result["serial_number"], int)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result["subject"].items())
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result["issuer"].items())
        assert len(result["fingerprints"]["sha256"]) == 95 and isinstance(result["public_key_type"], str)

    tally = fuzz("certificate_info names", answer_mutator(), CASES, names, check=check)
    assert tally.accepted > CASES // 50, tally
