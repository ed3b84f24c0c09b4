"""Werkzeug's threaded server with HTTP/1.1 keep-alive, as Maventa's own servers answer.

Werkzeug's development server closes every connection after one answer ("Connection: close"), because
``http.server`` cannot tell where a request body ends if the app leaves part of it unread. So every
request a client sent it paid for a new TCP connection (~0.3-0.5 ms of the sender's CPU per upload),
which the real Maventa does not make it pay. Here a request's body is its ``Content-Length`` and no
more (:class:`RequestBody`), and whatever the app left unread is read away after the answer, so the next
request on the connection starts where it should. A request with a chunked body, one whose body could
not be read to its end, and one that asks for it are answered with ``Connection: close``, as before.
"""
from __future__ import annotations

import contextlib
import io
import socket
from typing import IO, Any, cast

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

__all__ = ["KeepAliveServer"]


class RequestBody(LimitedStream):
    """``wsgi.input`` on a kept-alive connection: the request's ``Content-Length`` bytes, never the next
    request's."""

    def __init__(self, stream: IO[bytes], limit: int, handler: KeepAliveHandler) -> None:
        super().__init__(stream, limit)
        self.handler = handler

    def on_disconnect(self, error: Exception | None = None) -> None:
        # The client went away mid-body: nothing more comes, and the answer (if any) says the connection ends.
        self.limit, self.handler.close_connection = self._pos, True
        # An OSError, not werkzeug's ClientDisconnected: a Flask request's own stream turns it into that (a
        # quiet 400), and werkzeug's server takes it for a dropped client when its after-answer drain (which
        # reads this stream) meets it.
        raise ConnectionResetError("the client closed the connection before its request body ended") from error

    def read(self, size: int = -1) -> bytes:
        remaining = max(0, self.limit - self._pos)
        # Werkzeug's drain reads 10 MB at a time; a buffer that size for the few bytes left is waste.
        return super().read(remaining if size > remaining else size)


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveServer

    def setup(self) -> None:
        super().setup()
        # An answer goes out as two writes (head, body): on a connection kept open, Nagle's algorithm would
        # hold the second until the client's delayed ACK of the first, ~40 ms later.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        length = _content_length(self.headers)
        if length is None:  # a chunked body (werkzeug dechunks it) or a length that is no number: no reuse
            self.close_connection = True
            super().run_wsgi()
            return
        socket_file = self.rfile
        # As ``self.rfile`` while the request runs: the app's wsgi.input (make_environ takes it from there)
        # and what werkzeug's drain after the answer reads, so that drain can never eat the next request.
        body = RequestBody(cast(IO[bytes], socket_file), length, self)
        self.rfile = cast(io.BufferedIOBase, body)  # read as one; buffering it again would read ahead
        try:
            super().run_wsgi()
            with contextlib.suppress(OSError, ValueError):
                body.exhaust()  # what the app left unread (werkzeug's drain reads only what the socket has)
        finally:
            self.rfile = socket_file
        if not body.is_exhausted:
            self.close_connection = True  # where the next request would start is unknown

    def send_header(self, keyword: str, value: str) -> None:
        # Werkzeug sends "Connection: close" with every answer; http.server closes the connection on it.
        if keyword.lower() == "connection" and value.lower() == "close" and not self.close_connection:
            return
        super().send_header(keyword, value)


def _content_length(headers: Any) -> int | None:
    """The body's length in bytes (0 without one); None when it cannot be known before reading it."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return None
    value = headers.get("Content-Length", "0").strip()
    return int(value) if value.isdigit() else None


class KeepAliveServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, its connections kept alive; :meth:`close_connections` ends them (a
    stopped sandbox answers nothing more, not even on a connection a client kept open)."""

    def __init__(self, host: str, port: int, app: Any) -> None:
        self.connections: set[socket.socket] = set()
        super().__init__(host, port, app, handler=KeepAliveHandler)

    def close_connections(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
