"""The sandbox keeps HTTP/1.1 connections alive, as Maventa does, and a request never spills into the next."""
import socket
import threading

import httpx
import pytest
from flask import Flask, request

from flask_maventa.client.http import tls_context
from flask_maventa.sandbox import SandboxServer
from flask_maventa.sandbox.keepalive import KeepAliveServer


def local_address(response: httpx.Response) -> tuple[str, int]:
    """The client's end of the connection the response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def test_requests_of_one_client_share_one_connection(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=10, verify=tls_context()) as client:
        first = client.get("/_sandbox/config")
        refused = client.post("/v1/users", json={"vendor_api_key": "not ours", "email": "a@b.c"})
        second = client.get("/_sandbox/config")
        addresses = {local_address(r) for r in (first, refused, second)}
    assert first.status_code == second.status_code == 200 and refused.status_code == 401
    assert "close" not in {r.headers.get("connection", "").lower() for r in (first, refused, second)}
    assert len(addresses) == 1


@pytest.fixture
def server():
    """Our keep-alive server around an app that reads all, part or none of a body."""
    app = Flask(__name__)

    @app.post("/ignore")
    def ignore():
        return "ignored"

    @app.post("/partly")
    def partly():
        return request.stream.read(10)

    @app.post("/length")
    def length():
        return str(len(request.get_data()))

    served = KeepAliveServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()
    served.close_connections()
    thread.join(5)


@pytest.mark.parametrize("size", [10, 300_000])  # within the server's read buffer, and far beyond it
@pytest.mark.parametrize("path", ["/ignore", "/partly"])
def test_a_body_the_app_left_unread_is_not_read_as_the_next_request(server, path, size):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=10, verify=tls_context()) as client:
        skipped = client.post(path, content=b"x" * size)
        following = client.post("/length", content=b"POST /length HTTP/1.1\r\n\r\n")
        last = client.post("/length", content=b"")
        addresses = {local_address(r) for r in (skipped, following, last)}
    assert skipped.status_code == 200 and skipped.text == ("ignored" if path == "/ignore" else "x" * 10)
    assert (following.status_code, following.text, last.text) == (200, "25", "0")
    assert len(addresses) == 1


def test_pipelined_requests_after_an_unread_body_are_answered_in_order(server):
    body = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"  # a request line inside the body must stay the body's
    requests = (b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                + b"POST /length HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
        connection.sendall(requests)
        answers = connection.makefile("rb")
        assert [read_answer(answers), read_answer(answers)] == [(200, b"ignored"), (200, b"3")]


def test_a_client_gone_mid_body_closes_only_its_connection(server):
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
        connection.sendall(b"POST /length HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this")
        connection.shutdown(socket.SHUT_WR)
        answer = connection.makefile("rb").read()  # to the end: the server closes the connection
    assert answer.startswith(b"HTTP/1.1 400 ") and b"\r\nConnection: close\r\n" in answer
    with httpx.Client(verify=tls_context()) as client:
        assert client.post(f"http://127.0.0.1:{server.server_port}/length", content=b"abc").text == "3"


def test_a_stopped_sandbox_answers_nothing_on_a_kept_connection():
    server = SandboxServer().start()
    with httpx.Client(base_url=server.url, timeout=5, verify=tls_context()) as client:
        assert client.get("/_sandbox/config").status_code == 200
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/_sandbox/config")


def read_answer(stream) -> tuple[int, bytes]:
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, stream.read(int(headers["content-length"]))
