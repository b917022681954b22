"""Rows: what is inside the files — keys and certificates in every encoding the tool reads,
encrypted, empty, garbage or huge — and what crashed runs leave behind, and a journal that
cannot be written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import serialization

from reconciler.x509.facts import load_certificates
from tests.device_files import write_cert
from tests.hostile_states import (
    ANY_REQUEST,
    CA_REQUEST,
    Row,
    Scene,
    directory,
    fifo,
    regular_cert_for_the_key,
    symlink,
    write_bytes,
)

MIB = 1024 * 1024
NO_ENCRYPTION = serialization.NoEncryption()


def _der_cert_and_key(scene: Scene) -> None:
    key = scene.converged()
    cert = load_certificates(scene.cert.read_bytes())[0]
    write_bytes(scene.cert, cert.public_bytes(serialization.Encoding.DER))
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, NO_ENCRYPTION)
    write_bytes(scene.key, der, 0o600)


def _traditional_key(algorithm: str) -> Callable[[Scene], None]:
    """PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY)."""

    def setup(scene: Scene) -> None:
        scene.state(key={"algorithm": algorithm})
        key = scene.converged(algorithm=algorithm)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_ENCRYPTION)
        write_bytes(scene.key, pem, 0o600)

    return setup


def _pkcs7_certificate(scene: Scene) -> None:
    scene.tenant_answer(scene.cert, scene.key_only())


def _encrypted_key(scene: Scene) -> Path:
    encryption = serialization.BestAvailableEncryption(b"passphrase")
    pem = scene.converged().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return write_bytes(scene.key, pem, 0o600)


def _key_of_10_mib(scene: Scene) -> Path:
    return write_bytes(scene.key, b"\0" * (10 * MIB), 0o600)


def _cert_is(data: bytes) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        scene.key_only()
        write_bytes(scene.cert, data)

    return setup


ENCODINGS = [
    Row("der-certificate-and-der-key", _der_cert_and_key, 0, r"converged", untouched=True),
    Row("pkcs1-rsa-key", _traditional_key("rsa-2048"), 0, r"converged", untouched=True),
    Row("sec1-ec-key", _traditional_key("ec-p256"), 0, r"converged", untouched=True),
    Row("pkcs7-ber-certificate-as-the-tenant-sends-it", _pkcs7_certificate, 0, r"converged", untouched=True),
    Row("encrypted-key", _encrypted_key, 4, r"KeyUnreadable|encrypted"),
    Row("key-of-10-MiB", _key_of_10_mib, 4, r"KeyUnreadable|more than"),
    Row("empty-certificate", _cert_is(b""), 0, r"changed", tenant=ANY_REQUEST, then=regular_cert_for_the_key),
    Row("garbage-certificate", _cert_is(b"\x00\xffgarbage" * 64), 0, r"changed", tenant=ANY_REQUEST,
        then=regular_cert_for_the_key),
    Row("certificate-of-10-MiB", _cert_is(b"\0" * (10 * MIB)), 0, r"changed", tenant=ANY_REQUEST,
        then=regular_cert_for_the_key),
]


# --- what crashed runs leave behind ------------------------------------------------------------------


LEFTOVER_TEMPS = (".tedge-private-key.pem.reconcile-0a1b2c3d.tmp", ".tedge-certificate.pem.new.reconcile-00ff00ff.tmp")
OLD_STYLE_TEMPS = (".tedge-certificate.pem.deadbeef.tmp", ".tedge.csr.0badcafe.tmp")
TEMP_LINK_OUT = ".tedge-certificate.pem.reconcile-11223344.tmp"
PAIR_FOLDER = ".tedge-certificate.pem.reconcile-pair-20260101T000000Z-abcdef"
UNFINISHED_BACKUP = ".backup-20260101T000000.000000Z-01.0a1b2c3d.tmp"


def _temp_files_and_a_hard_link(scene: Scene) -> None:
    scene.converged()
    os.link(scene.key, scene.certs / LEFTOVER_TEMPS[0])  # killed between link() and unlink()
    write_bytes(scene.certs / LEFTOVER_TEMPS[1], b"\0" * 4096)  # a reservation for an answer that never came


def _old_style_temps(scene: Scene) -> None:
    scene.converged()
    for name in OLD_STYLE_TEMPS:
        write_bytes(scene.certs / name, b"half written")


def _temp_link_out(scene: Scene) -> None:
    scene.converged()
    symlink(scene.certs / TEMP_LINK_OUT, write_bytes(scene.outside / "precious", b"keep me\n"))


def _unused_pair_folder(links_out: bool) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        scene.converged()
        folder = directory(scene.certs / PAIR_FOLDER)
        write_bytes(folder / "private-key.pem", b"half a key", 0o600)
        if links_out:  # removing the folder must remove the links, not what they lead to
            kept = directory(scene.outside / "kept")
            write_bytes(kept / "certificate.pem", b"keep me\n")
            symlink(folder / "certificate.pem", kept / "certificate.pem")
            symlink(folder / "more", kept)

    return setup


def _unfinished_backup(scene: Scene) -> None:
    scene.converged()
    folder = directory(directory(scene.backup) / UNFINISHED_BACKUP)
    write_bytes(folder / "tedge-certificate.pem", b"half")


def _cert_new_identical(scene: Scene) -> None:
    scene.converged()
    write_bytes(scene.cert_new, scene.cert.read_bytes())


def _raw_answer_as_cert_new(ca_known: bool) -> Callable[[Scene], None]:
    """A killed run's durable answer (base64 BER PKCS#7, as sent) for our key; with the tenant CA
    configured, or to be asked for at /cacerts (which spends nothing)."""

    def setup(scene: Scene) -> None:
        if ca_known:
            scene.state(tenant={"ca_certificate": str(scene.tenant.tenant_ca_file)})
        scene.tenant_answer(scene.cert_new, scene.key_only())

    return setup


def _cert_new_from_a_foreign_ca(scene: Scene) -> None:
    scene.state(tenant={"ca_certificate": str(scene.tenant.tenant_ca_file)})
    write_cert(scene.cert_new, scene.converged(), ca=scene.tenant.foreign_ca())


def _cert_new_of_10_mib(scene: Scene) -> None:
    scene.converged()
    write_bytes(scene.cert_new, b"\0" * (10 * MIB))


def _gone(*names: str) -> Callable[[Scene], None]:
    def check(scene: Scene) -> None:
        left = [name for name in names if os.path.lexists(scene.certs / name)]
        assert not left, f"not swept: {left}"
        assert os.stat(scene.key).st_nlink == 1, "the live key still has a second name"

    return check


def _set_aside_as_rejected(scene: Scene) -> None:
    assert not os.path.lexists(scene.cert_new), f"{scene.cert_new} is still there"
    assert list(scene.backup.glob("rejected-*")), f"nothing in {scene.backup} named rejected-*"


LEFTOVERS = [
    Row("temp-files-and-a-hard-link-to-the-key", _temp_files_and_a_hard_link, 0, r"converged", untouched=True,
        then=_gone(*LEFTOVER_TEMPS)),
    Row("old-style-temp-files", _old_style_temps, 0, r"converged", untouched=True, then=_gone(*OLD_STYLE_TEMPS)),
    Row("temp-file-that-links-out", _temp_link_out, 0, r"converged", untouched=True, then=_gone(TEMP_LINK_OUT)),
    Row("unused-pair-folder", _unused_pair_folder(links_out=False), 0, r"converged", untouched=True,
        then=_gone(PAIR_FOLDER)),
    Row("unused-pair-folder-with-links-out", _unused_pair_folder(links_out=True), 0, r"converged", untouched=True,
        then=_gone(PAIR_FOLDER)),
    Row("unfinished-backup-folder", _unfinished_backup, 0, r"converged", untouched=True,
        then=_gone(f"backup/{UNFINISHED_BACKUP}")),
    Row("cert-new-identical-to-the-live-certificate", _cert_new_identical, 0, r"converged", untouched=True,
        then=_gone("tedge-certificate.pem.new")),
    Row("raw-tenant-answer-left-as-cert-new", _raw_answer_as_cert_new(ca_known=True), 0, r"changed",
        then=regular_cert_for_the_key),
    Row("raw-tenant-answer-left-as-cert-new-ca-asked", _raw_answer_as_cert_new(ca_known=False), 0, r"changed",
        tenant=CA_REQUEST, then=regular_cert_for_the_key),
    Row("cert-new-from-a-foreign-ca", _cert_new_from_a_foreign_ca, 0, r"converged|changed", untouched=True,
        then=_set_aside_as_rejected),
    Row("cert-new-of-10-MiB", _cert_new_of_10_mib, 0, r"converged|changed", untouched=True, then=_set_aside_as_rejected),
]


# --- the journal (best effort: never fails or stalls a run) --------------------------------------------


def _journal_is(make: Callable[[Path], Path]) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        scene.key_only()  # enrollment: several actions to record
        make(directory(scene.backup) / "journal.jsonl")

    return setup


JOURNAL = [
    Row("journal-is-a-directory", _journal_is(directory), 0, r"changed", tenant=ANY_REQUEST,
        then=regular_cert_for_the_key),
    Row("journal-is-a-fifo", _journal_is(fifo), 0, r"changed", tenant=ANY_REQUEST, then=regular_cert_for_the_key),
]

ROWS = ENCODINGS + LEFTOVERS + JOURNAL
