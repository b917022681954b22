"""The tenant emulator: real HTTPS on loopback, a real CA, and a small API for tests.

    with TenantEmulator() as tenant:
        tenant.register("gw-0001", "one-time-pass-1")
        ... point the device at tenant.url, trusting tenant.ca_bundle ...
        tenant.fault("status", status=503, times=2)
        assert tenant.requests[-1].path == "/.well-known/est/simpleenroll"
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from c8y_emulator.ca import CertificateAuthority
from c8y_emulator.faults import Fault, Faults
from c8y_emulator.handler import COMPILED, TenantHandler
from c8y_emulator.inventory import Inventory
from c8y_emulator.jwt import issue_token
from c8y_emulator.operations import Operations
from c8y_emulator.registry import Registry


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict  # Authorization reduced to its scheme: tests never need the secret
    body: bytes
    query: str = ""  # the URL's query string, undecoded


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, tenant: "TenantEmulator", context: ssl.SSLContext, mtls: bool):
        super().__init__(address, TenantHandler)
        self.tenant, self.context, self.mtls = tenant, context, mtls

    def get_request(self):
        sock, address = super().get_request()
        # The handshake runs in the handler's thread, so a stalled client cannot block accept().
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):  # clients that hang up are not news
        pass


class TenantEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, token_port: int = 0, workdir: Path | None = None):
        self.host, self._port, self._token_port = host, port, token_port
        self._tempdir = None if workdir else tempfile.TemporaryDirectory(prefix="tenant-emulator-")
        self.workdir = Path(workdir or self._tempdir.name)
        self.tls_ca = CertificateAuthority(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenant Emulator TLS CA")]))
        self.ca = CertificateAuthority()
        self._foreign_ca: CertificateAuthority | None = None
        self._fleet_ca: CertificateAuthority | None = None
        self.registry = Registry()
        self.inventory = Inventory()
        self.operations = Operations()
        self.faults = Faults()
        self.requests: list[SeenRequest] = []
        self.issued: list[x509.Certificate] = []
        self.tokens_issued: list[str] = []
        self.tenant_id = "t100200"
        self.admin_user = "admin"
        self.admin_password = secrets.token_urlsafe(18)
        self.jwt_secret = os.urandom(32)
        self.lifetime = timedelta(days=365)
        self.clock = lambda: datetime.now(timezone.utc)  # dates issued certificates; tests may set a simulated one
        self.feature_active = True
        self.filters_trusted_certificates = True  # honour ?certificateAuthority=true (False: list every trusted certificate)
        self.refuse_tokens = False
        self.success_status = 200
        self.send_transfer_encoding = False
        self.pending_retry_after = 1
        self._servers: list[_TlsServer] = []
        self._lock = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> "TenantEmulator":
        cert, key = self.tls_ca.issue_server(["localhost"], [self.host])
        chain, key_file = self.workdir / "server.pem", self.workdir / "server-key.pem"
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.tls_ca.certificate_pem)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        os.chmod(key_file, 0o600)
        self.ca_bundle.write_bytes(self.tls_ca.certificate_pem)
        self.tenant_ca_file.write_bytes(self.ca.certificate_pem)

        web = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        web.load_cert_chain(chain, key_file)
        mtls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        mtls.load_cert_chain(chain, key_file)
        mtls.verify_mode = ssl.CERT_REQUIRED
        mtls.load_verify_locations(cadata=self.ca.certificate_pem.decode())
        for port, context, is_mtls in ((self._port, web, False), (self._token_port, mtls, True)):
            server = _TlsServer((self.host, port), self, context, is_mtls)
            threading.Thread(target=server.serve_forever, name="tenant-emulator", daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        self.operations.stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        if self._tempdir:
            self._tempdir.cleanup()

    def __enter__(self) -> "TenantEmulator":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # --- where to find it ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self._servers[0].server_address[1]}"

    @property
    def token_url(self) -> str:
        return f"https://{self.host}:{self._servers[1].server_address[1]}/devicecontrol/deviceAccessToken"

    @property
    def ca_bundle(self) -> Path:
        """PEM to trust for the emulator's HTTPS (tenant.ca_bundle)."""
        return self.workdir / "tls-ca.pem"

    @property
    def tenant_ca_file(self) -> Path:
        """The CA that issues device certificates now (tenant.ca_certificate; rewritten by renew_ca)."""
        return self.workdir / "tenant-ca.pem"

    # --- scripting ----------------------------------------------------------------------------

    def register(self, device_id: str, one_time_password: str, approved: bool = True) -> None:
        """A registration as the bulk upload makes it; `approved=False` answers 202 until approve()."""
        self.registry.register(device_id, one_time_password, approved)

    def approve(self, device_id: str) -> None:
        self.registry.approve(device_id)

    def set_lifetime(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime

    def fault(self, kind: str, path: str = "simpleenroll", times: int = 1, **options) -> None:
        """Answer the next `times` requests to `path` with the fault `kind` (see faults.KINDS)."""
        self.faults.add(Fault(kind, path, times, **options))

    def token_for(self, device_id: str) -> str:
        token = issue_token(self.jwt_secret, device_id)
        self.tokens_issued.append(token)
        return token

    def renew_ca(self, new_key: bool = False) -> x509.Certificate:
        """Renew the tenant CA as Cumulocity does every year (same key, new certificate), or switch
        to another key (`new_key`); the new certificate is what the tenant now shows and uses.
        Returns the certificate it replaced."""
        old = self.ca.renew(new_key)
        self.tenant_ca_file.write_bytes(self.ca.certificate_pem)
        for server in self._servers:  # device certificates from a new key still get device tokens
            if server.mtls:
                server.context.load_verify_locations(cadata=self.ca.certificate_pem.decode())
        return old

    def fleet_ca(self) -> CertificateAuthority:
        """Another trusted certificate the tenant lists (a manufacturer's CA), not its own CA."""
        if self._fleet_ca is None:
            self._fleet_ca = CertificateAuthority(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fleet Manufacturer CA")]))
        return self._fleet_ca

    def foreign_ca(self) -> CertificateAuthority:
        if self._foreign_ca is None:
            self._foreign_ca = CertificateAuthority()
        return self._foreign_ca

    def seed_devices(self, count: int, fragments=lambda number: {}, prefix: str = "dev") -> list[str]:
        """`count` enrolled devices `<prefix>-00000`... with the extra fragments `fragments(number)`,
        made in memory (10,000 in well under a second); their managed object ids."""
        return self.inventory.seed_devices((f"{prefix}-{n:05d}", fragments(n)) for n in range(count))

    def create_group(self, name: str, device_ids: list[str]) -> str:
        """A device group holding the managed objects of these (enrolled) device ids; its id."""
        members = [self.inventory.by_external_id("c8y_Serial", d) for d in device_ids]
        if None in members:
            raise KeyError(f"not enrolled: {[d for d, m in zip(device_ids, members) if m is None]}")
        return self.inventory.create_group(name, members)

    def requests_to(self, suffix: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    # --- for the handler ----------------------------------------------------------------------

    def routes(self, method: str, path: str, mtls: bool):
        for route_method, pattern, handler, needs_mtls in COMPILED:
            match = pattern.match(path)
            if match and route_method == method and needs_mtls == mtls:
                return handler, match.groups()
        return None

    def _record(self, method: str, path: str, headers: dict, body: bytes, query: str = "") -> None:
        shown = {k: (v.split(" ")[0] if k.lower() == "authorization" else v) for k, v in headers.items()}
        with self._lock:
            self.requests.append(SeenRequest(method, path, shown, body, query))
