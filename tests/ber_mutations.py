"""Tag/length-aware mutations of DER and BER: the bytes a flat mutator rarely gets right.

A lenient walk of our own (independent of `reconciler.x509.ber`, the code under test) finds the
elements; a mutation then changes one of them: its length field, definite <-> indefinite form,
its tag, its contents, or how often and how deeply it occurs. Most mutations then repair the
definite lengths of the enclosing elements, so that the damage sits deep inside a structure
whose outside still parses, where only the deeper parsers can catch it.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import NamedTuple

from tests.mutations import INTERESTING, flip_bit, insert_run, repeats, set_interesting, truncate

EOC = b"\x00\x00"
MAX_ELEMENTS, MAX_DEPTH = 4000, 40
CONTENT_MUTATIONS = (flip_bit, set_interesting, truncate, insert_run)  # small changes to one value


class Tlv(NamedTuple):
    start: int
    length_at: int
    content_start: int
    content_end: int
    end: int
    constructed: bool
    indefinite: bool


def length_field(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _header(data: bytes, pos: int):
    """(constructed, length_at, content_start, length or None for indefinite), or None."""
    if pos >= len(data):
        return None
    constructed, at = bool(data[pos] & 0x20), pos + 1
    if data[pos] & 0x1F == 0x1F:
        while at < len(data) and data[at] & 0x80:
            at += 1
        at += 1
    if at >= len(data):
        return None
    first = data[at]
    if first == 0x80:
        return constructed, at, at + 1, None
    if first & 0x80:
        count = first & 0x7F
        if count > 4 or at + 1 + count > len(data):
            return None
        return constructed, at, at + 1 + count, int.from_bytes(data[at + 1 : at + 1 + count], "big")
    return constructed, at, at + 1, first


def _walk(data: bytes, pos: int, depth: int, found: list) -> int | None:
    """Record the element at `pos` and what it contains; its end, or None where sense stops."""
    header = _header(data, pos)
    if header is None or depth > MAX_DEPTH or len(found) > MAX_ELEMENTS:
        return None
    constructed, length_at, content_start, length = header
    child = content_start
    if length is None:
        if not constructed:
            return None
        while data[child : child + 2] != EOC:
            child = _walk(data, child, depth + 1, found)
            if child is None:
                return None
        content_end, end = child, child + 2
    else:
        content_end = end = content_start + length
        if end > len(data):
            return None
        while constructed and child is not None and child < content_end:
            child = _walk(data, child, depth + 1, found)
    found.append(Tlv(pos, length_at, content_start, content_end, end, constructed, length is None))
    return end


@lru_cache(maxsize=64)  # the samples and splice partners are walked again and again
def elements(data: bytes) -> tuple[Tlv, ...]:
    """Every element a lenient walk from the first byte finds, in no particular order."""
    found: list[Tlv] = []
    _walk(data, 0, 0, found)
    return tuple(found)


def replace(data: bytes, found: tuple[Tlv, ...], target: Tlv, new: bytes) -> bytes:
    """`target` replaced by `new`, with the definite lengths of everything around it repaired."""
    delta = len(new) - (target.end - target.start)
    out = data[: target.start] + new + data[target.end :]
    around = [e for e in found if e.content_start <= target.start and target.end <= e.content_end and e != target]
    for outer in sorted(around, key=lambda e: -e.start):  # innermost first: its header shifts no outer one
        if outer.indefinite:
            continue
        field = length_field(max(0, outer.content_end - outer.content_start + delta))  # 0: overlaps in garbage
        out = out[: outer.length_at] + field + out[outer.content_start :]
        delta += len(field) - (outer.content_start - outer.length_at)
    return out


def _odd_length(rng: random.Random, element: Tlv) -> bytes:
    length = element.content_end - element.content_start
    return rng.choice(
        (
            length_field(max(0, length + rng.choice((-1, 1)))),
            length_field(rng.randrange(length + 16)),
            bytes([0x82]) + length.to_bytes(2, "big"),  # long form where short would do (BER, not DER)
            b"\x80",  # indefinite, without end-of-contents octets
            b"\x84\xff\xff\xff\xff",
            b"\x85\x01\x00\x00\x00\x00",
            bytes([rng.choice(INTERESTING)]),
        )
    )


def _tag(rng: random.Random) -> bytes:
    return rng.choice((b"\x30", b"\x31", b"\xa0", b"\xa3", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x00",
                       b"\x1f\x81\x00", b"\x3f" + b"\xff" * rng.randint(1, 64) + b"\x01", bytes([rng.randrange(256)])))


def mutate_element(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """One structural mutation of one element of `data` (a byte flip when nothing parses)."""
    found = elements(data)
    if not found:
        return data[:-1] + bytes([rng.randrange(256)]) if data else data
    e = rng.choice(found)
    whole, head = data[e.start : e.end], data[e.start : e.length_at]
    content = data[e.content_start : e.content_end]
    kind = rng.randrange(8)
    if kind == 0:  # a wrong, non-minimal or impossible length field
        new = head + _odd_length(rng, e) + content + (EOC if e.indefinite else b"")
    elif kind == 1:  # definite <-> indefinite
        new = head + length_field(len(content)) + content if e.indefinite else head + b"\x80" + content + EOC
    elif kind == 2:  # another tag, high tag numbers included
        new = _tag(rng) + data[e.length_at : e.end]
    elif kind == 3:  # gone
        new = b""
    elif kind == 4:  # repeated, sometimes thousands of times
        new = whole * (1 + repeats(rng))
    elif kind == 5:  # nested in many SEQUENCEs, indefinite or definite
        new = whole
        for _ in range(repeats(rng)):
            new = b"\x30\x80" + new + EOC if rng.random() < 0.5 else b"\x30" + length_field(len(new)) + new
    elif kind == 6:  # an element of another sample grafted in its place
        donor = rng.choice(elements(other) or [Tlv(0, 0, 0, 0, min(64, len(other)), False, False)])
        new = other[donor.start : donor.end]
    else:  # the contents changed bit by bit, lengths kept consistent: reaches the certificate parser
        content = rng.choice(CONTENT_MUTATIONS)(rng, content, b"")
        new = head + (b"\x80" + content + EOC if e.indefinite else length_field(len(content)) + content)
    return replace(data, found, e, new) if rng.random() < 0.8 else data[: e.start] + new + data[e.end :]

