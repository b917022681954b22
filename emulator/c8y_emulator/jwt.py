"""Device tokens of the emulator: HS256 JWTs with the device id as subject."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: bytes, device_id: str, lifetime: float = 3600) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    claims = _b64(json.dumps({"sub": device_id, "iat": now, "exp": now + int(lifetime)}).encode())
    signature = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


def token_subject(secret: bytes, token: str) -> str | None:
    """The device id of a valid, unexpired token, else None."""
    try:
        header, claims, signature = token.split(".")
        expected = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        data = json.loads(_unb64(claims))
        if data.get("exp", 0) < time.time():
            return None
        return data.get("sub")
    except (ValueError, TypeError, AttributeError):
        return None
