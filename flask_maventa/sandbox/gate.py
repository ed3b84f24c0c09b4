"""What every API request passes before a view, in Maventa's order: faults (WSGI middleware), route
lookup in the swagger, bearer token and scope, parameter validation against the swagger; and the
check of every JSON answer against the swagger's response schema on the way out."""
from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, cast

from flask import Flask, Response, current_app, g, request

from . import scopes
from .spec import load_spec
from .state import ApiError, Company, Sandbox

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["FaultInjector", "check_response", "gate", "require_verified"]

log = logging.getLogger("flask_maventa.sandbox")


def sandbox_of(app: Flask | None = None) -> Sandbox:
    return cast(Sandbox, (app or current_app).extensions["maventa_sandbox"])


class FaultInjector:
    """Latency, rate limiting and failure injection for API requests (never for /_sandbox)."""

    def __init__(self, app: WSGIApplication, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_sandbox"):
            return self.app(environ, start_response)
        if method == "POST" and path.rstrip("/") == "/v1/invoices":
            with self.sandbox.invoice_post():
                return self._answer(path, method, environ, start_response)
        return self._answer(path, method, environ, start_response)

    def _answer(self, path: str, method: str, environ: WSGIEnvironment,
                start_response: StartResponse) -> Iterable[bytes]:
        knobs = self.sandbox.knobs
        if knobs.latency_ms:
            time.sleep(knobs.latency_ms / 1000)
        client = environ.get("HTTP_AUTHORIZATION") or environ.get("REMOTE_ADDR", "")
        wait = self.sandbox.take_rate_token(client)
        if wait:
            self.sandbox.count("faults", "rate_limited")
            return self._too_many(start_response, math.ceil(wait))
        if not self._applies(method, path, knobs.fault_paths):
            return self.app(environ, start_response)
        if self.sandbox.roll(knobs.throttle_rate):
            self.sandbox.count("faults", "throttled")
            return self._too_many(start_response, knobs.retry_after)
        if self.sandbox.roll(knobs.reset_rate):
            self.sandbox.count("faults", "reset")
            self._hang_up(environ)
        if self.sandbox.roll(knobs.error_rate):
            self.sandbox.count("faults", "error")
            return _raw_error(start_response, 500, "internal_server_error", "Internal server error (injected)")
        if self.sandbox.roll(knobs.drop_rate):
            self.sandbox.count("faults", "drop")
            body = self.app(environ, _discard_start)
            for _ in body:  # run the view to the end: the request is processed and stored
                pass
            getattr(body, "close", lambda: None)()
            self._hang_up(environ)
        return self.app(environ, start_response)

    def _too_many(self, start_response: StartResponse, seconds: float | None) -> list[bytes]:
        """429; ``Retry-After`` only while the ``retry_after`` knob is set (Maventa documents neither)."""
        if self.sandbox.knobs.retry_after is None:
            return _raw_error(start_response, 429, "too_many_requests", "Rate limit exceeded")
        seconds = max(0, math.ceil(seconds or 0))
        return _raw_error(start_response, 429, "too_many_requests", "Rate limit exceeded",
                          [f"retry after {seconds} s"], {"Retry-After": str(seconds)})

    @staticmethod
    def _applies(method: str, path: str, fault_paths: list[str]) -> bool:
        if not fault_paths:
            return True
        for entry in fault_paths:
            want_method, _, prefix = entry.rpartition(" ")
            if path.startswith(prefix) and (not want_method or want_method.upper() == method):
                return True
        return False

    @staticmethod
    def _hang_up(environ: WSGIEnvironment) -> None:
        """Close the connection without an answer; werkzeug treats ConnectionError as a dropped client."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("sandbox hung up on purpose")


def _discard_start(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None,
                   /) -> Callable[[bytes], object]:
    """A ``start_response`` for a request whose answer is dropped (the drop fault)."""
    return lambda data: None


def _raw_error(start_response: StartResponse, status: int, code: str, message: str,
               details: Sequence[str] = (), headers: Mapping[str, str] | None = None) -> list[bytes]:
    body = json.dumps({"code": code, "message": message, "details": list(details)}).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body))), *(headers or {}).items()])
    return [body]


def gate() -> None:
    """Flask ``before_request``: find the operation, check the token and the parameters."""
    g.op = None
    if request.path.startswith("/_sandbox"):
        return None
    sandbox = sandbox_of()
    sandbox.advance()
    spec = load_spec()
    found = spec.find(request.method, request.path)
    if found is None:
        if spec.path_exists(request.path):
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
        raise ApiError(404, "not_found", "Not found", [f"{request.path} is not an endpoint of the API"])
    g.op, g.path_params = found
    sandbox.count("requests", f"{g.op.method} {g.op.template}")
    if g.op.template == "/oauth2/token":
        return None  # accepts several encodings; checked in the view
    if g.op.authenticated:
        _authenticate(sandbox, g.op.scopes)
    problems = spec.validate_request(request)
    if problems:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", problems)
    return None


def _authenticate(sandbox: Sandbox, required: list[str]) -> None:
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
    grant = sandbox.grant_for(token)
    if grant is None:
        raise ApiError(401, "auth_unauthorized", "Unauthorized")
    if not scopes.allowed(grant.scopes, required, sandbox.knobs.scope_aliases):
        raise ApiError(sandbox.knobs.scope_error_status, "forbidden", "Forbidden",
                       [f"the token lacks one of the scopes {', '.join(required)}"])
    g.grant = grant
    g.company = sandbox.companies[grant.company_id]
    g.user = sandbox.users[grant.user_id]


def require_verified(sandbox: Sandbox, company: Company) -> None:
    if company.company_state != "VERIFIED":
        raise ApiError(sandbox.knobs.unverified_status, "auth_unauthorized", "Unauthorized")


def check_response(response: Response) -> Response:
    """Flask ``after_request``: record every answer the swagger does not describe."""
    op = g.get("op")
    sandbox = sandbox_of()
    if op is None or not sandbox.knobs.check_responses:
        return response
    if response.mimetype == "application/json":
        body = response.get_json(silent=True)
    elif not response.get_data():
        body = None
    else:
        return response  # raw XML/PDF downloads are not described by a schema
    problems = load_spec().validate_response(op.method, request.path, response.status_code, body)
    if problems:
        with sandbox.lock:
            sandbox.stats["response_problems"].append(
                {"operation": f"{op.method} {op.template}", "status": response.status_code, "problems": problems})
        log.error("sandbox answer breaks the swagger: %s %s %s", op.method, op.template, problems)
    return response
