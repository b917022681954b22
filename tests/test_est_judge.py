"""What each tenant answer means, as a table; and the retry loop's pacing on a fake clock."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from reconciler.basics.errors import TenantRefused, TimedOut, Unreachable
from reconciler.c8y.est import csr_body, judge, retry_after_seconds
from reconciler.c8y.http import Answer, Transient
from reconciler.c8y.progress import Progress
from reconciler.c8y.retry import Pace, ServerWait, keep_trying
from tests.conftest import ROOT

ROOT_FIXTURE = ROOT / "tests" / "fixtures" / "c8y" / "simpleenroll-response.b64"


def _json(status, message="m", **headers):
    return Answer(status, {"content-type": "application/json", **headers}, json.dumps({"error": "e", "message": message}).encode())


HTML_404 = Answer(404, {"content-type": "text/html"}, b"<html><head><title>404 Not Found</title></head>openresty</html>")


@pytest.mark.parametrize(
    "answer, enrolling, outcome",
    [
        (_json(202, "pending", **{"retry-after": "7"}), True, ("retry", 7.0, False)),
        (_json(404, "No newDeviceRequest found for this ID."), True, ("retry", None, False)),
        (_json(401, "Invalid credentials! : Bad credentials"), True, ("retry", None, False)),
        (_json(403), True, ("retry", None, False)),
        (_json(409), True, ("retry", None, False)),
        (_json(500), True, ("retry", None, True)),
        (_json(502), False, ("retry", None, True)),
        (_json(503, **{"retry-after": "3"}), True, ("retry", 3.0, True)),
        (_json(429, **{"retry-after": "2"}), False, ("retry", 2.0, True)),
        (HTML_404, True, ("refused", "certificate-authority feature on")),
        (HTML_404, False, ("refused", "certificate-authority feature on")),
        (_json(400, "Invalid CSR"), True, ("refused", "rejected the CSR (400): Invalid CSR")),
        (_json(401, "expired token"), False, ("refused", "refused the device token (401): expired token")),
        (_json(404), False, ("refused", "refused re-enrollment (404)")),
        (_json(415), True, ("refused", "refused enrollment (415)")),
        (Answer(201, {}, b""), False, ("refused", "answered re-enrollment with 201 but an empty body")),
        (Answer(200, {}, b" \n"), True, ("refused", "answered enrollment with 200 but an empty body")),
    ],
)
def test_judge(answer, enrolling, outcome):
    if outcome[0] == "refused":
        with pytest.raises(TenantRefused, match=outcome[1].replace("(", r"\(").replace(")", r"\)")):
            judge(answer, enrolling=enrolling)
        return
    verdict = judge(answer, enrolling=enrolling)
    assert verdict.answer is None and verdict.retry
    assert (verdict.retry_after, verdict.transient) == outcome[1:]


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_with_a_body_is_the_answer_exactly_as_sent(status):
    # decoding comes later, from the durable copy: even bytes we cannot read yet are kept
    verdict = judge(Answer(status, {}, b"garbage"), enrolling=True)
    assert verdict.answer == b"garbage" and verdict.retry is None


def test_tenant_message_is_surfaced_in_the_retry_reason():
    verdict = judge(_json(404, "No newDeviceRequest found for this ID."), enrolling=True)
    assert "No newDeviceRequest found for this ID." in verdict.retry


def test_retry_after_as_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0  # in the past: at once
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None) is None


def test_csr_body_is_wrapped_base64_ending_in_newline():
    body = csr_body(bytes(range(256)) * 2)
    assert body.endswith(b"\n")
    assert max(len(line) for line in body.splitlines()) == 64


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Quiet(Progress):
    def __init__(self):
        import io

        super().__init__("test", io.StringIO())


def _pace(fake, retry_every=30.0, max_wait=600.0, rnd=0.5, max_attempts=1000):
    return Pace(retry_every, max_wait, max_attempts, clock=fake.clock, sleep=fake.sleep, random=lambda: rnd)


def _answers(*verdicts):
    items = list(verdicts)

    def attempt():
        item = items.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return attempt


def test_max_wait_zero_means_one_attempt():
    fake = FakeTime()
    with pytest.raises(TimedOut, match="1 attempts"):
        keep_trying(_answers(judge(_json(404), enrolling=True)), _pace(fake, max_wait=0), Quiet())
    assert fake.sleeps == []


def test_not_registered_retries_every_retry_every_with_jitter():
    fake = FakeTime()
    not_yet = judge(_json(404), enrolling=True)
    done = judge(Answer(200, {}, (ROOT_FIXTURE).read_bytes()), enrolling=True)
    certs = keep_trying(_answers(not_yet, not_yet, done), _pace(fake, rnd=0.5), Quiet())
    assert certs and fake.sleeps == [30.0, 30.0]  # 30 × (0.9 + 0.5/5)


WALL = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_retry_after_is_waited_in_full_and_shown_in_the_progress_line():
    fake = FakeTime()
    pending = judge(_json(202, **{"retry-after": "50"}), enrolling=True)
    done = judge(Answer(200, {}, (ROOT_FIXTURE).read_bytes()), enrolling=True)
    shown = io.StringIO()
    certs = keep_trying(_answers(pending, done), _pace(fake, max_wait=60), Progress("enrollment of gw-1", shown))
    assert certs and fake.sleeps == [50.0]  # not jittered, not shortened
    assert "next try in 50s (the tenant's Retry-After: 50s)" in shown.getvalue()


def test_a_retry_after_beyond_max_wait_ends_the_run_without_asking_again_and_names_the_earliest_next_attempt():
    fake = FakeTime()
    pending = judge(_json(202, **{"retry-after": "5"}), enrolling=True)
    an_hour = judge(_json(202, **{"retry-after": "3600"}), enrolling=True)
    asked = []

    def attempt():
        asked.append(1)
        return [pending, an_hour, pending][len(asked) - 1]

    pace = _pace(fake, max_wait=60)
    pace.wall = lambda: WALL + timedelta(seconds=fake.now)
    with pytest.raises(ServerWait) as raised:
        keep_trying(attempt, pace, Quiet())
    assert len(asked) == 2 and fake.sleeps == [5.0]  # never the 55 s that were left of max_wait
    assert raised.value.exit_code == 7
    assert raised.value.not_before == datetime(2026, 1, 1, 13, 0, 5, tzinfo=timezone.utc)
    assert "wait 1h (Retry-After)" in raised.value.message and "no request before 2026-01-01T13:00:05Z" in raised.value.message


def test_the_last_retry_after_of_a_run_that_ran_out_of_attempts_is_kept_for_the_next_run():
    fake = FakeTime()
    busy = judge(_json(503, **{"retry-after": "10"}), enrolling=True)
    pace = _pace(fake, max_wait=600, max_attempts=2)
    pace.wall = lambda: WALL + timedelta(seconds=fake.now)
    with pytest.raises(Unreachable) as raised:
        keep_trying(_answers(busy, busy), pace, Quiet())
    assert fake.sleeps == [10.0]
    assert raised.value.not_before == WALL + timedelta(seconds=20)


def test_server_trouble_backs_off_exponentially_capped_at_retry_every():
    fake = FakeTime()
    trouble = [judge(_json(500), enrolling=True)] * 8
    with pytest.raises(Unreachable):
        keep_trying(_answers(*trouble), _pace(fake, retry_every=10, max_wait=40, rnd=1.0), Quiet())
    assert fake.sleeps[:5] == [1.0, 2.0, 4.0, 8.0, 10.0]


def test_connection_errors_end_as_unreachable_with_the_last_error():
    fake = FakeTime()
    errors = [Transient("cannot reach tenant: Connection refused")] * 20
    with pytest.raises(Unreachable, match="Connection refused"):
        keep_trying(_answers(*errors), _pace(fake, retry_every=5, max_wait=20, rnd=0.0), Quiet())
    assert fake.now == 20


def test_progress_writes_one_line_per_attempt_when_not_a_terminal():
    import io

    fake = FakeTime()
    stream = io.StringIO()
    with pytest.raises(TimedOut):
        keep_trying(_answers(*[judge(_json(404, "not there"), enrolling=True)] * 3), _pace(fake, retry_every=10, max_wait=20),
                    Progress("enrolling gw-1", stream))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("reconcile: enrolling gw-1: attempt 1, 0s elapsed, next try in 10s") and "not there" in lines[0]


class Terminal:
    """A stream that says it is a terminal, recording what is drawn."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_on_a_terminal_is_one_live_line_cleared_at_the_end():
    fake, screen = FakeTime(), Terminal()
    certs = keep_trying(
        _answers(judge(_json(404, "not there"), enrolling=True), judge(_json(404, "not there"), enrolling=True),
                 judge(Answer(200, {}, ROOT_FIXTURE.read_bytes()), enrolling=True)),
        _pace(fake, retry_every=10, max_wait=60), Progress("enrolling gw-1", screen))
    assert certs
    assert "\n" not in screen.text
    assert screen.text.count("\r\033[K") == 3  # two redraws, one clear
    assert "attempt 2, 10s elapsed" in screen.text
    assert screen.text.endswith("\r\033[K")


def test_a_run_stops_after_max_attempts_requests_whatever_time_is_left():
    fake = FakeTime()
    with pytest.raises(TimedOut, match="5 attempts .* \\(max_attempts\\)"):
        keep_trying(_answers(*[judge(_json(404), enrolling=True)] * 9), _pace(fake, max_attempts=5), Quiet())
    assert len(fake.sleeps) == 4  # five requests, four pauses between them


def test_a_failing_tenant_gets_max_attempts_requests_then_the_run_ends_unreachable():
    fake = FakeTime()
    with pytest.raises(Unreachable, match="gave up after 5 attempts"):
        keep_trying(_answers(*[judge(_json(503), enrolling=True)] * 9), _pace(fake, max_attempts=5), Quiet())
