"""host:port strings of the desired state, split with their default ports."""

from __future__ import annotations

from reconciler.basics.errors import BadInput


def host_port(value: str, default_port: int, what: str) -> tuple[str, int]:
    text = value.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.rstrip("/")
    if text.startswith("["):  # [::1]:1883
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise BadInput(f"{what}: {value!r} has no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BadInput(f"{what}: {value!r} has no valid port")
    return host, int(port_text)
