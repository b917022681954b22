"""thin-edge's local auth proxy, emulated: forwards /c8y/... to the tenant with a device token added.

Every request it receives is logged (`requests`); what it forwards carries `Via: tedge-auth-proxy`,
so that the tenant's own log tells forwarded requests from direct ones. `token_fails=True` emulates
a proxy whose device token cannot be had (the cloud's token service is down): 503, nothing forwarded.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

VIA = "tedge-auth-proxy"


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *_args):
        pass

    def _refuse(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        proxy.record(self.command, self.path)
        if not self.path.startswith("/c8y/"):
            return self._refuse(404, b"not found")
        if proxy.token_fails:
            return self._refuse(503, b"cannot get a device token from the cloud")
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-transfer-encoding", "accept")}
        headers["Authorization"] = f"Bearer {proxy.tenant.token_for(proxy.device_id)}"
        headers["Via"] = VIA
        upstream = requests.post(proxy.tenant.url + self.path[4:], data=body, headers=headers,
                                 verify=str(proxy.tenant.ca_bundle), timeout=30)
        self.send_response(upstream.status_code)
        for name in ("Content-Type", "Content-Transfer-Encoding", "Retry-After"):
            if name in upstream.headers:
                self.send_header(name, upstream.headers[name])
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)


class AuthProxy:
    """`with AuthProxy(tenant, "gw-0001") as proxy:` then renewal.proxy_url = proxy.url."""

    def __init__(self, tenant, device_id: str, token_fails: bool = False):
        self.tenant, self.device_id = tenant, device_id
        self.token_fails = token_fails
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/c8y"

    def __enter__(self) -> "AuthProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
