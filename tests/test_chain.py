"""The chain check trusts the tenant CA's key: a yearly same-key renewal verifies with last year's CA
certificate (even expired), another key with the same name does not, and the refusal says what to do."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from c8y_emulator.ca import CertificateAuthority
from reconciler.x509.chain import chain_problem, fingerprint
from tests.device_files import device_name


def _leaf(ca: CertificateAuthority) -> x509.Certificate:
    return ca.issue(ec.generate_private_key(ec.SECP256R1()).public_key(), device_name("gw-0001"))


def test_a_certificate_from_the_same_key_verifies_with_the_older_ca_certificate():
    ca = CertificateAuthority()
    old = ca.renew()  # same key, new certificate: what Cumulocity does every year
    assert fingerprint(old) != fingerprint(ca.certificate)
    assert chain_problem([_leaf(ca)], [old]) is None


def test_the_ca_certificate_need_not_be_valid_any_more():
    ca = CertificateAuthority(lifetime=timedelta(minutes=-1))  # valid from 5 to 1 minutes ago
    expired = ca.certificate
    assert expired.not_valid_after_utc < datetime.now(timezone.utc)
    ca.lifetime = timedelta(days=365)
    ca.renew()
    assert chain_problem([_leaf(ca)], [expired]) is None


def test_another_key_under_the_same_name_is_refused_naming_both_fingerprints_and_the_remedy():
    ca = CertificateAuthority()
    configured = ca.certificate
    ca.renew(new_key=True)
    leaf = _leaf(ca)
    with warnings.catch_warnings():  # the tenant CA's name reads with a warning (C=United States)
        warnings.simplefilter("ignore", UserWarning)
        assert leaf.issuer == configured.subject  # the name alone cannot tell them apart
    problem = chain_problem([leaf], [configured], "the CA in tenant.ca_certificate /etc/tedge/ca.pem")
    assert problem is not None
    assert fingerprint(configured) in problem and fingerprint(leaf) in problem
    assert "tenant.ca_certificate /etc/tedge/ca.pem" in problem and "replace tenant.ca_certificate" in problem


def test_any_of_several_configured_certificates_will_do():
    ca, other = CertificateAuthority(), CertificateAuthority()
    assert chain_problem([_leaf(ca)], [other.certificate, ca.certificate]) is None


def test_an_intermediate_from_the_answer_leads_to_the_anchor():
    root = CertificateAuthority()
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "intermediate")])
    intermediate = root.issue(intermediate_key.public_key(), name)
    now = datetime.now(timezone.utc)
    leaf = (x509.CertificateBuilder().subject_name(device_name("gw-0001")).issuer_name(name)
            .public_key(ec.generate_private_key(ec.SECP256R1()).public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(intermediate_key, hashes.SHA256()))
    assert chain_problem([leaf, intermediate], [root.certificate]) is None
    assert chain_problem([leaf], [root.certificate]) is not None


def test_an_rsa_anchor_verifies_an_rsa_signature_and_refuses_an_ec_one():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "rsa-ca")])
    now = datetime.now(timezone.utc)

    def signed(issuer_key):
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(2).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(issuer_key, hashes.SHA256()))

    anchor = signed(key)
    assert chain_problem([signed(key)], [anchor]) is None
    assert chain_problem([signed(ec.generate_private_key(ec.SECP256R1()))], [anchor]) is not None


def test_a_broken_signature_is_a_refusal_not_an_exception():
    ca = CertificateAuthority()
    der = bytearray(_leaf(ca).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x55  # inside the signature
    broken = x509.load_der_x509_certificate(bytes(der))
    assert chain_problem([broken], [ca.certificate]) is not None


def test_without_anchors_there_is_nothing_to_check():
    assert chain_problem([_leaf(CertificateAuthority())], []) is None
