"""HTTPS with the guarantees the device side needs: verification always on, a timeout on every
request, proxies from the environment, and answers larger than a sane cap refused."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from reconciler.basics.errors import BadInput, Blocked, TenantRefused
from reconciler.basics.limits import MAX_ANSWER_BYTES
from reconciler.basics.safe_read import FileRefused, check_regular
from reconciler.basics.urls import redact

log = logging.getLogger("reconciler.http")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def tenant_message(self) -> str:
        """The tenant's own words: JSON `message` (or `error`), else an HTML title or first text line."""
        text = self.body[:4096].decode("utf-8", "replace")
        data = self.json_object() if "json" in self.content_type or text.lstrip().startswith("{") else None
        said = data.get("message") or data.get("error") if data is not None else None
        if isinstance(said, str) and said.strip():
            return _printable(said)
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        if title:
            return f"HTML page: {_printable(title.group(1))}"
        first = next((line for line in text.splitlines() if line.strip()), "")
        return _printable(first) or "(no message)"

    def json_object(self) -> dict | None:
        """The body as a JSON object; None when it is not one (not JSON, nested past recursion, another type)."""
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
            return None
        return data if isinstance(data, dict) else None

    def is_json(self) -> bool:
        return self.json_object() is not None


def _printable(text: str, limit: int = 200) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


class Transient(Exception):
    """A failure worth retrying: connection refused, DNS, timeout, connection cut."""


def checked_ca_bundle(ca_bundle: Path | None) -> Path | None:
    """The trust file, refused (BadInput) unless it is a regular file: OpenSSL would block on a FIFO."""
    if ca_bundle is None:
        return None
    try:
        check_regular(ca_bundle)
    except FileRefused as err:  # a FIFO, device or directory where the file belongs: a person must move it
        raise Blocked(f"CA bundle {ca_bundle}: {err.strerror}") from None
    except OSError as err:
        raise BadInput(f"CA bundle {ca_bundle}: {err.strerror}") from None
    return ca_bundle


def new_session(ca_bundle: Path | None) -> requests.Session:
    checked_ca_bundle(ca_bundle)
    session = requests.Session()
    session.verify = str(ca_bundle) if ca_bundle else True
    session.headers["User-Agent"] = "tedge-cert-reconciler"
    return session


def host_of(url: str) -> str:
    """`host[:port]` of `url`, never its user or password (messages and logs name hosts through here)."""
    return urlsplit(redact(url)).netloc


def send(session: requests.Session, method: str, url: str, *, timeout: float, sink=None, limit: int = MAX_ANSWER_BYTES,
         **kwargs) -> Answer:
    """One request. TenantRefused for TLS failures and answers over `limit` bytes; Transient for the rest.
    A `sink` (answer_store.AnswerStore) gets the body of a 2xx as it arrives, before the response
    is closed: no system call lies between the tenant's last byte and its safety."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s %s%s", method, redact(url), _via_proxy(session, url))
    try:
        # verify passed per request: requests lets REQUESTS_CA_BUNDLE override a session's setting.
        kwargs.setdefault("verify", session.verify)
        with session.request(method, url, stream=True, timeout=(timeout, timeout), **kwargs) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and _more_than(declared, limit):
                size = declared.lstrip("0")
                shown = size if len(size) <= 12 else f"a {len(size)}-digit number of"
                raise TenantRefused(f"{host_of(url)} sent an answer of {shown} bytes; refusing more than {limit}")
            streaming = sink is not None and sink.begin(response.status_code)
            holder = _held_open(response) if streaming else None
            try:
                body = bytearray()
                for chunk in response.iter_content(16384):
                    body += chunk
                    if len(body) > limit:
                        raise TenantRefused(f"{host_of(url)} sent an answer larger than {limit} bytes; refused")
                    if streaming:
                        sink.write(chunk)
                if streaming:
                    sink.end()
            finally:
                if holder is not None:
                    holder.close()  # the first system call after the answer is safe
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Answer(response.status_code, headers, bytes(body))
    except requests.exceptions.SSLError as err:
        raise TenantRefused(f"TLS failure talking to {host_of(url)}: {_reason(err)}") from None
    except requests.exceptions.Timeout:
        raise Transient(f"{host_of(url)} did not answer within {timeout:g}s") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
        raise Transient(f"cannot reach {host_of(url)}: {_reason(err)}") from None
    except requests.exceptions.InvalidURL:
        raise TenantRefused(f"invalid URL {redact(url)!r}") from None
    except requests.exceptions.RequestException as err:  # undecodable content, redirect loops, ...: never retried
        raise TenantRefused(f"{host_of(url)} answered in a way that cannot be used ({type(err).__name__})") from None


def _via_proxy(session: requests.Session, url: str) -> str:
    """` via proxy <url>` when the environment (HTTPS_PROXY, NO_PROXY) sends `url` through one; its
    user and password, which HTTPS_PROXY may carry, are never shown."""
    proxies = session.merge_environment_settings(url, {}, None, None, None)["proxies"]
    proxy = requests.utils.select_proxy(url, proxies)
    return f" via proxy {redact(proxy)}" if proxy else ""


def _more_than(digits: str, limit: int) -> bool:
    """Whether ASCII `digits` exceed `limit`, without int() on thousands of digits (Python refuses
    more than 4300) and without reading "7²" as a number (str.isdigit says yes to it)."""
    significant = digits.lstrip("0")
    return len(significant) > len(str(limit)) or int(significant or "0") > limit


def _held_open(response):
    """One more reference to the response's socket. Reading the last bytes of an answer on a
    connection the server closes, http.client closes the socket inside that very read, before the
    bytes reach us; held open, the socket is closed by our `holder.close()` once the answer is kept.
    None where the library's insides differ (then the window is that one close)."""
    try:
        return response.raw._fp.fp.raw._sock.makefile("rb")
    except AttributeError:
        return None


def _reason(err: Exception) -> str:
    """The innermost useful words of a requests/urllib3 error, without object reprs."""
    text = str(err)
    for pattern in (r"\[SSL[^\]]*\][^'(\"]*", r"Name or service not known", r"Temporary failure in name resolution",
                    r"Connection refused", r"Connection reset by peer", r"Read timed out", r"IncompleteRead\([^)]*\)",
                    r"Connection broken[^'\"]*", r"Remote end closed connection without response"):
        match = re.search(pattern, text)
        if match:
            return match.group(0).strip(" :")
    return _printable(text.split(": ")[-1], 120)

