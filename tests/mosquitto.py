"""A real mosquitto broker for tests: plain (the device's local broker) or TLS with client certificates
(the tenant's MQTT endpoint)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    def __init__(self, folder: Path, tls_tenant=None):
        """`tls_tenant`: a TenantEmulator whose TLS CA serves the broker and whose device CA checks clients."""
        if not Path(MOSQUITTO).exists():
            raise RuntimeError("mosquitto is not installed: apt-get install mosquitto (tests/run.sh does this)")
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false", "log_dest stderr"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to 'mosquitto', who cannot read pytest's 0700 folders
        if tls_tenant is not None:
            cert, key = tls_tenant.tls_ca.issue_server(["localhost"], ["127.0.0.1"])
            (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            (folder / "server-key.pem").write_bytes(
                key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            )
            (folder / "clients-ca.pem").write_bytes(tls_tenant.ca.certificate_pem)
            lines += [
                f"certfile {folder / 'server.pem'}",
                f"keyfile {folder / 'server-key.pem'}",
                f"cafile {folder / 'clients-ca.pem'}",
                "require_certificate true",
                "use_identity_as_username true",
            ]
        conf = folder / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        self.log = open(folder / "mosquitto.log", "wb")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {(folder / 'mosquitto.log').read_text()[-500:]}") from None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening within 10s")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()
