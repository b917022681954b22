"""URLs and host[:port] endpoints from the desired state and tedge.toml: checked when they are read
(scheme, host, port, no spaces, no user or password), and never shown with a password.

Every check raises ValueError with a reason that never repeats a password; the callers add the
field (and file) it belongs to.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")  # `_` too: service names such as _mqtt.local exist
_USERINFO = re.compile(r"(?<=//)[^/?#]*@")  # everything before the last @ of the authority


def redact(url: str) -> str:
    """`url` without its user and password (`https://u:pw@host/x` → `https://host/x`); never raises.
    Every log line or message that shows a URL shows it through here."""
    return _USERINFO.sub("", str(url))


def check_host(host: str) -> str:
    """A DNS name (an internationalised one too), an IPv4 address or an IPv6 address (brackets optional)."""
    if not host:
        raise ValueError("has no host name")
    _no_space_or_credentials(host)
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return host
    except ValueError:
        pass
    try:  # the idna codec (and the tables it loads) only for a name that needs it
        ascii_name = bare if bare.isascii() else bare.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{bare!r} is not a host name") from None
    labels = ascii_name[:-1].split(".") if ascii_name.endswith(".") else ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{bare!r} is not a host name")
    return host


def _no_space_or_credentials(text: str) -> None:
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(f"{redact(text)!r} contains a space or control character")
    if _USERINFO.search(text) or ("://" not in text and "@" in text):
        raise ValueError("must not carry a user or password (credentials never go into a URL here)")


def check_port(port: int | None) -> None:
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"port {port} is not between 1 and 65535")


def check_url(value: str, schemes: tuple[str, ...]) -> SplitResult:
    """`value` split, when it is a URL with one of `schemes`, a valid host and port, no query or fragment."""
    text = value.strip()
    _no_space_or_credentials(text)
    try:
        parts = urlsplit(text)
        port = parts.port  # raises for a port that is not a number or out of range
    except ValueError:
        raise ValueError(f"{text!r} has no valid host or port") from None
    if parts.scheme not in schemes:
        raise ValueError(f"{text!r} must start with {' or '.join(s + '://' for s in schemes)}")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{text!r} must not carry a query or fragment")
    if not parts.hostname:
        raise ValueError(f"{text!r} has no host name")
    check_host(parts.hostname)
    check_port(port)
    return parts


def tenant_url(value: str) -> str:
    """`example.cumulocity.com` or `https://example.cumulocity.com/` → `https://example.cumulocity.com`."""
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    _no_space_or_credentials(value.strip())  # named as written, before a scheme is added
    if urlsplit(text).scheme != "https":
        raise ValueError("the tenant must be reached over https")
    return f"https://{check_url(text, ('https',)).netloc}"


def split_endpoint(value: str, default_port: int) -> tuple[str, int]:
    """`host[:port]` (IPv6 in brackets; a leading `scheme://` tolerated) → (host, port)."""
    text = value.strip()
    _no_space_or_credentials(text)
    rest = text.split("://", 1)[1] if "://" in text else text
    rest = rest.rstrip("/")
    if "/" in rest:
        raise ValueError(f"{text!r} must be host[:port], without a path")
    if rest.startswith("["):
        host, _, after = rest[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else after
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host, port_text = rest, ""
    check_host(host)
    if not port_text:
        return host, default_port
    if not port_text.isdigit():
        raise ValueError(f"{text!r} has no valid port")
    check_port(int(port_text))
    return host, int(port_text)


def join_host_port(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
