"""Whole devices for end-to-end fleet tests: each its own config dir, desired state, installed
workflow and template, local mosquitto, agent stand-in and mapper stand-in, and a managed object
on the emulated tenant."""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path

from c8y_emulator.stand_ins.agent import AgentStandIn
from c8y_emulator.stand_ins.mapper import MapperStandIn
from tests.device_files import converged_device
from tests.mosquitto import Mosquitto
from tests.reconcile_cli import run as reconcile
from tests.tenant_device import make_device


class FleetDevice:
    def __init__(self, folder: Path, tenant, device_id: str):
        self.folder, self.device_id = folder, device_id
        self.broker = Mosquitto(folder / "local-broker")
        converged_device(folder, age=timedelta(days=1), ca=tenant.ca, device_id=device_id)
        self.device = make_device(folder, tenant, device_id=device_id, report={"twin": "auto", "local_broker": self.broker.address})
        self.state = folder / "reconcile.yaml"
        shutil.copy(self.device.state, self.state)
        installed = reconcile("install-operation", "--config-dir", str(folder), "--reconcile-command", f"{sys.executable} -m reconciler")
        assert installed.returncode == 0, installed.stderr
        self.managed_object = tenant.inventory.device_enrolled(device_id)
        self.agent = AgentStandIn(("127.0.0.1", self.broker.port), folder).start()
        self.mapper = MapperStandIn(tenant.url, (tenant.admin_user, tenant.admin_password), tenant.ca_bundle, device_id,
                                    ("127.0.0.1", self.broker.port), folder).start()

    def run(self, *args):
        """An ordinary reconcile run of this device (publishes its twin)."""
        return reconcile("--config-dir", str(self.folder), *args)

    def stop(self) -> None:
        self.mapper.stop()
        self.agent.stop()
        self.broker.stop()
