"""The bulk registration upload: a multipart form with a CSV file, `;`, tab or `,` separated."""

from __future__ import annotations

import csv
import io
from email import policy
from email.parser import BytesParser


def csv_from_multipart(content_type: str, body: bytes) -> str | None:
    """The text of the form field `file`, or None when there is none."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True) or b""
            return payload.decode("utf-8-sig", "replace")
    return None


def rows_of(text: str) -> list[dict]:
    """CSV rows as dicts keyed by the upper-cased header, the separator sniffed from the header."""
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = max((";", "\t", ","), key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append({(k or "").strip().upper(): (v or "").strip() for k, v in row.items()})
    return rows
