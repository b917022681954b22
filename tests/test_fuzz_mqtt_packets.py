"""Fuzz: whatever the local broker answers, the twin publisher's packet reader gives a small packet or
refuses with a ValueError, and the CONNACK and PUBACK judges never raise.

Samples are the answers mosquitto gives (CONNACK accepted and refused, PUBACK) and a retained PUBLISH."""

from __future__ import annotations

import io

from reconciler.c8y.mqtt_packets import MAX_INCOMING, Packet, connack_problem, puback_id, publish, read_packet
from tests.fuzz_harness import cases, fuzz
from tests.mutations import Mutator

SAMPLES = [b"\x20\x02\x00\x00", b"\x20\x02\x00\x05", b"\x40\x02\x00\x01", b"\x40\x02\x12\x34\x20\x02\x00\x00",
           publish("te/device/main///twin/deviceCertificate", b"{}", 1)[:40]]


def _read(data: bytes) -> Packet:
    packet = read_packet(io.BytesIO(data).read)
    connack_problem(packet), puback_id(packet)  # judged as the publisher judges them: must not raise
    return packet


def test_a_broker_answer_gives_a_small_packet_or_a_value_error():
    def check(packet) -> None:
        assert isinstance(packet, Packet) and 0 <= packet.kind <= 15 and len(packet.body) <= MAX_INCOMING, packet

    tally = fuzz("read_packet", Mutator(SAMPLES, 7101), cases(10_000), _read, check=check)
    assert tally.accepted > 100 and sum(tally.refused.values()) > 100, tally


def test_the_samples_read_as_mosquitto_means_them():
    assert connack_problem(_read(SAMPLES[0])) is None
    assert connack_problem(_read(SAMPLES[1])) == "connection refused: not authorized"
    assert puback_id(_read(SAMPLES[2])) == 1
