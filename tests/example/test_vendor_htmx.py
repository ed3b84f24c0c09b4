"""htmx for the example app: from the npm registry, with or without npm, and never unchecked."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading

import pytest

from example_app import vendor_htmx


def _tarball(script: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/dist/htmx.min.js")
        info.size = len(script)
        archive.addfile(info, io.BytesIO(script))
    return buffer.getvalue()


@pytest.fixture
def registry(monkeypatch):
    """A registry on loopback that serves one tarball at npm's path; npm itself is hidden."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the stdlib's name
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setattr(vendor_htmx.shutil, "which", lambda name: None)  # a machine without Node
    yield served
    server.shutdown()
    server.server_close()  # its listening socket, closed now rather than when collected


def test_without_npm_the_tarball_comes_from_the_registry_and_is_checked(registry, tmp_path):
    tarball = _tarball(b"/* htmx */")
    registry["/htmx.org/-/htmx.org-2.0.99.tgz"] = tarball
    target = tmp_path / "htmx.min.js"
    args = ["--version", "2.0.99", "--integrity", vendor_htmx.integrity_of(tarball), "--target", str(target)]
    assert vendor_htmx.main(args) == 0
    assert target.read_bytes() == b"/* htmx */"


def test_a_tarball_that_does_not_match_the_integrity_is_refused(registry, tmp_path):
    registry["/htmx.org/-/htmx.org-2.0.99.tgz"] = _tarball(b"/* tampered */")
    target = tmp_path / "htmx.min.js"
    args = ["--version", "2.0.99", "--integrity", vendor_htmx.integrity_of(b"other"), "--target", str(target)]
    assert vendor_htmx.main(args) == 1
    assert not target.exists()


def test_an_unreachable_registry_leaves_the_app_working_without_htmx(registry, tmp_path, capsys):
    target = tmp_path / "htmx.min.js"
    assert vendor_htmx.main(["--version", "0.0.0", "--target", str(target)]) == 0  # 404 at the registry
    assert not target.exists()
    assert "runs without htmx" in capsys.readouterr().out
