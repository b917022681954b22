"""Fuzz: whatever a tenant answers to an EST request (status, headers, body), `judge` gives a
Verdict or raises TenantRefused; `retry_after_seconds` gives seconds (>= 0) or None.

A case is a whole answer written as HTTP text (status line, headers, blank line, body) and
mutated as one: statuses, Retry-After values (seconds, HTTP dates, Latin-1 digits such as
`²`), content types and bodies (JSON, HTML, the real enrollment answer) change together.
10,000 answers, each judged while enrolling and while re-enrolling; 10,000 Retry-After values.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.est import Verdict, judge, retry_after_seconds
from tests.fuzz_corpus import REAL_ANSWER
from tests.fuzz_harness import cases, fuzz
from tests.http_text import as_answer
from tests.mutations import Mutator, token_insertion

SEED = 7004
CASES = cases(10_000)
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
JSON = b"content-type: application/json\r\n"

ANSWERS = (
    b"200\r\ncontent-type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n" + REAL_ANSWER.read_bytes(),
    b"201\r\ncontent-type: application/pkcs10\r\n\r\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    b"202\r\nretry-after: 120\r\n" + JSON + b'\r\n{"error":"pending","message":"waiting for approval"}',
    b"202\r\nretry-after: Thu, 01 Jan 2026 12:00:30 GMT\r\n\r\n",
    b"404\r\n" + JSON + b'\r\n{"error":"Not Found","message":"No newDeviceRequest found for this ID. It may already be registered, check the audit logs for details."}',
    b"404\r\ncontent-type: text/html\r\n\r\n<html><head><title>404 Not Found</title></head><body>openresty</body></html>",
    b"401\r\n" + JSON + b'\r\n{"error":"security/Unauthorized","message":"Invalid credentials! : Bad credentials"}',
    b"400\r\n" + JSON + b'\r\n{"error":"Bad Request","message":{"detail":["Invalid CSR"]}}',
    b"503\r\nretry-after: 30\r\ncontent-type: text/plain\r\n\r\nService Unavailable\n",
    b"429\r\nretry-after: Mon, 01 Jan 0001 00:00:00 GMT\r\n\r\n[1, 2, 3]",
    b"500\r\ncontent-type: text/html; charset=utf-8\r\n\r\n<TITLE>\xff\xfe oops</title>\n",
)
RETRY_AFTER = (b"0", b"120", b"Thu, 01 Jan 2026 12:00:30 GMT", b"Fri, 31 Dec 9999 23:59:59 GMT", b"1.5", b"-1",
               b"Wed, 21 Oct 2015 07:28:00 +2359", b"\xb2", b" 7 ", b"Sun, 06 Nov 1994 08:49:37")
# Syntax of HTTP, JSON and dates: nesting, escapes, numbers out of range, digits that are not ASCII.
TOKENS = (b"[", b'{"message":', b'"', b"\\u0000", b"\\ud800", b"1e999", b"NaN", b"<title>", b"</title>", b"\r\n",
          b"retry-after: ", JSON, b"\xb2", b"\xb9", b"\xbd", b"9" * 40, b"GMT", b"+9999", b", 31 Feb 2026 ")


def judged(data: bytes, seen: Counter | None = None) -> list[Verdict]:
    """Both verdicts on one answer; `seen` counts which kinds (issued, retry, refused) came out."""
    answer = as_answer(data)
    verdicts = []
    for enrolling in (True, False):
        try:
            verdict = judge(answer, enrolling=enrolling)
            verdicts.append(verdict)
            kind = "issued" if verdict.answer is not None else "retry"
        except TenantRefused as refused:
            assert refused.message.strip(), "a refusal without words"
            kind = "refused"
        if seen is not None:
            seen[kind] += 1
    return verdicts


def sane_seconds(seconds) -> None:
    assert seconds is None or isinstance(seconds, float) and seconds >= 0 and not math.isnan(seconds), seconds


def sane_verdicts(verdicts: list[Verdict]) -> None:
    for verdict in verdicts:
        assert isinstance(verdict, Verdict), verdict
        assert (verdict.answer is None) != (verdict.retry is None), f"neither or both an answer and a retry: {verdict}"
        assert verdict.answer is None or verdict.answer.strip(), "an empty answer taken as issued"
        sane_seconds(verdict.retry_after)


def test_any_tenant_answer_is_a_verdict_or_a_refusal():
    mutator = Mutator(ANSWERS, SEED, extra=(token_insertion(TOKENS),) * 3)
    seen = Counter()
    fuzz("judge", mutator, CASES, lambda data: judged(data, seen), refusals=(), check=sane_verdicts)
    # Reach: the mutations must still give every kind of verdict often, or the contract was tested on one kind.
    assert min(seen[kind] for kind in ("issued", "retry", "refused")) > CASES // 20, seen


def test_any_retry_after_value_is_seconds_or_none():
    mutator = Mutator(RETRY_AFTER, SEED, extra=(token_insertion(TOKENS),) * 3)
    call = lambda data: retry_after_seconds(data.decode("latin-1"), now=NOW)  # noqa: E731 - headers come as Latin-1
    fuzz("retry_after_seconds", mutator, CASES, call, refusals=(), check=sane_seconds)
