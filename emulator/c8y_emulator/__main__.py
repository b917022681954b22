"""Run the tenant emulator standalone: `python -m c8y_emulator [--port N] [--dir DIR]`.

Prints the tenant URL and the files a device and an administrator need; the admin password is
written to <dir>/admin.env (mode 0600), never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from c8y_emulator.server import TenantEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m c8y_emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (default: any free port)")
    parser.add_argument("--token-port", type=int, default=0, help="mTLS port for deviceAccessToken (default: any)")
    parser.add_argument("--dir", type=Path, help="where to write the CA files and admin.env (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    tenant = TenantEmulator(args.host, args.port, args.token_port, args.dir).start()
    admin_env = tenant.workdir / "admin.env"
    fd = os.open(admin_env, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"C8Y_TENANT={tenant.tenant_id}\nC8Y_USER={tenant.admin_user}\nC8Y_PASSWORD={tenant.admin_password}\n")
    info = {
        "url": tenant.url,
        "token_url": tenant.token_url,
        "ca_bundle": str(tenant.ca_bundle),
        "tenant_ca": str(tenant.tenant_ca_file),
        "admin_env": str(admin_env),
    }
    print(json.dumps(info), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    tenant.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
