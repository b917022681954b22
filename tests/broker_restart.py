"""An activation command for tests that does to the local broker what `tedge reconnect c8y` does:
stop mosquitto and start it again on the same port (without persistence: retained messages are gone).

usage: python broker_restart.py PID CONF PORT PIDFILE — the new broker's pid is written to PIDFILE."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from tests.mosquitto import MOSQUITTO


def _accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def main(pid: str, conf: str, port: str, pidfile: str) -> int:
    os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _accepting(int(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(os.path.join(os.path.dirname(conf), "mosquitto-restarted.log"), "wb") as log:
        broker = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with open(pidfile, "w") as out:
        out.write(str(broker.pid))
    while not _accepting(int(port)) and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    return 0 if _accepting(int(port)) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
