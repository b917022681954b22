"""Bad input: one line per problem naming the file, line and field; exit 3; no traceback; nothing written."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.desired.schema import desired_state_schema
from tests.conftest import RECONCILE

GOOD = "device_id: gw-0001\nactivation: {strategy: none, verify: none}\n"


@dataclass
class Bad:
    name: str
    state: str | bytes | None  # None: no file written
    expect: str  # a regex the message must match
    tedge_toml: str | None = None
    argv: tuple = ()


CASES = [
    Bad("malformed YAML names the line", "device_id: gw-1\npaths: {key: [\n", r"state\.yaml:3: not valid YAML"),
    Bad("tab indentation", "device_id: gw-1\npaths:\n\tkey: x\n", r"state\.yaml:3: not valid YAML"),
    Bad("a list instead of a mapping", "- device_id: gw-1\n", r"state\.yaml: expected a mapping"),
    Bad("an empty file", "", r"state\.yaml: expected a mapping"),
    Bad("missing device_id", "tenant: {url: example.com}\n", r"state\.yaml:1: device_id: required field is missing"),
    Bad("device_id with a space", "device_id: gw 1\n", r"state\.yaml:1: device_id: must be 1 to 64 letters"),
    Bad("device_id longer than a CN may be", f"device_id: {'x' * 65}\n", r"state\.yaml:1: device_id: must be 1 to 64 letters"),
    Bad("organization longer than a name may be", f"device_id: gw-1\nsubject: {{organization: {'o' * 65}}}\n",
        r"state\.yaml:2: subject\.organization: "),
    Bad("typo in a top-level key", "device_id: gw-1\nrenewl: {auth: mqtt}\n", r"state\.yaml:2: renewl: unknown field"),
    Bad("typo in a nested key", "device_id: gw-1\npaths:\n  cert_path: /x\n", r"state\.yaml:3: paths\.cert_path: unknown field"),
    Bad("duplicate key", "device_id: gw-1\ndevice_id: gw-2\n", r"state\.yaml:2: not valid YAML: duplicate key 'device_id'"),
    Bad("backup_keep not a number", "device_id: gw-1\npaths: {backup_keep: many}\n", r":2: paths\.backup_keep: .*integer"),
    Bad("backup_keep zero", "device_id: gw-1\npaths: {backup_keep: 0}\n", r"paths\.backup_keep: .*greater than or equal to 1"),
    Bad("renew_before zero", "device_id: gw-1\nvalidity: {renew_before: 0}\n", r"validity\.renew_before: must be longer than zero"),
    Bad("renew_before negative", "device_id: gw-1\nvalidity: {renew_before: -5d}\n", r"validity\.renew_before: '-5d' is not a duration"),
    Bad("renew_before 100%", "device_id: gw-1\nvalidity: {renew_before: 100%}\n", r"validity\.renew_before: a percentage must be"),
    Bad("renew_before words", "device_id: gw-1\nvalidity: {renew_before: soon}\n", r"'soon' is not a duration"),
    Bad("a whole number of seconds past any date", "device_id: gw-1\nenrollment: {max_wait: 99999999999999999999}\n",
        r"state\.yaml:2: enrollment\.max_wait: 99999999999999999999 is longer than any duration"),
    Bad("a whole number of seconds past what a timedelta holds", "device_id: gw-1\ntenant: {timeout: 100000000000000}\n",
        r"state\.yaml:2: tenant\.timeout: 100000000000000 is longer than any duration"),
    Bad("retry_every zero", "device_id: gw-1\nenrollment: {retry_every: 0s}\n", r"enrollment\.retry_every: must be longer than zero"),
    Bad("unknown key algorithm", "device_id: gw-1\nkey: {algorithm: ec-p521}\n", r"key\.algorithm: must be 'ec-p256'"),
    Bad("rotate_on_renewal not a boolean", "device_id: gw-1\nkey: {rotate_on_renewal: maybe}\n", r"key\.rotate_on_renewal: .*boolean"),
    Bad("unknown renewal auth", "device_id: gw-1\nrenewal: {auth: password}\n", r"renewal\.auth: must be 'tedge-proxy'"),
    Bad("unknown activation strategy", "device_id: gw-1\nactivation: {strategy: restart}\n", r"activation\.strategy: must be"),
    Bad("empty activation command", "device_id: gw-1\nactivation: {command: []}\n", r"activation\.command: .*at least 1 item"),
    Bad("unknown twin mode", "device_id: gw-1\nreport: {twin: sometimes}\n", r"report\.twin: must be"),
    Bad("a twin topic with a wildcard", "device_id: gw-1\nreport: {topic: te/+/twin}\n", r"report\.topic: .*no \+ or #"),
    Bad("a client certificate without its key", "device_id: gw-1\nreport: {cert_file: /c.pem}\n", r"report: .*cert_file and key_file"),
    Bad("activation command as one string", "device_id: gw-1\nactivation: {command: tedge reconnect c8y}\n", r"activation\.command: must be a list"),
    Bad("decimal file mode", "device_id: gw-1\npaths: {key_mode: 600}\n", r"paths\.key_mode: expected an octal file mode"),
    Bad("impossible file mode", "device_id: gw-1\npaths: {key_mode: '0999'}\n", r"paths\.key_mode: expected an octal file mode"),
    Bad("plain http tenant", "device_id: gw-1\ntenant: {url: 'http://example.com'}\n", r"tenant\.url: the tenant must be reached over https"),
    Bad("tenant without host", "device_id: gw-1\ntenant: {url: 'https://'}\n", r"tenant\.url: 'https://' has no host name"),
    Bad("two one-time password sources", "device_id: gw-1\nenrollment: {one_time_password_file: /x, one_time_password_env: X}\n",
        r"give one_time_password_file or one_time_password_env, not both"),
    Bad("bad env var name", "device_id: gw-1\nenrollment: {one_time_password_env: 1BAD}\n", r"enrollment\.one_time_password_env: String should match"),
    Bad("desired-state file missing", None, r"state\.yaml: desired-state file not found"),
    Bad("file not UTF-8", b"device_id: \xff\xfe\n", r"state\.yaml: not UTF-8 text"),
    Bad("tedge.toml not TOML", GOOD, r"tedge\.toml: not valid TOML", tedge_toml="[c8y\nurl = 1"),
    Bad("tedge.toml bad minimum_duration", GOOD, r"tedge\.toml: certificate\.validity\.minimum_duration: 'often' is not a duration",
        tedge_toml='[certificate.validity]\nminimum_duration = "often"\n'),
    Bad("tedge.toml plain http tenant", GOOD, r"tedge\.toml: c8y\.url: the tenant must be reached over https",
        tedge_toml='[c8y]\nurl = "http://example.com"\n'),
    Bad("tedge.toml port not a number", GOOD, r"tedge\.toml: mqtt\.client\.port: expected a port number",
        tedge_toml='[mqtt.client]\nport = "x"\n'),
    # Addresses are checked when read (scheme, host, port, no spaces, no user or password), even on --dry-run
    Bad("tenant url that is not a URL", "device_id: gw-1\ntenant: {url: not a url}\n",
        r"state\.yaml:2: tenant\.url: 'not a url' contains a space", argv=("--dry-run",)),
    Bad("tenant url with a port out of range", "device_id: gw-1\ntenant: {url: 'example.com:99999'}\n", r"tenant\.url: .*no valid host or port"),
    Bad("tenant url with a bad host name", "device_id: gw-1\ntenant: {url: 'https://-x-.example.com'}\n", r"tenant\.url: '-x-\.example\.com' is not a host name"),
    Bad("tenant url with a query", "device_id: gw-1\ntenant: {url: 'https://example.com/?tenant=t1'}\n", r"tenant\.url: .*must not carry a query"),
    Bad("tenant mqtt with a space", "device_id: gw-1\ntenant: {mqtt: 'mqtt example.com'}\n", r"state\.yaml:2: tenant\.mqtt: .*contains a space"),
    Bad("tenant mqtt port zero", "device_id: gw-1\ntenant: {mqtt: 'mqtt.example.com:0'}\n", r"tenant\.mqtt: port 0 is not between 1 and 65535"),
    Bad("proxy url without a scheme", "device_id: gw-1\nrenewal: {proxy_url: '127.0.0.1:8001/c8y'}\n",
        r"state\.yaml:2: renewal\.proxy_url: .*must start with http:// or https://"),
    Bad("proxy url with a password", "device_id: gw-1\nrenewal: {proxy_url: 'https://user:pw@127.0.0.1:8001/c8y'}\n",
        r"renewal\.proxy_url: must not carry a user or password"),
    Bad("token url over http", "device_id: gw-1\nrenewal: {token_url: 'http://example.com:8443/devicecontrol/deviceAccessToken'}\n",
        r"renewal\.token_url: .*must start with https://"),
    Bad("token url with a space", "device_id: gw-1\nrenewal: {token_url: 'https://example.com/device token'}\n", r"renewal\.token_url: .*contains a space"),
    Bad("local broker with a bad port", "device_id: gw-1\nrenewal: {local_broker: 'localhost:mqtt'}\n", r"renewal\.local_broker: .*no valid port"),
    Bad("tedge.toml c8y.url not a URL", GOOD, r"tedge\.toml: c8y\.url: 'not a url' contains a space", tedge_toml='[c8y]\nurl = "not a url"\n'),
    Bad("tedge.toml c8y.http with a password", GOOD, r"tedge\.toml: c8y\.http: must not carry a user or password",
        tedge_toml='[c8y]\nhttp = "https://admin:pw@example.com"\n'),
    Bad("tedge.toml c8y.mqtt port out of range", GOOD, r"tedge\.toml: c8y\.mqtt: port 88888 is not between 1 and 65535",
        tedge_toml='[c8y]\nmqtt = "mqtt.example.com:88888"\n'),
    Bad("tedge.toml proxy host with a space", GOOD, r"tedge\.toml: c8y\.proxy\.client\.host: .*contains a space",
        tedge_toml='[c8y.proxy.client]\nhost = "local host"\n'),
    Bad("tedge.toml broker host with a user", GOOD, r"tedge\.toml: mqtt\.client\.host: must not carry a user or password",
        tedge_toml='[mqtt.client]\nhost = "user@localhost"\n'),
    Bad("unknown option", GOOD, r"unrecognized arguments: --forcefully", argv=("--forcefully",)),
    Bad("unknown output format", GOOD, r"argument --output: invalid choice", argv=("--output", "xml")),
    Bad("negative lock timeout", GOOD, r"--lock-timeout: '-1': expected a finite number of seconds", argv=("--lock-timeout", "-1")),
    Bad("lock timeout nan", GOOD, r"--lock-timeout: 'nan': expected a finite number of seconds", argv=("--lock-timeout", "nan")),
]


def _snapshot(folder: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_clear_line_and_exit_3(case: Bad, device_dir: Path, capsys, clean_env):
    (device_dir / "device-certs" / "tedge-private-key.pem").write_text("live key stays\n")
    (device_dir / "device-certs" / "tedge-certificate.pem").write_text("live cert stays\n")
    state = device_dir / "state.yaml"
    if isinstance(case.state, bytes):
        state.write_bytes(case.state)
    elif case.state is not None:
        state.write_text(case.state)
    if case.tedge_toml is not None:
        (device_dir / "tedge.toml").write_text(case.tedge_toml)
    before = _snapshot(device_dir)

    code = main(["-f", str(state), "--config-dir", str(device_dir), *case.argv])

    out, err = capsys.readouterr()
    assert code == 3, err
    assert out == ""
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith("reconcile: error: ")
    assert re.search(case.expect, err), err
    assert _snapshot(device_dir) == before


def test_every_section_of_the_desired_state_has_a_bad_input():
    named = {section for case in CASES for section in re.findall(r"(?<![\w.])([a-z_]+)(?=\\?[.:])", case.expect)}
    assert set(desired_state_schema()["properties"]) - named == set()


def test_all_problems_of_a_file_are_reported_each_on_its_line(device_dir: Path, capsys):
    state = device_dir / "state.yaml"
    state.write_text("device_id: gw-1\nkey: {algorithm: dsa}\npaths:\n  backup_keep: 0\n")
    assert main(["-f", str(state), "--config-dir", str(device_dir), "--dry-run"]) == 3
    err = capsys.readouterr().err
    assert f"{state}:2: key.algorithm" in err
    assert f"{state}:4: paths.backup_keep" in err


def test_bad_input_across_the_process_boundary(tmp_path: Path):
    state = tmp_path / "state.yaml"
    state.write_text("device_id: gw-1\nkey: {algorithm: dsa}\n")
    run = subprocess.run([*RECONCILE, "-f", str(state), "--config-dir", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 3
    assert run.stdout == ""
    assert run.stderr.startswith(f"reconcile: error: {state}:2: key.algorithm: must be")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "paths, named",
    [({"key": "same.pem", "cert": "same.pem"}, "paths.key and paths.cert"),
     ({"csr": "device-certs/tedge-certificate.pem"}, "paths.cert and paths.csr"),
     ({"key": "device-certs/tedge-certificate.pem.new"}, "paths.key and <cert>.new")],
)
def test_key_certificate_and_csr_need_files_of_their_own(device_dir, clean_env, paths, named):
    from tests.device_files import write_state

    state = write_state(device_dir, paths=paths, activation={"strategy": "none", "verify": "none"})
    result = subprocess.run([*RECONCILE, "-f", str(state), "--config-dir", str(device_dir)], capture_output=True, text=True)
    assert result.returncode == 3 and named in result.stderr and "each needs a file of its own" in result.stderr
    assert "Traceback" not in result.stderr and not (device_dir / "same.pem").exists()
