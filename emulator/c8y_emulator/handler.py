"""HTTP handlers of the emulated tenant: registration, EST, device tokens, and injected faults."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
import warnings
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from c8y_emulator.bulk_csv import csv_from_multipart, rows_of
from c8y_emulator.jwt import token_subject
from c8y_emulator.operation_routes import OPERATION_ROUTES
from c8y_emulator.pkcs7_writer import certs_only
from c8y_emulator.registry import PENDING_ACCEPTANCE
from c8y_emulator.tenant_routes import TENANT_ROUTES
from reconciler.x509.facts import common_name, name_text

NO_REGISTRATION = "No newDeviceRequest found for this ID. It may already be registered, check the audit logs for details."
OPENRESTY_404 = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
MAX_BODY = 50 * 1024 * 1024


def trusted_certificate(cert: x509.Certificate, tenant_ca: bool) -> dict:
    """An entry of /tenant/tenants/{id}/trusted-certificates as the Cumulocity docs show it (the
    fingerprint there is the SHA-1 of the DER certificate; certInPemFormat without armour lines)."""
    from cryptography.hazmat.primitives import hashes

    body = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    with warnings.catch_warnings():  # reading the tenant CA's name warns of its non-ISO country value
        warnings.simplefilter("ignore", UserWarning)
        subject, issuer = name_text(cert.subject), name_text(cert.issuer)
    return {
        "name": "Tenant CA" if tenant_ca else "Fleet manufacturer CA",
        "fingerprint": cert.fingerprint(hashes.SHA1()).hex(),  # the tenant's identifier, not a check
        "serialNumber": str(cert.serial_number),
        "subject": subject, "issuer": issuer,
        "notBefore": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "notAfter": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "algorithmName": "SHA256withECDSA", "version": 3, "status": "ENABLED",
        "autoRegistrationEnabled": False, "tenantCertificateAuthority": tenant_ca,
        "certInPemFormat": body,
    }


class TenantHandler(BaseHTTPRequestHandler):
    server_version = "tenant-emulator"
    protocol_version = "HTTP/1.0"

    @property
    def tenant(self):
        return self.server.tenant

    def log_message(self, *_args):  # quiet; tests read `tenant.requests` instead
        pass

    # --- answering ----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _error(self, status: int, error: str, message: str, headers: dict | None = None):
        self._json(status, {"error": error, "message": message}, headers)

    # --- request plumbing ---------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""

    def _basic(self) -> tuple[str, str] | None:
        value = self.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[7:].strip() if value.startswith("Bearer ") else None

    def _admin(self) -> bool:
        credentials = self._basic()
        if credentials is None:
            return False
        user, password = credentials
        return user.split("/")[-1] == self.tenant.admin_user and password == self.tenant.admin_password

    def _dispatch(self):
        path = urlsplit(self.path).path
        body = self._body() if self.command in ("POST", "PUT") else b""
        self.tenant._record(self.command, path, dict(self.headers.items()), body, urlsplit(self.path).query)
        fault = self.tenant.faults.take(path)
        if fault and self._apply_fault(fault):
            return
        route = self.tenant.routes(self.command, path, self.server.mtls)
        if route is None:
            return self._error(404, "general/notFound", f"no resource at {path}")
        handler, match = route
        handler(self, body, fault, *match)

    do_GET = do_POST = do_DELETE = do_PUT = _dispatch

    # --- faults -------------------------------------------------------------------------------

    def _apply_fault(self, fault) -> bool:
        """Answer for the fault and return True, or return False to go on (slow, certificate faults)."""
        kind = fault.kind
        if kind == "slow":
            time.sleep(fault.delay)
            return False
        if kind == "pending":
            self._error(202, "est/pending", "the request is pending approval", {"Retry-After": fault.retry_after or "1"})
        elif kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._error(fault.status, "general/internalError", f"injected failure {fault.status}", headers)
        elif kind == "html":
            self._send(fault.status, OPENRESTY_404.replace(b"404 Not Found", f"{fault.status} Error".encode()), "text/html")
        elif kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
            self.send_header("Content-Length", "4000")
            self.end_headers()
            self.wfile.write(b"MIAGCSqGSIb3DQEHAqCAMIACAQExADALBgkqhkiG9w0BBwGggDCCAXkw")
            self.close_connection = True
        elif kind == "garbage":
            self._send(200, os.urandom(300), "application/pkcs7-mime")
        elif kind == "oversized":
            self._send(200, b"A" * fault.size, "application/pkcs7-mime")
        elif kind == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
        else:
            return False  # certificate faults are applied when issuing
        return True

    # --- endpoints ----------------------------------------------------------------------------

    def bulk_register(self, body: bytes, _fault):
        if not self._admin():
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        text = csv_from_multipart(self.headers.get("Content-Type", ""), body)
        if text is None:
            return self._error(422, "devicecontrol/invalidRequest", "expected a multipart form with a 'file' field")
        result = {"numberOfAll": 0, "numberOfCreated": 0, "numberOfFailed": 0, "numberOfSuccessful": 0,
                  "credentialUpdatedList": [], "failedCreationList": []}
        for line, row in enumerate(rows_of(text), start=2):
            result["numberOfAll"] += 1
            device_id, otp = row.get("ID", ""), row.get("ENROLLMENT_OTP", "")
            problem = None
            if not device_id:
                problem = "ID is missing"
            elif row.get("AUTH_TYPE", "").upper() != "CERTIFICATES":
                problem = "AUTH_TYPE must be CERTIFICATES for certificate-authority devices"
            elif not 8 <= len(otp) <= 32:
                problem = "ENROLLMENT_OTP must be 8 to 32 characters"
            if problem:
                result["numberOfFailed"] += 1
                result["failedCreationList"].append(
                    {"bulkNewDeviceStatus": "FAILED", "deviceId": device_id, "failureReason": problem, "line": line}
                )
                continue
            outcome = self.tenant.registry.register(device_id, otp, name=row.get("NAME"), type=row.get("TYPE"))
            result["numberOfSuccessful"] += 1
            if outcome == "updated":
                result["credentialUpdatedList"].append({"bulkNewDeviceStatus": "CREDENTIAL_UPDATED", "deviceId": device_id})
            else:
                result["numberOfCreated"] += 1
        self._json(201, result)

    def new_device_request(self, _body: bytes, _fault, device_id: str):
        if not self._admin():
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        device_id = unquote(device_id)
        if self.command == "DELETE":
            if self.tenant.registry.delete(device_id):
                return self._send(204)
            return self._error(404, "devicecontrol/Not Found", f"Could not find newDeviceRequest with ID {device_id}")
        registration = self.tenant.registry.get(device_id)
        if registration is None:
            return self._error(404, "devicecontrol/Not Found", f"Could not find newDeviceRequest with ID {device_id}")
        self._json(200, {"id": device_id, "status": registration.status, "self": f"{self.tenant.url}{self.path}"})

    def features(self, _body: bytes, _fault):
        self._json(200, {"key": "certificate-authority", "phase": "PUBLIC_PREVIEW", "active": self.tenant.feature_active,
                         "strategy": "TENANT"})

    def current_tenant(self, _body: bytes, _fault):
        if not self._admin():
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        self._json(200, {"name": self.tenant.tenant_id, "domainName": self.tenant.host, "allowCreateTenants": False,
                         "customProperties": {}, "self": f"{self.tenant.url}/tenant/currentTenant"})

    def trusted_certificates(self, _body: bytes, _fault, tenant_id: str):
        if not self._admin():
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        if unquote(tenant_id) != self.tenant.tenant_id:
            return self._error(404, "tenant/Not Found", f"Could not find tenant with id {unquote(tenant_id)}")
        entries = [trusted_certificate(self.tenant.ca.certificate, True), trusted_certificate(self.tenant.fleet_ca().certificate, False)]
        if self.tenant.filters_trusted_certificates and "certificateAuthority=true" in urlsplit(self.path).query:
            entries = [e for e in entries if e["tenantCertificateAuthority"]]
        self._json(200, {"certificates": entries, "statistics": {"currentPage": 1, "pageSize": 2000},
                         "self": f"{self.tenant.url}{self.path}"})

    def cacerts(self, _body: bytes, _fault):
        if not self.tenant.feature_active:
            return self._send(404, OPENRESTY_404, "text/html")
        self._send(200, base64.encodebytes(certs_only([self.tenant.ca.certificate])), "application/pkcs7-mime")

    def _csr(self, body: bytes):
        text = body.strip()
        if text.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_csr(body)
        return x509.load_der_x509_csr(base64.b64decode(b"".join(text.split()), validate=True))

    def _issue(self, body: bytes, device_id: str, fault):
        try:
            csr = self._csr(body)
        except (ValueError, binascii.Error):
            return self._error(400, "est/invalidCsr", "The CSR could not be parsed")
        if not csr.is_signature_valid:
            return self._error(400, "est/invalidCsr", "The CSR signature is not valid")
        if common_name(csr.subject) != device_id:
            return self._error(400, "est/invalidCsr", f"The CSR common name must be the device id {device_id}")
        public_key, subject, ca = csr.public_key(), csr.subject, self.tenant.ca
        lifetime = self.tenant.lifetime
        # backdated a little against clock skew, never so much that a short-lived certificate arrives expired
        not_before = self.tenant.clock() - min(timedelta(minutes=1), lifetime / 20)
        kind = fault.kind if fault else None
        if kind == "wrong-key":
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        elif kind == "wrong-cn":
            subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, device_id + "-other")])
        elif kind == "expired":
            not_before, lifetime = not_before - timedelta(days=400), timedelta(days=365)
        elif kind == "foreign-ca":
            ca = self.tenant.foreign_ca()
        cert = ca.issue(public_key, subject, not_before=not_before, lifetime=lifetime)
        used = self.tenant.registry.consume(device_id, format(cert.serial_number, "x"))
        self.tenant.inventory.device_enrolled(device_id, used.name if used else None, used.type if used else None)
        self.tenant.issued.append(cert)
        if "application/pkcs10" in self.headers.get("Accept", "") and "pkcs7" not in self.headers.get("Accept", ""):
            return self._send(self.tenant.success_status, cert.public_bytes(serialization.Encoding.PEM), "application/pkcs10")
        headers = {"Content-Transfer-Encoding": "base64"} if self.tenant.send_transfer_encoding else {}
        self._send(self.tenant.success_status, base64.encodebytes(certs_only([cert])),
                   "application/pkcs7-mime; smime-type=certs-only", headers)

    def simpleenroll(self, body: bytes, fault):
        if not self.tenant.feature_active:
            return self._send(404, OPENRESTY_404, "text/html")
        credentials = self._basic()
        if credentials is None:
            return self._error(401, "security/Unauthorized", "Full authentication is required to access this resource")
        device_id, otp = credentials
        registration = self.tenant.registry.get(device_id)
        if registration is None:
            return self._error(404, "devicecontrol/Not Found", NO_REGISTRATION)
        if registration.one_time_password != otp:
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        if registration.status == PENDING_ACCEPTANCE:
            return self._error(202, "est/pending", "The registration waits for acceptance",
                               {"Retry-After": str(self.tenant.pending_retry_after)})
        self._issue(body, device_id, fault)

    def simplereenroll(self, body: bytes, fault):
        if not self.tenant.feature_active:
            return self._send(404, OPENRESTY_404, "text/html")
        token = self._bearer()
        device_id = token_subject(self.tenant.jwt_secret, token) if token else None
        if device_id is None or self.tenant.refuse_tokens:
            return self._error(401, "security/Unauthorized", "Invalid or expired device token")
        self._issue(body, device_id, fault)

    def device_access_token(self, _body: bytes, _fault):
        peer = self.connection.getpeercert(binary_form=True)
        if not peer:
            return self._error(401, "security/Unauthorized", "A client certificate is required")
        device_id = common_name(x509.load_der_x509_certificate(peer).subject)
        if self.tenant.refuse_tokens:
            return self._error(401, "security/Unauthorized", "Device certificate not accepted")
        self._json(200, {"accessToken": self.tenant.token_for(device_id)})

    def settings(self, body: bytes, _fault):
        if not self._admin():
            return self._error(401, "security/Unauthorized", "Invalid credentials! : Bad credentials")
        try:
            data = json.loads(body or b"{}")
            if "lifetime_seconds" in data:
                self.tenant.lifetime = timedelta(seconds=float(data["lifetime_seconds"]))
        except (ValueError, TypeError):
            return self._error(400, "emulator/badSettings", "expected JSON such as {\"lifetime_seconds\": 60}")
        self._json(200, {"lifetime_seconds": self.tenant.lifetime.total_seconds()})


ROUTES = [
    ("POST", r"/devicecontrol/bulkNewDeviceRequests", TenantHandler.bulk_register, False),
    ("GET", r"/devicecontrol/newDeviceRequests/([^/]+)", TenantHandler.new_device_request, False),
    ("DELETE", r"/devicecontrol/newDeviceRequests/([^/]+)", TenantHandler.new_device_request, False),
    ("GET", r"/features/certificate-authority", TenantHandler.features, False),
    ("GET", r"/tenant/currentTenant", TenantHandler.current_tenant, False),
    ("GET", r"/tenant/tenants/([^/]+)/trusted-certificates", TenantHandler.trusted_certificates, False),
    ("GET", r"/\.well-known/est/cacerts", TenantHandler.cacerts, False),
    ("POST", r"/\.well-known/est/simpleenroll", TenantHandler.simpleenroll, False),
    ("POST", r"/\.well-known/est/simplereenroll", TenantHandler.simplereenroll, False),
    ("POST", r"/devicecontrol/deviceAccessToken", TenantHandler.device_access_token, True),
    ("POST", r"/emulator/settings", TenantHandler.settings, False),
]
ROUTES += TENANT_ROUTES + OPERATION_ROUTES
COMPILED = [(method, re.compile(pattern + "$"), handler, mtls) for method, pattern, handler, mtls in ROUTES]
