"""Offline stand-in for ansible-test's get-pip bootstrap script (its download host is unreachable here).

ansible-test runs `python get_pip_<version>.py [pip options] pip==<version> [--no-setuptools] [--no-wheel]`
in a fresh virtual environment; this does the same with the interpreter's own ensurepip and the
package index pip is configured for.
"""

import subprocess
import sys

arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments])
