"""Fuzz through a real socket: whatever raw bytes a tenant sends back to an EST request, the real
client (`c8y/http.send`: requests, urllib3, the size cap, the streaming sink) gives an Answer that
`judge` turns into a Verdict, or one of its documented refusals (TenantRefused, Transient) with
words. Nothing else comes out, nothing hangs, and a streamed 2xx body is exactly the body returned.

The cases are whole HTTP/1.x answers (status line, headers, body: the tenant's real enrollment
answer among them, chunked and fixed-length), mutated as bytes with HTTP's own syntax as tokens,
and replayed by a loopback server (tests/replay_server.py). A sample: each case costs a connection.
"""

from __future__ import annotations

from collections import Counter

import pytest

from reconciler.basics.errors import TenantRefused
from reconciler.basics.limits import MAX_ANSWER_BYTES
from reconciler.c8y.est import CSR_HEADERS, Verdict, judge
from reconciler.c8y.http import Answer, Transient, new_session, send
from tests.fuzz_corpus import REAL_ANSWER
from tests.fuzz_harness import cases, fuzz
from tests.mutations import Mutator, token_insertion
from tests.replay_server import ReplayServer

SEED = 7006
CASES = cases(2_000)
TIMEOUT = 1.0  # the client's, per request: a case whose answer never ends is a Transient after it


def http(status: bytes, headers: bytes, body: bytes, chunked: bool = False) -> bytes:
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 700]), body[i:i + 700]) for i in range(0, len(body), 700))
        return b"HTTP/1.1 " + status + b"\r\n" + headers + b"transfer-encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n"
    return b"HTTP/1.1 " + status + b"\r\n" + headers + b"content-length: %d\r\n\r\n" % len(body) + body


PKCS7 = b"content-type: application/pkcs7-mime; smime-type=certs-only\r\n"
JSON = b"content-type: application/json\r\n"
ANSWERS = (
    http(b"200 OK", PKCS7, REAL_ANSWER.read_bytes()),
    http(b"200 OK", PKCS7, REAL_ANSWER.read_bytes(), chunked=True),
    http(b"202 Accepted", b"retry-after: 120\r\n" + JSON, b'{"error":"pending","message":"waiting for approval"}'),
    http(b"404 Not Found", JSON, b'{"error":"Not Found","message":"No newDeviceRequest found for this ID."}'),
    http(b"404 Not Found", b"content-type: text/html\r\n", b"<html><title>404 Not Found</title></html>", chunked=True),
    http(b"401 Unauthorized", JSON, b'{"error":"security/Unauthorized","message":"Bad credentials"}'),
    http(b"503 Service Unavailable", b"retry-after: 30\r\ncontent-type: text/plain\r\n", b"Service Unavailable\n"),
    b"HTTP/1.0 200 OK\r\n" + PKCS7 + b"\r\n" + REAL_ANSWER.read_bytes(),  # no length: the body ends with the connection
)
TOKENS = (b"\r\n", b"HTTP/1.1 ", b"HTTP/1.0 100 Continue\r\n\r\n", b"content-length: ", b"transfer-encoding: chunked\r\n",
          b"content-encoding: gzip\r\n", b"content-encoding: deflate\r\n", b"content-length: %d\r\n" % (MAX_ANSWER_BYTES + 1),
          b"ffffffff\r\n", b"0\r\n\r\n", b"9" * 30, b"retry-after: ", b"location: /x\r\n", b":", b" ", b"\x00", b"\xff")


class SinkRecord:
    """The streaming side of an AnswerSink, recorded: http.send's promise is that a 2xx body it
    returns reached the sink whole, in order, and was ended."""

    def __init__(self) -> None:
        self.status, self.body, self.ended = None, bytearray(), False

    def begin(self, status: int) -> bool:
        self.status = status
        return 200 <= status < 300

    def write(self, chunk: bytes) -> None:
        self.body += chunk

    def end(self) -> None:
        self.ended = True


@pytest.fixture(scope="module")
def server():
    with ReplayServer() as replay:
        yield replay


def test_any_raw_answer_is_a_verdict_or_a_documented_refusal(server):
    seen, session = Counter(), new_session(None)

    def ask(data: bytes):
        server.answer = data
        sink = SinkRecord()
        try:
            answer = send(session, "POST", server.url + "/.well-known/est/simpleenroll", timeout=TIMEOUT,
                          data=b"MIIB\n", headers={**CSR_HEADERS, "Connection": "close"}, sink=sink)
        except (TenantRefused, Transient) as refused:
            seen[type(refused).__name__] += 1
            assert str(refused).strip(), "a refusal without words"
            return None
        assert isinstance(answer, Answer) and isinstance(answer.status, int), answer
        assert len(answer.body) <= MAX_ANSWER_BYTES, len(answer.body)
        if 200 <= answer.status < 300:
            assert sink.ended and bytes(sink.body) == answer.body, "the streamed body is not the body returned"
        try:
            verdict = judge(answer, enrolling=True)
        except TenantRefused as refused:
            seen["judged refused"] += 1
            assert refused.message.strip(), "a refusal without words"
            return None
        seen["issued" if verdict.answer is not None else "retry"] += 1
        return verdict

    def check(verdict) -> None:
        assert verdict is None or isinstance(verdict, Verdict), verdict

    fuzz("http.send over a socket", Mutator(ANSWERS, SEED, extra=(token_insertion(TOKENS),) * 3), CASES, ask,
         refusals=(), check=check, limit=TIMEOUT * 4)
    assert server.requests >= CASES * 0.9, server.requests  # the cases went over the socket
    # Reach: every outcome, often, or the contract was held to one kind of answer only.
    assert min(seen[kind] for kind in ("issued", "retry", "judged refused", "TenantRefused", "Transient")) > CASES // 100, seen
