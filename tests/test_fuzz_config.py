"""Fuzz: whatever tedge.toml and the desired-state file hold, reading and resolving them gives a
desired state or BadInput (one line per problem), never another exception, never a hang.

Cases are mutations of a realistic tedge.toml (tables, dotted keys, inline tables; 10,000) and
of the shipped examples/*.yaml (5,000), byte by byte and with the syntax of each format inserted
where values begin (nesting, anchors, tags, complex keys, numbers and durations out of range).
Each is read, then resolved, since tedge.toml's durations and URLs are interpreted there.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.basics.errors import BadInput
from reconciler.desired.load import load_desired_state
from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import TedgeConfig, load_tedge_config
from tests.conftest import ROOT
from tests.fuzz_harness import cases, fresh_file, fuzz
from tests.mutations import Mutator, token_insertion

SEED = 7005
TOML_CASES = cases(10_000)
YAML_CASES = cases(5_000)  # YAML, pydantic and the line-finding composer cost about a millisecond a case

TEDGE_TOML = (
    b"""[device]
key_path = "/etc/tedge/device-certs/tedge-private-key.pem"
cert_path = "/etc/tedge/device-certs/tedge-certificate.pem"
csr_path = '/etc/tedge/device-certs/tedge.csr'
type = "thin-edge.io"

[c8y]
url = "t12345.eu-latest.cumulocity.com"
http = "t12345.eu-latest.cumulocity.com:443"
mqtt = "t12345.eu-latest.cumulocity.com:8883"
smartrest.templates = ["a", "b"]

[c8y.proxy.client]
host = "127.0.0.1"
port = 8001

[mqtt.client]
host = "localhost"
port = 1883

[certificate]
organization = "Thin Edge"
organization_unit = "Device"

[certificate.validity]
requested_duration = "365d"
minimum_duration = "30d"
""",
    b"""c8y.url = "example.cumulocity.com"
c8y.proxy.cert_path = "/etc/tedge/device-certs/local.crt"
device.cert_path = '/etc/tedge/device-certs/tedge-certificate.pem'
certificate.validity = { requested_duration = "90d", minimum_duration = "33%" }
mqtt.client = { host = "127.0.0.1", port = 1883 }
software.plugin.default = "apt"
""",
)
TOML_TOKENS = (b"[", b"{a=", b'"', b"'''", b'"""', b"\\u0000", b"\\UFFFFFFFF", b"1979-05-27T07:32:00Z", b"inf", b"nan",
               b"0x7fffffffffffffffffff", b"= ", b".", b"[[a]]\n", b"true", b"9" * 40, b"d", b"%", b"1e999", b"\x00", b"\xff")
YAML_TOKENS = (b"[", b"{", b"? ", b"[a]: 1\n", b"{a: 1}: 2\n", b"&a ", b"*a", b"<<: *a\n", b"!!binary ", b"!!set ",
               b"!!timestamp ", b"!!float ", b"!!python/object ", b"~", b"- ", b": ", b'"', b"'", b"\t", b"\x00", b"\xff",
               b"\xef\xbb\xbf", b".inf", b"0x", b"9" * 40, b"d", b"%", b"1e999", b"\n  ", b"#", b"|\n", b"---\n")
NO_TEDGE_TOML = TedgeConfig(config_dir=Path("/nonexistent/tedge"))


def is_state(result) -> None:
    assert isinstance(result, DesiredState), f"not a desired state: {result!r:.80}"


def test_any_tedge_toml_gives_settings_or_bad_input(tmp_path):
    minimal = load_desired_state(ROOT / "examples" / "minimal.yaml")
    path = tmp_path / "tedge.toml"

    def read_and_resolve(data: bytes) -> DesiredState:
        fresh_file(path, data)
        return resolve(minimal, load_tedge_config(tmp_path), tmp_path)

    mutator = Mutator(TEDGE_TOML, SEED, extra=(token_insertion(TOML_TOKENS),) * 3)
    fuzz("tedge.toml", mutator, TOML_CASES, read_and_resolve, refusals=(BadInput,), check=is_state)


def test_any_desired_state_file_gives_a_state_or_bad_input(tmp_path):
    path = tmp_path / "reconcile.yaml"

    def read_and_resolve(data: bytes) -> DesiredState:
        return resolve(load_desired_state(fresh_file(path, data)), NO_TEDGE_TOML, tmp_path)

    samples = [p.read_bytes() for p in sorted((ROOT / "examples").glob("*.yaml"))]
    mutator = Mutator(samples, SEED, extra=(token_insertion(YAML_TOKENS),) * 3)
    fuzz("desired state", mutator, YAML_CASES, read_and_resolve, refusals=(BadInput,), check=is_state)
