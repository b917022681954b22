"""A converged device checked by an Ansible playbook: tedge_cert.c8y_ca.certificate vs the
community.crypto trio on the same files vs a one-task `stat` playbook (Ansible's own floor).

    pip install -e '.[bench]'          # the `ansible` package, for community.crypto
    python bench/ansible_check.py [--runs 10]

Each playbook runs `--runs` times, interleaved, against localhost with this interpreter; prints the
median wall time of each and the ratios. Ours answers from the stamp of its last full run (issue 11:
<= 1.05x stat); with `ignore_backoff: true` it runs the full engine (issue 6: <= 0.5x the trio, <= 1.3x stat).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import interleaved  # noqa: E402
from bench.noop_reconcile import compile_package  # noqa: E402
from tests.ansible.ansible_run import COLLECTION_SOURCE, ansible_env, ansible_tool  # noqa: E402
from tests.device_files import converged_device  # noqa: E402

OURS = """
- hosts: device
  gather_facts: false
  tasks:
    - tedge_cert.c8y_ca.certificate:
        device_id: gw-0001
        config_dir: {dir}
        activation: {{strategy: none, verify: none}}
        report: {{twin: "off"}}  # no local broker here: an unpublished twin is a warning, and no stamp is written
"""

OURS_FULL = OURS + """        ignore_backoff: true
"""

TRIO = """
- hosts: device
  gather_facts: false
  tasks:
    - community.crypto.openssl_privatekey:
        path: {dir}/device-certs/tedge-private-key.pem
        type: ECC
        curve: secp256r1
    - community.crypto.openssl_csr:
        path: {dir}/device-certs/tedge.csr
        privatekey_path: {dir}/device-certs/tedge-private-key.pem
        common_name: gw-0001
        organization_name: Thin Edge
        organizational_unit_name: Device
        use_common_name_for_san: false
    - community.crypto.x509_certificate_info:
        path: {dir}/device-certs/tedge-certificate.pem
"""

STAT = """
- hosts: device
  gather_facts: false
  tasks:
    - ansible.builtin.stat:
        path: {dir}/device-certs/tedge-certificate.pem
"""


def require_community_crypto() -> None:
    probe = subprocess.run([sys.executable, "-c", "import ansible_collections.community.crypto"], capture_output=True)
    if probe.returncode != 0:
        raise SystemExit("community.crypto not found: pip install -e '.[bench]' (the `ansible` package ships it)")


def install_collection(folder: Path, env: dict) -> Path:
    """Our collection as users get it: built, then installed from the tarball."""
    subprocess.run([ansible_tool("ansible-galaxy"), "collection", "build", str(COLLECTION_SOURCE), "--output-path",
                    str(folder)], check=True, capture_output=True, env=env)
    (tarball,) = folder.glob("tedge_cert-c8y_ca-*.tar.gz")
    collections = folder / "collections"
    subprocess.run([ansible_tool("ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections)],
                   check=True, capture_output=True, env=env)
    return collections


def kept_modules(folder: Path, inventory: Path, device: Path, env: dict) -> dict[str, list[str]]:
    """The AnsiballZ files of ours (answered from the stamp) and of stat, kept on the host after a run:
    run alone, they show the module's own cost without the controller's."""
    env = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(folder / "remote"))
    commands = {}
    for name, text in (("module alone: ours (stamp)", OURS), ("module alone: stat", STAT)):
        playbook = folder / f"kept-{len(commands)}.yml"
        playbook.write_text(text.format(dir=device))
        subprocess.run([ansible_tool("ansible-playbook"), "-i", str(inventory), str(playbook)], check=True,
                       capture_output=True, env=env)
        newest = max((folder / "remote").glob("*/AnsiballZ_*.py"), key=lambda path: path.stat().st_mtime)
        commands[name] = [sys.executable, str(newest)]
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    require_community_crypto()
    compile_package()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        device = folder / "device"
        converged_device(device)
        inventory = folder / "inventory.ini"
        inventory.write_text(f"device ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        env = ansible_env(folder / "home")
        env["ANSIBLE_COLLECTIONS_PATH"] = str(install_collection(folder, env))
        commands = {}
        playbooks = (("certificate (ours)", OURS), ("certificate (ignore_backoff: full)", OURS_FULL),
                     ("community.crypto trio", TRIO), ("stat (floor)", STAT))
        for name, text in playbooks:
            playbook = folder / f"{name.split()[0]}-{len(commands)}.yml"
            playbook.write_text(text.format(dir=device))
            commands[name] = [ansible_tool("ansible-playbook"), "-i", str(inventory), str(playbook)]
            # The first run converges what the playbook owns (the trio writes its CSR); then all is ok.
            for attempt in range(2):
                done = subprocess.run(commands[name], capture_output=True, text=True, env=env)
                assert done.returncode == 0, done.stdout[-2000:]
            assert "changed=0" in done.stdout and "failed=0" in done.stdout, done.stdout[-2000:]
        results = interleaved(commands, args.runs, env)
        alone = interleaved(kept_modules(folder, inventory, device, env), args.runs, env)
    for name, row in results.items():
        assert row["exit_codes"] == [0], (name, row)
    print(f"a converged device checked by one playbook run, {args.runs} interleaved runs each")
    for name, row in results.items():
        print(f"  {name:<36} median {row['median_s'] * 1000:7.0f} ms   p95 {row['p95_s'] * 1000:7.0f} ms")
    ours, full = results["certificate (ours)"]["median_s"], results["certificate (ignore_backoff: full)"]["median_s"]
    stat = results["stat (floor)"]["median_s"]
    print(f"  ours (from the stamp) / stat: {ours / stat:.2f}x  (target <= 1.05x)")
    print(f"  full engine / trio:           {full / results['community.crypto trio']['median_s']:.2f}x  (target <= 0.5x)")
    print(f"  full engine / stat:           {full / stat:.2f}x  (target <= 1.3x)")
    for name, row in alone.items():
        print(f"  {name:<36} median {row['median_s'] * 1000:7.0f} ms   peak RSS {row['peak_rss_mib']:5.1f} MiB")
    ratio = alone["module alone: ours (stamp)"]["median_s"] / alone["module alone: stat"]["median_s"]
    print(f"  the module alone, ours (from the stamp) / stat: {ratio:.2f}x  (the rest is the controller's)")


if __name__ == "__main__":
    main()
