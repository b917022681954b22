"""No URL carries a password into a log: a user or password in any address of the desired state or
tedge.toml is refused when read (exit 3, the field named, the password not repeated), and a URL that
carries one from elsewhere (HTTPS_PROXY) is logged without it, at full verbosity (-vv)."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from reconciler.basics.urls import redact
from reconciler.c8y.http import host_of
from tests.device_files import write_state
from tests.tenant_device import OTP, Device, make_device

SECRET = "s3cret-Pw"


@pytest.mark.parametrize(
    "url, shown",
    [("https://user:s3cret-Pw@example.com/c8y", "https://example.com/c8y"),
     ("http://user@127.0.0.1:8001/c8y", "http://127.0.0.1:8001/c8y"),
     ("https://u:s3cret-Pw@x@[::1]:8443/a@b", "https://[::1]:8443/a@b"),  # the last @ of the authority ends it
     ("https://example.com/path@not-a-user", "https://example.com/path@not-a-user")],
)
def test_redact_drops_the_user_and_password_only(url, shown):
    assert redact(url) == shown
    assert host_of(url) == shown.split("/")[2]


DESIRED = [
    ("tenant.url", {"tenant": {"url": f"https://admin:{SECRET}@example.com"}}),
    ("tenant.mqtt", {"tenant": {"url": "example.com", "mqtt": f"admin:{SECRET}@example.com:8883"}}),
    ("renewal.proxy_url", {"renewal": {"proxy_url": f"https://user:{SECRET}@127.0.0.1:8001/c8y"}}),
    ("renewal.token_url", {"renewal": {"token_url": f"https://user:{SECRET}@example.com:8443/devicecontrol/deviceAccessToken"}}),
    ("renewal.local_broker", {"renewal": {"local_broker": f"user:{SECRET}@localhost:1883"}}),
]
TEDGE_TOML = [
    ("c8y.url", f'[c8y]\nurl = "https://admin:{SECRET}@example.com"\n'),
    ("c8y.http", f'[c8y]\nhttp = "admin:{SECRET}@example.com:443"\n'),
    ("c8y.mqtt", f'[c8y]\nmqtt = "admin:{SECRET}@example.com:8883"\n'),
    ("c8y.proxy.client.host", f'[c8y.proxy.client]\nhost = "user:{SECRET}@127.0.0.1"\n'),
    ("mqtt.client.host", f'[mqtt.client]\nhost = "user:{SECRET}@localhost"\n'),
]


@pytest.mark.parametrize("field, sections", DESIRED, ids=[field for field, _ in DESIRED])
def test_a_password_in_a_desired_state_address_is_refused_unrepeated(tmp_path, field, sections):
    (tmp_path / "device-certs").mkdir()
    state = write_state(tmp_path, **sections)
    result = Device(tmp_path, state).run("-vv", timeout=30)
    assert result.returncode == 3, result.stderr
    assert f"{field}: must not carry a user or password" in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("key, toml", TEDGE_TOML, ids=[key for key, _ in TEDGE_TOML])
def test_a_password_in_a_tedge_toml_address_is_refused_unrepeated(tmp_path, key, toml):
    (tmp_path / "device-certs").mkdir()
    (tmp_path / "tedge.toml").write_text(toml)
    state = write_state(tmp_path)
    result = Device(tmp_path, state).run("-vv", timeout=30)
    assert result.returncode == 3, result.stderr
    assert f"{tmp_path / 'tedge.toml'}: {key}: must not carry a user or password" in result.stderr
    assert SECRET not in result.stdout + result.stderr


class RefusingProxy:
    """A loopback HTTP proxy that records each request head it receives and answers 407."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.heads: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.heads.append(head)
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self):
        self.server.close()


def test_a_proxy_password_from_the_environment_never_reaches_stderr(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    proxy = RefusingProxy()
    try:
        device = make_device(tmp_path, tenant, enrollment={"max_wait": "0s"})
        result = device.run("-vv", env={"HTTPS_PROXY": f"http://proxyuser:{SECRET}@127.0.0.1:{proxy.port}"})
    finally:
        proxy.close()
    credentials = base64.b64encode(f"proxyuser:{SECRET}".encode()).decode()
    assert proxy.heads and proxy.heads[0].startswith(b"CONNECT 127.0.0.1:")  # the proxy was really asked
    assert f"Proxy-Authorization: Basic {credentials}".encode() in proxy.heads[0]
    assert result.returncode == 8, result.stderr
    assert f"via proxy http://127.0.0.1:{proxy.port}" in result.stderr  # -vv names the proxy ...
    assert SECRET not in result.stderr and credentials not in result.stderr  # ... without its password
    assert "proxyuser" not in result.stderr
    assert tenant.requests_to("simpleenroll") == []
