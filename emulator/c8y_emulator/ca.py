"""A real certificate authority for the emulator and the tests, shaped like a tenant's CA."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _tenant_ca_name() -> x509.Name:
    """C=United States, O=Cumulocity, CN=management: the real tenant CA's subject, including its
    non-ISO country value, which cryptography only builds (and reads) with a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            country = x509.NameAttribute(NameOID.COUNTRY_NAME, "United States", _validate=False)
        except TypeError:  # a cryptography without the private switch: fall back to an ISO code
            country = x509.NameAttribute(NameOID.COUNTRY_NAME, "US")
        return x509.Name(
            [
                country,
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cumulocity"),
                x509.NameAttribute(NameOID.COMMON_NAME, "management"),
            ]
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)


class CertificateAuthority:
    """A self-signed EC P-256 CA that issues device certificates and TLS server certificates."""

    def __init__(self, name: x509.Name | None = None, lifetime: timedelta = timedelta(days=3 * 365)):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = name or _tenant_ca_name()
        self.lifetime = lifetime
        self.certificate = self._self_signed()

    def _self_signed(self) -> x509.Certificate:
        now = _now()
        return (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + self.lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def renew(self, new_key: bool = False) -> x509.Certificate:
        """A new CA certificate with the same name: with the same key, as Cumulocity renews its CA
        every year, or (`new_key`) with another one. Returns the certificate it replaced."""
        old = self.certificate
        if new_key:
            self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = self._self_signed()
        return old

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        public_key,
        subject: x509.Name,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        lifetime: timedelta = timedelta(days=365),
    ) -> x509.Certificate:
        """A device certificate without extensions, as the real tenant issues it."""
        not_before = not_before or _now() - timedelta(minutes=1)
        not_after = not_after or not_before + lifetime
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .sign(self.key, hashes.SHA256())
        )

    def issue_server(self, hostnames: list[str], ip_addresses: list[str] = ()) -> tuple[x509.Certificate, object]:
        """A TLS server certificate and its key for the emulator's HTTPS endpoints."""
        import ipaddress

        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert, key
