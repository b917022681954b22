"""A crash campaign: list a scenario's state-changing calls in one run under strace, then kill a
fresh run at each of them and check what it leaves behind and how the next run recovers."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from c8y_emulator.server import TenantEmulator
from tests.crash.invariants import (
    backup_problems,
    converged_problems,
    issued_problems,
    leftover_problems,
    live_pair_problems,
    lost_answer_problems,
)
from tests.crash.scenarios import Scenario
from tests.crash.strace_run import KILLED, QUIET_ENV, Call, counting_wrapper, killing_wrapper, parse_trace
from tests.tenant_device import Device

_STAMP = re.compile(r"\d{8}T\d{6}\.\d+Z")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b")
WORKERS = (os.cpu_count() or 2) + 1  # a point waits on the tenant and on fsync part of the time


@dataclass(frozen=True)
class PointOutcome:
    call: Call
    problems: tuple[str, ...]
    lost: tuple[str, ...] = ()  # signs that the tenant's answer did not survive

    @property
    def failing(self) -> tuple[str, ...]:
        return self.problems + self.lost


@dataclass(frozen=True)
class CampaignResult:
    scenario: str
    calls: tuple[Call, ...]  # every call of the set in the run without a crash
    outcomes: tuple[PointOutcome, ...]  # one per crash point, in call order
    seconds: float

    @property
    def failures(self) -> list[PointOutcome]:
        return [outcome for outcome in self.outcomes if outcome.failing]

    def counts(self) -> Counter:
        return Counter(outcome.call.syscall for outcome in self.outcomes)

    def headline(self) -> str:
        per_call = ", ".join(f"{name} {count}" for name, count in self.counts().most_common())
        return (
            f"{self.scenario}: {len(self.outcomes)} crash points ({per_call}) of {len(self.calls)} calls traced; "
            f"{len(self.failures)} failing; {self.seconds:.0f}s"
        )

    def summary(self) -> str:
        """The headline, each failing point with what broke, and the same by problem."""
        lines = [self.headline()]
        for outcome in self.failures:
            lines.append(f"{self.scenario}: {outcome.call.label} ({outcome.call.target}): {'; '.join(outcome.failing)}")
        if self.failures:
            lines.append(f"{self.scenario}, by problem (random and time-stamped names as *):")
        for problem, labels in self.by_problem().items():
            lines.append(f"  {len(labels):>3} × {problem}: {' '.join(labels)}")
        return "\n".join(lines)

    def by_problem(self) -> dict[str, list[str]]:
        """Each problem, its temp names and time stamps blurred, with the points that showed it."""
        points: dict[str, list[str]] = {}
        for outcome in self.failures:
            for problem in outcome.failing:
                blurred = _HEX.sub("*", _STAMP.sub("*", problem))
                points.setdefault(blurred, []).append(outcome.call.label)
        return points


def device_id(index: int) -> str:
    """One id per run in a campaign, all of one length, so that no byte count shifts a point."""
    return f"gw-crash-{index:04d}"


def after_recovery(device: Device, tenant: TenantEmulator) -> tuple[list[str], list[str]]:
    """Run once more without strace, then check the device, the tenant and the folders: the problems,
    and apart from them the signs that the tenant's answer was lost."""
    try:
        recovery = device.run()
        problems = converged_problems(device, recovery)
    except subprocess.TimeoutExpired as err:
        return [f"a run did not finish within {err.timeout:g}s"], []
    problems += issued_problems(device, tenant) + leftover_problems(device) + backup_problems(device)
    return problems, lost_answer_problems(device, tenant, recovery.returncode)


def count_calls(scenario: Scenario, folder: Path, tenant: TenantEmulator) -> list[Call]:
    """The state-changing calls of one run without a crash, which must itself pass every check:
    else each crash point would only repeat its failure."""
    log = folder / "strace.log"
    device = scenario.prepare(folder, tenant, device_id(0))
    run = device.run(env=QUIET_ENV, wrapper=counting_wrapper(log))
    if run.returncode:
        problems = [f"it exits {run.returncode} ({run.stderr.strip()})"]
    else:
        problems, lost = after_recovery(device, tenant)
        problems += lost
    if problems:
        raise AssertionError(f"{scenario}: the run without a crash fails already: {'; '.join(problems)}")
    return parse_trace(log.read_text())


def kill_at(scenario: Scenario, folder: Path, tenant: TenantEmulator, index: int, call: Call) -> PointOutcome:
    device = scenario.prepare(folder, tenant, device_id(index))
    killed = device.run(env=QUIET_ENV, wrapper=killing_wrapper(call))
    if killed.returncode != KILLED:
        return PointOutcome(call, (f"the run was not killed there (exit {killed.returncode}): its calls changed; count again",))
    right_after = [f"right after the kill {problem}" for problem in live_pair_problems(device)]
    problems, lost = after_recovery(device, tenant)
    return PointOutcome(call, tuple(right_after + problems), tuple(lost))


def crash_campaign(scenario: Scenario, workdir: Path, workers: int = WORKERS) -> CampaignResult:
    """Every crash point of `scenario`, each in its own folder under `workdir` under a device id of
    its own, against one tenant (one per point would cost its shutdown, ~0.5 s, each time)."""
    started = time.monotonic()
    with TenantEmulator() as tenant, ThreadPoolExecutor(workers) as pool:
        calls = count_calls(scenario, workdir / "count", tenant)
        points = [call for call in calls if call.leaves_a_trace]
        outcomes = pool.map(
            lambda numbered: kill_at(scenario, workdir / numbered[1].label, tenant, *numbered), enumerate(points, start=1)
        )
        return CampaignResult(scenario.name, tuple(calls), tuple(outcomes), time.monotonic() - started)
