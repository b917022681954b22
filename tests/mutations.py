"""A small deterministic mutation engine for the fuzz tests.

Case `i` of a `Mutator` is a pure function of (seed, i): a failure found in CI reproduces from
the two numbers alone, without replaying the cases before it. Each case takes one sample and
applies one to four mutations, each a function `(rng, data, other) -> bytes` where `other` is a
second sample for splicing. Format-aware layers (BER, base64, PEM) live in their own modules and
plug in as extra mutations or as a `reach` that decides how deep a case mutates.
"""

from __future__ import annotations

import random
from typing import Callable, Sequence

Mutation = Callable[[random.Random, bytes, bytes], bytes]

INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF, 0x30, 0x1F)  # boundaries and DER's favourite bytes
SEPARATORS = b"=:,[{\n"  # a token inserted after one of these lands where a value or key starts
LIMIT = 256 * 1024  # the largest answer or file the tool reads at all (http.MAX_ANSWER_BYTES, observe.MAX_PEM_BYTES)


def repeats(rng: random.Random) -> int:
    """Mostly once or twice; one time in eight a run long enough to nest past any recursion limit."""
    return 2 ** rng.randint(4, 12) if rng.random() < 0.125 else rng.randint(1, 3)


def _span(rng: random.Random, data: bytes, longest: int = 16) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    return start, min(len(data), start + rng.randint(1, longest))


def flip_bit(rng, data, other):
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]


def set_interesting(rng, data, other):
    if not data:
        return bytes([rng.choice(INTERESTING)])
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.choice(INTERESTING)]) + data[at + 1 :]


def insert_run(rng, data, other):
    at = rng.randrange(len(data) + 1)
    run = bytes([rng.choice(INTERESTING)]) * rng.randint(1, 8) if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 8))
    return data[:at] + run + data[at:]


def delete_run(rng, data, other):
    start, end = _span(rng, data, 64)
    return data[:start] + data[end:]


def duplicate_run(rng, data, other):
    start, end = _span(rng, data)
    return data[:end] + data[start:end] * repeats(rng) + data[end:]


def truncate(rng, data, other):
    return data[: rng.randrange(len(data) + 1)]


def splice(rng, data, other):
    """The head of one sample on the tail of another: valid prefixes meet foreign structure."""
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


BYTE_MUTATIONS: tuple[Mutation, ...] = (flip_bit, set_interesting, insert_run, delete_run, duplicate_run, truncate, splice)


def token_insertion(tokens: Sequence[bytes]) -> Mutation:
    """Insert a dictionary token (a format's syntax: `[`, `? `, `"`, `1e999`, ...), possibly
    repeated, at a random place, a line start, or just after a separator where values begin."""

    def insert_token(rng, data, other):
        anchors = [i + 1 for i, byte in enumerate(data) if byte in SEPARATORS]
        at = rng.choice(anchors) if anchors and rng.random() < 0.6 else rng.randrange(len(data) + 1)
        return data[:at] + rng.choice(tokens) * repeats(rng) + data[at:]

    return insert_token


class Mutator:
    """Cases `0..n` of mutations of `samples`. `reach(rng, sample, mutate)` may decode a sample,
    mutate the inside with `mutate` and re-encode it; the default mutates the bytes as they are.
    `partners` are further splice material, such as the decoded insides of the samples."""

    def __init__(self, samples: Sequence[bytes], seed: int, extra: Sequence[Mutation] = (), reach=None, partners=()):
        assert samples, "a mutator needs at least one sample"
        self.samples, self.seed = list(samples), seed
        self.partners = list(samples) + list(partners)  # what splices draw from: decoded forms too
        self.mutations = BYTE_MUTATIONS + tuple(extra)
        self.reach = reach or (lambda rng, sample, mutate: mutate(sample))

    def case(self, index: int) -> bytes:
        rng = random.Random(f"{self.seed}:{index}")  # string seeds are stable across runs and platforms
        sample = rng.choice(self.samples)
        return self.reach(rng, sample, lambda data: self.mutate(rng, data))[:LIMIT]

    def mutate(self, rng: random.Random, data: bytes) -> bytes:
        for _ in range(rng.randint(1, 4)):
            data = rng.choice(self.mutations)(rng, data, rng.choice(self.partners))[:LIMIT]
        return data
