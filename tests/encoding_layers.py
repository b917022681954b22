"""Mutations that reach through base64 and PEM armour to the DER inside.

A flat mutation of base64 text mostly makes text that no longer decodes, and the parser
under test stops at its first line. Decoding, mutating the bytes inside and encoding again
(with varied line lengths and line ends) sends the damage on to the BER walker and to the
certificate and key parsers. One case in four mutates the outside as it is.
"""

from __future__ import annotations

import base64
import binascii
import random
import re

PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)
BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def base64_lines(rng: random.Random, data: bytes) -> bytes:
    text = base64.b64encode(data)
    width = rng.choice((len(text) or 1, 64, 76))
    eol = rng.choice((b"\n", b"\r\n"))
    return eol.join(text[i : i + width] for i in range(0, len(text), width)) + rng.choice((eol, b""))


def _split_pem_body(body: bytes) -> tuple[bytes, bytes]:
    """(headers, base64): encrypted legacy PEM has `Proc-Type:` and `DEK-Info:` lines first."""
    if b":" in body.split(b"\n", 1)[0]:
        headers, _, rest = body.partition(b"\n\n")
        return headers + b"\n\n", rest
    return b"", body


def through_encodings(rng: random.Random, sample: bytes, mutate) -> bytes:
    """A `Mutator` reach: `mutate` applied to the DER inside one PEM block or inside base64 text."""
    if rng.random() < 0.25:
        return mutate(sample)
    blocks = list(PEM_BLOCK.finditer(sample))
    try:
        if blocks:
            block = rng.choice(blocks)
            headers, text = _split_pem_body(block.group(2))
            inside = base64_lines(rng, mutate(base64.b64decode(text))) + b"\n"
            return sample[: block.start(2)] + headers + inside + sample[block.end(2) :]
        if BASE64_TEXT.match(sample):
            return base64_lines(rng, mutate(base64.b64decode(sample)))
    except binascii.Error:
        pass  # a corpus sample that only looks encoded: mutate it as it is
    return mutate(sample)
