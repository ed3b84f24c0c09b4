"""The swagger checker itself, the sandbox's last-resort error handling, and its command line."""
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flask_maventa.client.http import tls_context
from flask_maventa.sandbox import create_app, sandbox_of
from flask_maventa.sandbox.spec import load_spec
from tests.fixtures import launcher
from tests.fixtures.services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
INVOICE = {"id": "i", "status": "PENDING", "source_format": "PEPPOLBIS30", "sum": 1.0, "sum_tax": 1.24,
           "currency": "EUR", "destination": None, "actions": [{"type": "CREATED", "happened_at": "2026-11-01T08:00:00Z",
                                                               "channel": None, "key": "action_created"}]}


@pytest.mark.parametrize("method, path, status, body, problem", [
    ("GET", "/v1/invoices/i", 200, {**INVOICE, "invented": 1}, "'invented' was unexpected"),
    ("GET", "/v1/invoices/i", 200, {**INVOICE, "status": "SENT"}, "'SENT' is not one of"),
    ("GET", "/v1/invoices/i", 200, {**INVOICE, "sum": "1.00"}, "'1.00' is not of type"),
    ("GET", "/v1/invoices/i", 200, {**INVOICE, "currency": None}, "None is not of type"),  # required: no null
    ("GET", "/v1/invoices/i", 200, {k: v for k, v in INVOICE.items() if k != "sum"}, "'sum' is a required"),
    ("GET", "/v1/invoices/i", 202, INVOICE, "documents only 200, not 202"),
    ("POST", "/v1/invoices", 200, INVOICE, "documents only 201"),
    ("PATCH", "/v1/company/settings", 204, {"oops": 1}, "has no body"),
    ("GET", "/v1/invoices/i", 404, {"code": "not_found", "message": "x", "details": "one"}, "'one' is not of type"),
])
def test_response_checker_flags_what_the_swagger_does_not_describe(method, path, status, body, problem):
    problems = load_spec().validate_response(method, path, status, body)
    assert any(problem in p for p in problems), problems


def test_response_checker_accepts_maventas_own_example_with_nulls():
    assert load_spec().validate_response("GET", "/v1/invoices/i", 200, INVOICE) == []
    assert load_spec().validate_response("PATCH", "/v1/company/settings", 204, None) == []


def test_an_unexpected_failure_is_a_maventa_shaped_500_not_a_traceback():
    app = create_app("k")
    try:
        sandbox = sandbox_of(app)

        def explode(*args):
            raise RuntimeError("bug in the sandbox")
        sandbox.create_user = explode
        answer = app.test_client().post("/v1/users", json={"vendor_api_key": "k", "email": "a@b.test"})
        assert answer.status_code == 500
        assert answer.json == {"code": "internal_server_error", "message": "Internal server error", "details": []}
        assert b"Traceback" not in answer.data and b"bug in the sandbox" not in answer.data
    finally:
        app.extensions["maventa_sandbox_ticker"].stop()


def test_command_line_serves_with_the_given_knobs(tmp_path):
    port = free_port()
    log = tmp_path / "sandbox.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads; the process writes to its own copy
        process = launcher.popen(
            [sys.executable, "-m", "flask_maventa.sandbox", "--port", str(port), "--vendor-api-key", "cli-key",
             "--token-lifetime", "120", "--duplicate-uuid", "conflict", "--fault-path", "POST /v1/invoices"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=output, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port, timeout=120)  # ends when it listens; a loaded machine starts Python slowly
        except TimeoutError:
            raise AssertionError(log.read_text(errors="replace")) from None
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, verify=tls_context()) as client:
            config = client.get("/_sandbox/config")
            refused = client.post("/v1/users", json={"vendor_api_key": "other", "email": "a@b.c"})
            # Served as the in-process sandbox is: both on one kept-alive connection (keepalive.py).
            connections = {r.extensions["network_stream"].get_extra_info("client_addr") for r in (config, refused)}
        knobs = config.json()
        assert (knobs["token_lifetime"], knobs["duplicate_uuid"], knobs["fault_paths"]) == (
            120.0, "conflict", ["POST /v1/invoices"])
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
        assert len(connections) == 1
    finally:
        process.terminate()
        process.wait(10)
