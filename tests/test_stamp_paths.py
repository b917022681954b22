"""The stamp stands for the files the engine reads, however their paths are spelt: a config dir
reached through a link and `..`, and paths named by `~user`, which /etc/passwd resolves."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.conftest import RECONCILE
from tests.device_files import converged_device, write_state
from tests.hostile_states import needs_root
from tests.reconcile_cli import UNREACHABLE_TENANT, run


def answered(result: subprocess.CompletedProcess) -> bool:
    return '"answered_from": "stamp"' in result.stdout


def test_a_config_dir_reached_through_a_link_and_dotdot_is_the_one_the_engine_reads(tmp_path):
    real, shown = tmp_path / "real", tmp_path / "shown"
    (real / "sub").mkdir(parents=True)
    shown.mkdir()
    converged_device(real)
    state = write_state(real, **UNREACHABLE_TENANT).rename(shown / "state.yaml")
    (shown / "link").symlink_to(real / "sub")
    (real / "tedge.toml").write_text("")
    config = f"{shown}/link/.."  # the kernel follows the link first: this is `real`, not `shown`
    args = ("-f", str(state), "--config-dir", config, "--output", "json")
    time.sleep(0.05)  # older than a clock tick: the first run writes the stamp
    assert run(*args).returncode == 0
    assert answered(run(*args))
    (real / "tedge.toml").write_text(f'[device]\ncert_path = "{real}/other/tedge-certificate.pem"\n')
    moved = run(*args)
    assert not answered(moved)
    assert json.loads(moved.stdout)["reasons"] == ["CertMissing"]


# In a mount namespace of its own, /etc/passwd is a copy in which svcstamp's home can move.
NAMESPACE = """
set -e
mount --bind "$PASSWD" /etc/passwd
"$@" >/dev/null
echo answered-before: $("$@" | grep -c '"answered_from": "stamp"' || true)
sed "s#$HOME_1#$HOME_2#" "$PASSWD" > "$PASSWD.new"
umount /etc/passwd
mount --bind "$PASSWD.new" /etc/passwd
echo answered-after: $("$@" | grep -c '"answered_from": "stamp"' || true)
"""


def test_a_path_named_by_a_users_home_follows_etc_passwd(tmp_path):
    needs_root("unshare -m, mount")
    first_home, second_home = tmp_path / "home-1", tmp_path / "home-2"
    converged_device(first_home)
    second_home.mkdir()  # moved there, the device has neither key nor certificate
    certs = "~svcstamp/device-certs"
    state = write_state(tmp_path, paths={"key": f"{certs}/tedge-private-key.pem", "cert": f"{certs}/tedge-certificate.pem",
                                         "csr": f"{certs}/tedge.csr"}, **UNREACHABLE_TENANT)
    passwd = tmp_path / "passwd"
    passwd.write_text(Path("/etc/passwd").read_text() + f"svcstamp:x:64123:64123::{first_home}:/bin/sh\n")
    time.sleep(0.05)
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", NAMESPACE, "stamp", *RECONCILE, "-f", str(state), "--config-dir", str(tmp_path),
         "--output", "json"],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PASSWD": str(passwd), "HOME_1": str(first_home),
             "HOME_2": str(second_home)},
    )
    assert done.returncode == 0, done.stderr
    assert "answered-before: 1" in done.stdout  # the stamp answers while /etc/passwd is as it was
    assert "answered-after: 0" in done.stdout  # and not once the home moved
