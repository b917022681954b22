from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECONCILE = [sys.executable, "-m", "reconciler"]


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxies_for_loopback(monkeypatch):
    """Every emulator and broker here is on loopback: proxies of the surrounding environment
    must reach neither the tests' own requests nor the processes they start."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def device_dir(tmp_path: Path) -> Path:
    """A thin-edge config dir with an empty device-certs folder and no tedge.toml."""
    (tmp_path / "device-certs").mkdir()
    return tmp_path


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("TEDGE_CONFIG_DIR", raising=False)
    return os.environ


@pytest.fixture
def tenant():
    from c8y_emulator.server import TenantEmulator

    with TenantEmulator() as emulator:
        yield emulator


@pytest.fixture
def local_broker(tmp_path):
    from tests.mosquitto import Mosquitto

    broker = Mosquitto(tmp_path / "local-broker")
    yield broker
    broker.stop()


@pytest.fixture
def cloud_broker(tmp_path, tenant):
    from tests.mosquitto import Mosquitto

    broker = Mosquitto(tmp_path / "cloud-broker", tls_tenant=tenant)
    yield broker
    broker.stop()
