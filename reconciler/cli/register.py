"""`reconcile register`: the tenant administrator's side — register devices with one-time passwords."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
from reconciler.c8y.admin import AdminClient, load_admin_credentials
from reconciler.c8y.registration import register_devices, registration_status, registration_url
from reconciler.c8y.trusted_certificates import fetch_tenant_ca
from reconciler.cli.arguments import add_admin_options, command_parser
from reconciler.cli.register_input import devices_from_file, devices_from_ids

HELP = """\
Register devices on the tenant for certificate enrollment, each with a one-time password.

Devices come from --device (repeatable) or --from FILE (CSV with columns ID and optionally
ENROLLMENT_OTP, NAME, TYPE; or YAML: a list of ids or of {id, one_time_password, name, type}).
A device without a password gets a random 32-character one; generated passwords are handed back
only where you ask: --otp-out FILE (CSV, mode 0600) or --show-otp (stdout).
Devices are uploaded in chunks to POST /devicecontrol/bulkNewDeviceRequests.

A device that has already enrolled (the tenant knows its c8y_Serial external id) is looked up
first and left alone, reported `enrolled`: a new registration would issue a new one-time password
with which anyone could obtain a certificate for its name. --replace-enrolled registers it all the
same, on purpose (a new one-time password for an existing device, e.g. after its key was lost).

With --ca-out FILE it also writes the tenant's CA certificate (PEM, mode 0644) from the tenant's
trusted certificates (the entry marked tenantCertificateAuthority; needs ROLE_TENANT_ADMIN or
ROLE_TENANT_MANAGEMENT_READ): give it to every device as tenant.ca_certificate, so that issued
certificates are checked against it. --ca-out without devices fetches only the CA.

