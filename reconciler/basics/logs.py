"""What goes to stderr: progress, log records, warnings and the final error.

As text lines by default; with `--log-format json` as one JSON object a line for log shippers, each
with the keys time, level, event, device_id, action, reason, status and message (null where they do
not apply) and a few event-specific ones. Nothing written here ever carries a secret.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_json = False
_device_id: str | None = None


def configure_logging(verbosity: int, log_format: str = "text") -> None:
    """Warnings only by default; in text mode the logging module is not even loaded unless asked for (-v)."""
    global _json
    _json = log_format == "json"
    if verbosity <= 0 and not _json:
        return
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    if not _json:
        logging.basicConfig(level=level, format="reconcile: %(levelname)s: %(message)s")
        return

    class JsonLines(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return json_line(record.levelname.lower(), record.getMessage(), event="log", logger=record.name)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=level, handlers=[handler])


def json_enabled() -> bool:
    return _json


def set_device(device_id: str) -> None:
    """The device id every later JSON line names."""
    global _device_id
    _device_id = device_id


def json_line(level: str, message: str, *, event: str, **fields) -> str:
    now = datetime.now(timezone.utc)
    record = {
        "time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "level": level,
        "event": event,
        "device_id": _device_id,
        "action": None,
        "reason": None,
        "status": None,
        "message": message,
        **fields,
    }
    return json.dumps(record)


def emit(text: str | None, *, level: str = "info", event: str, message: str | None = None, **fields) -> None:
    """One line on stderr: `text` in text mode (nothing when None), else the JSON object of
    `message` (default: `text`) and `fields`."""
    if _json:
        line = json_line(level, text if message is None else message, event=event, **fields)
    elif text is None:
        return
    else:
        line = text
    print(line, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    emit(f"reconcile: warning: {message}", level="warning", event="warning", message=message)
