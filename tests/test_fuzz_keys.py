"""Fuzz: whatever a private-key file holds, `load_private_key` gives a key or refuses with a
ValueError (EncryptedKey is one), and the observer turns it into facts without raising.

10,000 cases per target: mutations of EC (P-256, P-384) and RSA keys as PEM PKCS#8, PKCS#1 and
SEC1, as DER, and encrypted (PKCS#8, and legacy PEM with Proc-Type headers), plus an Ed25519 and
an X25519 key, mutated below the PEM armour, structurally and byte by byte.
"""

from __future__ import annotations

from reconciler.device.observe import observe_key
from reconciler.planning.observation import KeyFacts
from reconciler.x509.facts import load_private_key
from tests.fuzz_harness import cases, fresh_file, fuzz
from tests.fuzz_mutators import key_mutator

CASES = cases(10_000)


def test_key_bytes_give_a_private_key_or_a_value_error():
    def check(key) -> None:
        assert hasattr(key, "public_key") and hasattr(key, "private_bytes"), f"not a private key: {key!r:.80}"

    tally = fuzz("load_private_key", key_mutator(), CASES, load_private_key, check=check)
    assert tally.accepted > 10 and tally.refused["EncryptedKey"] > 0, tally


def test_observing_a_key_file_gives_facts_whatever_it_holds(tmp_path):
    path = tmp_path / "tedge-private-key.pem"

    def observe(data: bytes) -> KeyFacts:
        return observe_key(fresh_file(path, data), (tmp_path,))

    def check(facts) -> None:
        assert isinstance(facts, KeyFacts), facts
        assert (facts.error is None) == (facts.algorithm is not None and facts.public_key_id is not None), facts
        assert facts.error is None or isinstance(facts.error, str) and facts.error, facts

    fuzz("observe_key", key_mutator(), CASES, observe, refusals=(), check=check)
