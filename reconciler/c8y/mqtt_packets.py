"""The few MQTT 3.1.1 packets a one-shot publisher needs: CONNECT, PUBLISH (QoS 1), DISCONNECT out;
CONNACK and PUBACK in. Pure: bytes in, bytes or values out (OASIS MQTT 3.1.1, sections 2-3)."""

from __future__ import annotations

from typing import Callable, NamedTuple

CONNECT, CONNACK, PUBLISH, PUBACK, DISCONNECT = 1, 2, 3, 4, 14
MAX_REMAINING = 268_435_455  # the largest length four bytes can say
MAX_INCOMING = 64  # CONNACK and PUBACK are 2 bytes: anything longer from the broker is refused
CONNACK_CODES = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


class Packet(NamedTuple):
    kind: int  # the packet type, 1..14
    flags: int  # the low four bits of the first byte
    body: bytes


def _remaining_length(n: int) -> bytes:
    if not 0 <= n <= MAX_REMAINING:
        raise ValueError(f"an MQTT packet of {n} bytes is too large")
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    if len(data) > 0xFFFF:
        raise ValueError("an MQTT string is at most 65535 bytes")
    return len(data).to_bytes(2, "big") + data


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _remaining_length(len(body)) + body


def connect(client_id: str, keepalive: int = 30) -> bytes:
    """CONNECT with a clean session, no will, no user name (the local broker's client certificate, if any, is TLS's)."""
    header = _string("MQTT") + bytes([4, 0x02]) + keepalive.to_bytes(2, "big")
    return _packet(CONNECT, 0, header + _string(client_id))


def publish(topic: str, payload: bytes, packet_id: int, retain: bool = True) -> bytes:
    """PUBLISH at QoS 1 (answered by a PUBACK with `packet_id`)."""
    if not 0 < packet_id <= 0xFFFF:
        raise ValueError("packet id must be 1..65535")
    flags = 0x02 | (0x01 if retain else 0)
    return _packet(PUBLISH, flags, _string(topic) + packet_id.to_bytes(2, "big") + payload)


def disconnect() -> bytes:
    return _packet(DISCONNECT, 0, b"")


def read_packet(read: Callable[[int], bytes]) -> Packet:
    """One packet from `read(n)` (which returns exactly n bytes, or fewer at the end of the stream).
    ValueError for anything that is not a small, well-formed packet."""
    first = read(1)
    if len(first) != 1:
        raise ValueError("the broker closed the connection")
    length, shift = 0, 0
    for _ in range(4):
        byte = read(1)
        if len(byte) != 1:
            raise ValueError("the broker closed the connection in a packet header")
        length |= (byte[0] & 0x7F) << shift
        shift += 7
        if not byte[0] & 0x80:
            break
    else:
        raise ValueError("malformed remaining length")
    if length > MAX_INCOMING:
        raise ValueError(f"unexpected packet of {length} bytes from the broker")
    body = read(length)
    if len(body) != length:
        raise ValueError("the broker closed the connection in a packet")
    return Packet(first[0] >> 4, first[0] & 0x0F, body)


def connack_problem(packet: Packet) -> str | None:
    """None when `packet` is a CONNACK accepting the connection; else why not."""
    if packet.kind != CONNACK or packet.flags or len(packet.body) != 2:
        return f"expected CONNACK, got packet type {packet.kind} of {len(packet.body)} bytes"
    code = packet.body[1]
    if code:
        return f"connection refused: {CONNACK_CODES.get(code, f'return code {code}')}"
    return None


def puback_id(packet: Packet) -> int | None:
    """The packet id a PUBACK acknowledges; None when it is no PUBACK."""
    if packet.kind != PUBACK or packet.flags or len(packet.body) != 2:
        return None
    return int.from_bytes(packet.body, "big")
