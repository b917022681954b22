"""A loopback TCP server that answers each request with the raw bytes it is given, as they are:
status line, headers and body exactly as a fuzz case wrote them, then it closes the connection.
So the HTTP client's own reading of an answer (requests, urllib3, reconciler/c8y/http.py) is what
the fuzzers reach, not a hand-built Answer."""

from __future__ import annotations

import socket
import threading

REQUEST_END = b"\r\n\r\n"


class ReplayServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.answer = b""
        self.requests = 0  # connections answered: the client's request reached this side
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopping = False

    def __enter__(self) -> "ReplayServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping = True
        socket.create_connection(self.listener.getsockname()).close()  # wakes accept()
        self._thread.join(10)
        self.listener.close()

    def _serve(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            if self._stopping:
                conn.close()
                return
            with conn:
                conn.settimeout(5)
                try:
                    self._read_request(conn)
                    self.requests += 1
                    conn.sendall(self.answer)
                    conn.shutdown(socket.SHUT_WR)
                except OSError:  # the client gave up first (its timeout, an early refusal): next case
                    pass

    @staticmethod
    def _read_request(conn: socket.socket) -> None:
        """Reads the head and a Content-Length body, so that closing never resets an unread request."""
        data = b""
        while REQUEST_END not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(REQUEST_END)
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
