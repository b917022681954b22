"""Issue 7's table: hostile on-disk states, each run through the real CLI against the emulator.

Every row asserts: the run ends within TIMEOUT with the expected exit code; for a failure or a
block, one stderr line matches `says` and names the path the setup returned; no traceback and no
"internal error"; the bystander directory (what links lead to, outside every declared path) is
identical in bytes, mode, owner and mtime; a failed or blocked run leaves the live key and
certificate, and the offending path, as they were; the tenant gets no request but those the row
allows. Problems are collected, so a failing row lists all of them at once.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from tests import hostile_rows_contents, hostile_rows_kinds, hostile_rows_links, hostile_rows_mounts
from tests.hostile_states import TIMEOUT, Row, Run, Scene, differences, inode, run_cli, tree

TABLE: list[Row] = hostile_rows_kinds.ROWS + hostile_rows_links.ROWS + hostile_rows_mounts.ROWS + hostile_rows_contents.ROWS


@pytest.fixture(scope="module")
def shared_tenant():
    """One emulator for the table; each row counts only the requests its own run made."""
    from c8y_emulator.server import TenantEmulator

    with TenantEmulator() as emulator:
        yield emulator


def _message_problems(row: Row, run: Run, named: Path | None) -> list[str]:
    pattern = re.compile(row.says)
    if row.exit in (0, 2):
        return [] if pattern.search(run.out + run.err) else [f"no output matches {row.says!r}"]

    def lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if pattern.search(line) and (named is None or str(named) in line)]

    if lines(run.err):
        return []
    on_stdout = lines(run.out)
    return [f"no stderr line matches {row.says!r}" + (f" and names {named}" if named else "")
            + (f" (stdout has it: {on_stdout[0]!r})" if on_stdout else "")]


def _kind_and_content(path: Path) -> tuple | None:
    """inode() without the mtime (a device node's changes whenever anyone writes to it); only the
    kind of a directory (its entries are the row's business)."""
    found = inode(path)
    if found is None or stat.S_ISDIR(found[0]):
        return found and found[:1]
    return found[:4] + found[5:]


def test_the_table_has_at_least_40_distinct_rows():
    assert len(TABLE) >= 40 and len({row.id for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
def test_hostile_state(row: Row, tmp_path: Path, shared_tenant):
    scene = Scene(tmp_path, shared_tenant)
    named = row.setup(scene)
    bystander, live, offending = tree(scene.outside), scene.guarded(), named and _kind_and_content(named)
    seen = len(shared_tenant.requests)

    run = run_cli(scene, row.args, row.mount)

    problems = []
    if run.code is None:
        problems.append(f"hung: killed after {TIMEOUT}s")
    elif run.code != row.exit:
        problems.append(f"exit {run.code}, expected {row.exit}")
    problems += [f"{word!r} in the output" for word in ("Traceback", "internal error") if word in run.out + run.err]
    problems += _message_problems(row, run, named)
    if row.shows and not re.search(row.shows, run.out):
        problems.append(f"stdout does not match {row.shows!r}")
    if changed := differences(bystander, tree(scene.outside)):
        problems.append(f"bystander changed: {changed}")
    failed = row.exit not in (0, 2)
    if (failed or row.untouched) and (changed := differences(live, scene.guarded())):
        problems.append(f"live files changed: {changed}")
    if failed and named and _kind_and_content(named) != offending:
        problems.append(f"{named} was changed or replaced")
    sent = [request.path for request in shared_tenant.requests[seen:]]
    if unexpected := [path for path in sent if not path.endswith(row.tenant)]:
        problems.append(f"the tenant was sent {unexpected}")
    if row.then and run.code is not None:
        try:
            row.then(scene)
        except Exception as err:  # an unreadable file where a certificate should be is a finding too
            problems.append(f"{row.then.__name__}: {type(err).__name__}: {err}")
    assert not problems, "\n".join(problems) + f"\n--- exit {run.code}\n--- stdout\n{run.out}--- stderr\n{run.err}"
