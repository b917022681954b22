"""The fuzz machinery can fail: its mutations vary and reach below the armour, and the harness
catches each kind of broken promise (a stray exception, a hang, a warning, a bad result)."""

from __future__ import annotations

import base64
import binascii
import signal
import time
import warnings

import pytest

from reconciler.x509.ber import BerError, read_element
from tests.ber_mutations import elements, mutate_element, replace
from tests.encoding_layers import through_encodings
from tests.fuzz_corpus import REAL_ANSWER
from tests.fuzz_harness import Known, fuzz
from tests.json_mutations import swap_json_value
from tests.mutations import Mutator

NESTED_DER = bytes.fromhex("3009020101" + "3004" + "0402abcd")  # SEQUENCE { INTEGER 1, SEQUENCE { OCTET STRING } }
REAL = REAL_ANSWER.read_bytes()


def test_a_case_is_a_function_of_seed_and_index_alone():
    one, again, other = Mutator([REAL], 1), Mutator([REAL], 1), Mutator([REAL], 2)
    assert [one.case(i) for i in (5, 0, 5)] == [again.case(5), again.case(0), again.case(5)]
    assert sum(one.case(i) != other.case(i) for i in range(50)) > 45


def test_mutations_vary_and_keep_most_of_the_sample():
    mutator = Mutator([REAL], 3)
    cases = [mutator.case(i) for i in range(500)]
    assert len(set(cases)) > 480
    assert len({len(c) for c in cases}) > 100
    assert sum(REAL[:40] in c for c in cases) > 100  # mostly small damage, not noise


def test_mutations_reach_below_base64():
    mutator = Mutator([REAL], 4, reach=through_encodings)
    decoded = 0
    for i in range(300):
        try:
            inner = base64.b64decode(b"".join(mutator.case(i).split()), validate=True)
        except binascii.Error:
            continue
        decoded += inner != base64.b64decode(REAL)
    assert decoded > 150


def test_structural_mutations_toggle_length_forms_and_repair_what_surrounds():
    mutator = Mutator([NESTED_DER], 5, extra=(mutate_element,) * 20)
    cases = [mutator.case(i) for i in range(300)]
    assert any(c.startswith(b"\x30\x80") for c in cases)  # definite became indefinite
    inner = next(e for e in elements(NESTED_DER) if e.start == 7)  # the OCTET STRING
    grown = replace(NESTED_DER, elements(NESTED_DER), inner, b"\x04\x05hello")
    assert grown == bytes.fromhex("300c020101" + "3007" + "040568656c6c6f")


def test_json_values_change_kind_and_stay_json():
    body = b'200\r\n\r\n{"failedCreationList": [{"deviceId": "gw-1"}]}'
    mutator = Mutator([body], 6, extra=(swap_json_value,) * 50)
    assert sum(b'"failedCreationList": [{"deviceId": "gw-1"}]' not in mutator.case(i) for i in range(50)) > 25


def _fails(**kwargs) -> str:
    with pytest.raises(pytest.fail.Exception) as failure:
        fuzz("stub", Mutator([b"0123456789"], 8), 200, **kwargs)
    return str(failure.value)


def test_a_stray_exception_fails_with_a_one_line_reproducer():
    def broken(data: bytes):
        if b"\x00" in data:
            raise KeyError("oops")
        raise ValueError("refused")

    message = _fails(call=broken)
    assert message.startswith("FUZZ stub seed=8 case=") and "KeyError" in message and "base64: " in message
    assert "\n" not in message


def test_a_hang_fails_the_case_instead_of_the_run():
    def hangs(data: bytes):
        while len(data) > 12:
            pass

    started = time.monotonic()
    assert "still running after 0.2 s" in _fails(call=hangs, limit=0.2)
    assert time.monotonic() - started < 5


def test_an_escaping_warning_fails_unless_the_contract_allows_it():
    def warns(data: bytes):
        warnings.warn("deprecated", UserWarning)

    assert "UserWarning" in _fails(call=warns)
    assert fuzz("stub", Mutator([b"x"], 9), 20, warns, warnings_allowed=True).warned == 20


def test_a_result_that_breaks_the_contract_fails():
    def check(result):
        assert result >= 0, "negative"

    assert "result breaks the contract: negative" in _fails(call=lambda data: 5 - len(data), check=check)


def test_the_watchdog_gives_back_the_alarm_it_found():
    previous = signal.signal(signal.SIGALRM, lambda *args: None)
    pytest_timeout_alarm, _ = signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        fuzz("stub", Mutator([b"x"], 10), 50, len, refusals=())
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100
    finally:
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, pytest_timeout_alarm)


def test_a_known_finding_is_tolerated_only_where_it_was_found():
    def walk(data: bytes):
        read_element(b"", 0)  # BerError from reconciler/x509/ber.py, whatever the input

    here, elsewhere = Known("f", BerError, "reconciler/x509/ber.py"), Known("f", BerError, "reconciler/x509/chain.py")
    assert fuzz("stub", Mutator([b"x"], 11), 20, walk, refusals=(), known=(here,)).known["f"] == 20
    assert "BerError" in _fails(call=walk, refusals=(), known=(elsewhere,))
