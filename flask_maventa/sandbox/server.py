"""Serve the sandbox on 127.0.0.1 in a daemon thread: for tests, benchmarks and the demo (its command line,
``python -m flask_maventa.sandbox``, serves it with this too). Connections are kept alive (keepalive.py)."""
from __future__ import annotations

import threading

from .app import create_app, sandbox_of
from .keepalive import KeepAliveServer

__all__ = ["SandboxServer"]


class SandboxServer:
    """``with SandboxServer(vendor_api_key="k", delivery_delay=0.5) as server: server.url``"""

    def __init__(self, vendor_api_key: str = "sandbox-vendor-key", port: int = 0, host: str = "127.0.0.1",
                 **knobs: object) -> None:
        self.vendor_api_key = vendor_api_key
        self.app = create_app(vendor_api_key, **knobs)
        self.sandbox = sandbox_of(self.app)
        self._server = KeepAliveServer(host, port, self.app)  # its threads are daemon threads
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="maventa-sandbox",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.app.extensions["maventa_sandbox_ticker"].stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
