"""The fuzz tests' mutators of certificate answers and key files, shared by the fuzz tests and by
the regression tests of their findings (a case is a function of seed and index alone)."""

from __future__ import annotations

from tests.ber_mutations import mutate_element
from tests.encoding_layers import through_encodings
from tests.fuzz_corpus import answer_insides, answers, keys
from tests.mutations import Mutator

ANSWER_SEED = 7001
KEY_SEED = 7003


def answer_mutator() -> Mutator:
    """Enrollment answers and certificate files: DER, BER, PEM, PKCS#7, base64; one to three certificates."""
    return Mutator(answers(), ANSWER_SEED, extra=(mutate_element,) * 4, reach=through_encodings, partners=answer_insides())


def key_mutator() -> Mutator:
    """Private-key files: EC and RSA as PKCS#8, PKCS#1, SEC1, DER, encrypted; Ed25519, X25519."""
    return Mutator(keys(), KEY_SEED, extra=(mutate_element,) * 4, reach=through_encodings)
