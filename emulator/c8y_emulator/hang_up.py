"""A port that takes every connection, reads its first bytes and resets it, logging each: a tenant (or its load
balancer) with nothing behind it. A closed port cannot count what it refuses; this one can, and
the client sees the same thing — a connection that fails before any answer.

    with HangUpPort() as port:
        url = port.url  # https://127.0.0.1:<port>
        ... len(port.connections) ...
"""

from __future__ import annotations

import socket
import struct
import threading


class HangUpPort:
    def __init__(self, host: str = "127.0.0.1"):
        self.connections: list[tuple[str, int]] = []  # the peer of each connection taken
        self._sock = socket.create_server((host, 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hang-up-port", daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections.append(peer)
            conn.settimeout(1.0)
            try:
                conn.recv(4096)  # the client's first bytes (a TLS hello, a request line): it is waiting for an answer now
            except OSError:
                pass
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
            conn.close()

    def __enter__(self) -> "HangUpPort":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
