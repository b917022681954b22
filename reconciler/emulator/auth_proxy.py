"""thin-edge's local auth proxy, emulated: forwards /c8y/... to the tenant with a device token added."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *_args):
        pass

    def do_POST(self):
        proxy = self.server.proxy
        if not self.path.startswith("/c8y/"):
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-transfer-encoding", "accept")}
        headers["Authorization"] = f"Bearer {proxy.tenant.token_for(proxy.device_id)}"
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

    def __init__(self, tenant, device_id: str):
        self.tenant, self.device_id = tenant, device_id
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/c8y"

    def __enter__(self) -> "AuthProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
