"""The device list for `reconcile register`: --device ids, or a CSV / YAML file with optional passwords."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import yaml

from reconciler.basics.errors import BadInput
from reconciler.basics.limits import MAX_DEVICE_LIST_BYTES
from reconciler.c8y.registration import DeviceRegistration, generate_one_time_password
from reconciler.desired.load import SAFE_LOADER, read_text_file
from reconciler.desired.types import DEVICE_ID_PATTERN

_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_ID_KEYS = ("id", "device_id")
_OTP_KEYS = ("enrollment_otp", "one_time_password", "otp")


def _entry(where: str, data: dict, default_type: str) -> DeviceRegistration:
    lowered = {str(k).strip().lower(): v for k, v in data.items()}
    device_id = next((str(lowered[k]).strip() for k in _ID_KEYS if lowered.get(k)), "")
    if not device_id:
        raise BadInput(f"{where}: no device id (column ID or key id)")
    if not _DEVICE_ID.match(device_id):
        raise BadInput(f"{where}: {device_id!r} is not a valid device id (1 to 64 letters, digits or _ . : @ -)")
    otp = next((str(lowered[k]).strip() for k in _OTP_KEYS if lowered.get(k)), "")
    return DeviceRegistration(
        device_id,
        otp or generate_one_time_password(),
        name=str(lowered["name"]) if lowered.get("name") else None,
        type=str(lowered.get("type") or default_type),
        generated=not otp,
    )


def devices_from_file(path: Path, default_type: str) -> list[DeviceRegistration]:
    text = read_text_file(path, MAX_DEVICE_LIST_BYTES, "device list").removeprefix("\ufeff")  # spreadsheets add a BOM
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.load(text, Loader=SAFE_LOADER)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as err:  # !!float x, ...
            mark = getattr(err, "problem_mark", None)
            raise BadInput(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML") from None
        if isinstance(data, dict):
            data = data.get("devices")
        if not isinstance(data, list):
            raise BadInput(f"{path}: expected a list of devices (or devices: [...])")
        out = []
        for number, item in enumerate(data, 1):
            if isinstance(item, str):
                item = {"id": item}
            if not isinstance(item, dict):
                raise BadInput(f"{path}: device {number}: expected an id or a mapping")
            out.append(_entry(f"{path}: device {number}", item, default_type))
        return out
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = max((";", "\t", ","), key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        return [_entry(f"{path}:{number}", row, default_type) for number, row in enumerate(reader, 2)]
    except csv.Error as err:  # e.g. a field longer than the csv module's limit
        raise BadInput(f"{path}:{reader.line_num}: not valid CSV: {err}") from None


def devices_from_ids(ids: list[str], default_type: str) -> list[DeviceRegistration]:
    return [_entry(f"--device {i}", {"id": i}, default_type) for i in ids]
