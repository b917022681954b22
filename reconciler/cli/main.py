"""The `reconcile` entry point: pick the command, run it, turn every failure into one line and an exit code."""

from __future__ import annotations

import gc
import importlib
import signal
import sys
import traceback
from contextlib import ExitStack
from typing import Callable

from reconciler.basics import logs
from reconciler.basics.errors import ExitCode, ReconcileError
from reconciler.basics.pydantic_plugins import plugins_off
from reconciler.cli import from_stamp

# Each command is a module of reconciler.cli with parser() and run(args). Only the chosen one is
# imported: `show` or `schema` need not load the engine, nor `reconcile` the tenant admin client.
COMMANDS = {
    "show": "show",
    "status": "status",
    "schema": "schema",
    "validate": "validate",
    "register": "register",
    "fleet": "fleet",
    "operation": "operation",
    "install-operation": "install_operation",
}
DEFAULT_COMMAND = "reconcile_run"


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _command(argv: list[str]):
    """The command module and its own arguments."""
    if argv and argv[0] in COMMANDS:
        return importlib.import_module(f"reconciler.cli.{COMMANDS[argv[0]]}"), argv[1:]
    return importlib.import_module(f"reconciler.cli.{DEFAULT_COMMAND}"), argv


def _error_document(err: ReconcileError) -> str:
    from reconciler.runs.report import error_document  # only for --output json after a failure

    return error_document(err)


def console_script() -> int:
    """`reconcile` as installed, and `python -m reconciler`: main() in a process of its own.

    Loading the engine leaves some 37,000 objects for the cyclic collector (pydantic's validators,
    cryptography, our modules), and all of them live until the process ends. Left on, the
    collector traces them again and again while they load and once more at exit: about 35 ms of
    a 180 ms no-op run. So it is off until the command is loaded, never sees what was loaded, and
    sees nothing at exit; the run itself is collected as usual. Nothing waits on it: every file
    is closed and fsynced when written, logs are flushed at exit, and the engine already assumes
    the process can die between any two system calls. pydantic's plugins are off while loading
    (unless the caller chose otherwise), and the environment is as given again before the run.
    """
    gc.disable()
    loading = ExitStack()
    loading.enter_context(plugins_off())

    def loaded() -> None:
        loading.close()
        gc.freeze()
        gc.enable()

    try:
        return main(loaded=loaded)
    finally:
        gc.freeze()


def _nothing() -> None:
    pass


def main(argv: list[str] | None = None, loaded: Callable[[], None] = _nothing) -> int:
    """Run one command; `loaded()` is called once its modules are imported."""
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _raise_interrupt)
    args = None
    try:
        if not argv or argv[0] not in COMMANDS:  # --- stamp: a converged device answers before any heavy import
            answered = from_stamp.answer(argv)
            if answered.code is not None:
                return answered.code
            argv = answered.argv  # less --jitter once it was slept
        command, arguments = _command(argv)
        loaded()
        args = command.parser().parse_args(arguments)
        logs.configure_logging(getattr(args, "verbose", 0), getattr(args, "log_format", "text"))
        return command.run(args)
    except ReconcileError as err:
        code = int(err.exit_code)
        logs.emit(f"reconcile: error: {err.message}", level="error", event="result", message=err.message,
                  status="failed", exit_code=code)
        if getattr(args, "output", None) == "json":  # machine readers get a document even now
            sys.stdout.write(_error_document(err))
        return code
    except KeyboardInterrupt:
        logs.emit("reconcile: interrupted; no file was left half-written", level="warning", event="result",
                  status="interrupted", exit_code=int(ExitCode.INTERRUPTED))
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.ERROR)
    except Exception as err:  # a bug, never a reason to dump a traceback on an operator; -vv shows it
        print(f"reconcile: internal error: {type(err).__name__}: {err} (a bug: please report it, with -vv output)", file=sys.stderr)
        if getattr(args, "verbose", 0) >= 2:
            traceback.print_exc()
        return int(ExitCode.ERROR)
