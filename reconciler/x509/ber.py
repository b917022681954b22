"""Just enough BER to walk a PKCS#7 certs-only message, including indefinite lengths.

The real tenant answers with BER (`30 80 ...`), which DER-only parsers reject; rather than lean
on a library's deprecated fallback, we walk the structure ourselves and hand each certificate,
which is DER inside, to `cryptography`.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEPTH = 32


class BerError(ValueError):
    pass


@dataclass(frozen=True)
class Element:
    tag_class: int  # 0 universal, 1 application, 2 context, 3 private
    constructed: bool
    tag: int
    start: int  # first byte of the identifier
    length_start: int  # first byte of the length field
    content_start: int
    content_end: int  # exclusive; for indefinite lengths, where the end-of-contents octets begin
    end: int  # exclusive, after end-of-contents octets where present
    indefinite: bool


Seen = dict  # position → Element: one walk of a message reads each element once, however deep


def read_element(data: bytes, pos: int, depth: int = 0, seen: Seen | None = None) -> Element:
    """The element at `pos`. Pass the same `seen` to every call of one walk: an indefinite length
    is found by reading all children, and without it each level would read its subtree again."""
    if seen is not None and pos in seen:
        return seen[pos]
    element = _read_element(data, pos, depth, seen)
    if seen is not None:
        seen[pos] = element
    return element


def _read_element(data: bytes, pos: int, depth: int, seen: Seen | None) -> Element:
    if depth > MAX_DEPTH:
        raise BerError("nesting too deep")
    start = pos
    if pos >= len(data):
        raise BerError("truncated: expected an element")
    first = data[pos]
    pos += 1
    tag_class, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:  # high tag number form
        tag = 0
        while True:
            if pos >= len(data) or pos - start > 4:  # 28-bit tag numbers; more grew a huge int byte by byte
                raise BerError("truncated or overlong tag")
            byte = data[pos]
            pos += 1
            tag = (tag << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
    if pos >= len(data):
        raise BerError("truncated length")
    length_start = pos
    length_byte = data[pos]
    pos += 1
    if length_byte == 0x80:
        if not constructed:
            raise BerError("indefinite length on a primitive element")
        child = pos
        while True:
            if data[child : child + 2] == b"\x00\x00":
                return Element(tag_class, constructed, tag, start, length_start, pos, child, child + 2, True)
            child = read_element(data, child, depth + 1, seen).end
    if length_byte & 0x80:
        count = length_byte & 0x7F
        if count > 4 or pos + count > len(data):
            raise BerError("unsupported or truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = length_byte
    if pos + length > len(data):
        raise BerError("truncated: element longer than the data")
    return Element(tag_class, constructed, tag, start, length_start, pos, pos + length, pos + length, False)


def children(data: bytes, parent: Element, depth: int = 0, seen: Seen | None = None) -> list[Element]:
    out, pos = [], parent.content_start
    while pos < parent.content_end:
        child = read_element(data, pos, depth + 1, seen)
        out.append(child)
        pos = child.end
    return out


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def to_definite(data: bytes, element: Element, depth: int = 0, seen: Seen | None = None) -> bytes:
    """Re-encode an element with definite lengths throughout (DER's length rule)."""
    if depth > MAX_DEPTH:
        raise BerError("nesting too deep")
    seen = {} if seen is None else seen
    identifier = data[element.start : element.length_start]
    if element.constructed:
        content = b"".join(to_definite(data, child, depth + 1, seen) for child in children(data, element, depth, seen))
    else:
        content = data[element.content_start : element.content_end]
    return identifier + encode_length(len(content)) + content