Admin credentials come from C8Y_USER, C8Y_PASSWORD, C8Y_TENANT in the environment, or from
--credentials-file (the same KEY=VALUE lines); never from the command line.
"""

EPILOG = """\
exit codes:
  0  every device registered (created or updated) or left alone as enrolled; or --status / --print-url shown;
     --ca-out written
  1  at least one device failed (see its reason)
  3  bad input (options, device file, credentials)
  6  the tenant refused (admin credentials, unexpected answer, TLS failure, no tenant CA for --ca-out)
  8  the tenant could not be reached, or was in trouble (5xx, 429)"""


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile register", HELP, EPILOG)
    add_admin_options(p)
    p.add_argument("--device", action="append", default=[], metavar="ID", help="a device id (repeatable)")
    p.add_argument("--from", dest="sources", type=Path, action="append", default=[], metavar="FILE",
                   help="CSV or YAML list of devices (repeatable)")
    p.add_argument("--type", default="thin-edge.io", help="device type for new devices (default: thin-edge.io)")
    p.add_argument("--replace", action="store_true", help="remove an existing registration of each device first")
    p.add_argument("--replace-enrolled", action="store_true",
                   help="register devices that have already enrolled too (issues a new one-time password for them)")
    p.add_argument("--chunk-size", type=int, default=1000, metavar="N", help="devices per bulk request (default: 1000)")
    p.add_argument("--otp-out", type=Path, metavar="FILE", help="write device id and one-time password as CSV (0600)")
    p.add_argument("--show-otp", action="store_true", help="print the one-time passwords on stdout")
    p.add_argument("--status", action="store_true", help="show each device's pending registration instead")
    p.add_argument("--print-url", action="store_true",
                   help="print the registration page URL (with the one-time password) for each device; no upload")
    p.add_argument("--ca-out", type=Path, metavar="FILE",
                   help="write the tenant CA certificate (PEM, 0644) for the devices' tenant.ca_certificate")
    p.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")
    return p


def _devices(args):
    devices = devices_from_ids(args.device, args.type)
    for source in args.sources:
        devices += devices_from_file(source, args.type)
    if not devices and not (args.ca_out and not args.print_url):
        raise BadInput("reconcile register: give --device ID or --from FILE (or only --ca-out FILE)")
    return devices


def _write_tenant_ca(admin, path: Path) -> dict:
    """The tenant CA fetched and written atomically; what the output says of it."""
    tenant_ca = fetch_tenant_ca(admin)
    try:
        write_atomic(path, tenant_ca.pem, 0o644)
    except OSError as err:
        raise BadInput(f"--ca-out {path}: cannot write: {err.strerror or err}") from None
    except ReconcileError as err:  # a directory or device where the file belongs
        raise BadInput(f"--ca-out {err.message}") from None
    print(f"tenant CA written to {path} (SHA-256 {', '.join(tenant_ca.fingerprints)})", file=sys.stderr)
    summary = tenant_ca.as_dict()
    del summary["pem"]  # in the file
    return {"path": str(path), **summary}


def _write_otps(path: Path, devices) -> None:
    lines = "".join(f"{d.device_id},{d.one_time_password}\n" for d in devices)
    write_atomic(path, ("ID,ENROLLMENT_OTP\n" + lines).encode(), 0o600)


def run(args) -> int:
    if not args.tenant:
        raise BadInput("reconcile register: --tenant URL (or $C8Y_HOST) is required")
    devices = _devices(args)
    if args.print_url:
        if args.ca_out:
            raise BadInput("reconcile register: --print-url contacts nothing; --ca-out needs the tenant")
        for device in devices:
            print(registration_url(args.tenant, device.device_id, device.one_time_password))
        return 0
    admin = AdminClient(args.tenant, load_admin_credentials(args.credentials_file), args.ca_bundle)
    tenant_ca = _write_tenant_ca(admin, args.ca_out) if args.ca_out else None  # first: a refusal registers nothing
    if not devices:
        if args.output == "json":
            print(json.dumps({"tenant_ca": tenant_ca}, indent=2))
        return int(ExitCode.OK)
    extra = {"tenant_ca": tenant_ca} if tenant_ca else {}
    if args.status:
        statuses = {d.device_id: registration_status(admin, d.device_id) for d in devices}
        if args.output == "json":
            print(json.dumps({"registrations": [{"device_id": k, "status": v} for k, v in statuses.items()], **extra}, indent=2))
        else:
            for device_id, status in statuses.items():
                print(f"{device_id}: {status or 'no pending registration'}")
        return 0
    generated = [d for d in devices if d.generated]
    if generated and not (args.otp_out or args.show_otp):
        raise BadInput("generated one-time passwords would be lost: give --otp-out FILE or --show-otp")
    report = register_devices(admin, devices, replace=args.replace, skip_enrolled=not args.replace_enrolled,
                              chunk_size=args.chunk_size)
    if args.otp_out:  # the passwords that were registered: an enrolled device's was never sent
        skipped = {r.device_id for r in report.results if r.result == "enrolled"}
        _write_otps(args.otp_out, [d for d in devices if d.device_id not in skipped])
    passwords = {d.device_id: d.one_time_password for d in devices} if args.show_otp else {}
    if args.output == "json":
        rows = [{"device_id": r.device_id, "result": r.result, "reason": r.reason, "deleted": r.deleted,
                 **({"one_time_password": passwords[r.device_id]} if passwords and r.result != "enrolled" else {})}
                for r in report.results]
        print(json.dumps({"devices": rows, "requests": report.requests, "created": report.count("created"),
                          "updated": report.count("updated"), "enrolled": report.count("enrolled"),
                          "failed": report.count("failed"), **extra}, indent=2))
    else:
        for r in report.results:
            secret = f"  one-time password: {passwords[r.device_id]}" if passwords and r.result != "enrolled" else ""
            reason = f" ({r.reason})" if r.reason else ""
            print(f"{r.device_id}: {r.result}{reason}{secret}")
        print(f"{report.count('created')} created, {report.count('updated')} updated, {report.count('enrolled')} enrolled, "
              f"{report.count('failed')} failed in {report.requests} requests", file=sys.stderr)
    return int(ExitCode.OK if report.ok else ExitCode.ERROR)
