"""Sending a request and turning Maventa's answer into data or a typed error: shared by every client class.

One ``httpx.Client`` per base URL per process (connection reuse); every request carries our
User-Agent, so Maventa's support (and our own tests) can tell our calls from anyone else's.
"""
from __future__ import annotations

import atexit
import email.utils
import functools
import http.cookiejar
import logging
import os
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, TypedDict, Unpack
from urllib.parse import parse_qs

import httpx

from . import errors, multipart
from .answers import JSONValue
from .auth import FRESH_TOKEN, GRANTED_SCOPE, TOKEN_PATH
from .scopes import covers, required_for

__all__ = ["USER_AGENT", "Api", "new_http_client", "retry_after", "shared_http_client", "tls_context"]

log = logging.getLogger("flask_maventa.client")


def _version() -> str:
    try:
        return metadata.version("flask-maventa")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = f"flask-maventa/{_version()} python-httpx/{httpx.__version__}"
HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
               httpx.UnsupportedProtocol)

# One connection pool per base URL per process. RQ forks a work-horse per job: a pool inherited from
# the parent shares its sockets, so a child builds its own (checked by pid).
_http_clients: dict[str, tuple[int, httpx.Client]] = {}
_http_clients_guard = threading.Lock()


class _NoCookies(http.cookiejar.CookieJar):
    """Maventa's API needs no cookies, and one client serves every company of the process: a cookie set in
    an answer to one company's request must never go with another's. (Not reading them also saves ~0.03 ms
    per request.)"""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context, built as httpx builds it (SSL_CERT_FILE / SSL_CERT_DIR
    honoured). httpx otherwise builds one per client, loading the whole CA bundle each time: ~80 ms of CPU
    on a small machine, for every app that makes its client and every test that makes an app. A context is
    safe to share between clients and threads, and a forked child may use its parent's."""
    return httpx.create_ssl_context()


def new_http_client(base_url: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=HEADERS, cookies=_NoCookies(), transport=transport,
                        verify=tls_context())


def shared_http_client(base_url: str) -> httpx.Client:
    pid = os.getpid()
    with _http_clients_guard:
        entry = _http_clients.get(base_url)
        if entry is None or entry[0] != pid:
            entry = (pid, new_http_client(base_url))
            _http_clients[base_url] = entry
        return entry[1]


@atexit.register
def _close_shared_clients() -> None:
    """This process's pools, closed as it exits: Maventa keeps connections alive, and a socket left to the
    collector at shutdown is a ResourceWarning where warnings are shown (a host's test run)."""
    for pid, client in list(_http_clients.values()):
        if pid == os.getpid():  # never a pool a forked child inherited
            client.close()


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """``url`` parsed once: httpx parses a string again on every request (half of building one, ~0.04 ms
    here); its URLs are immutable, so one serves every thread."""
    return httpx.URL(url)


FilePart = multipart.Part  # a part as httpx's files= takes it


class RequestOptions(TypedDict, total=False):
    """A request's body (``httpx.Client.request``'s names)."""

    json: Mapping[str, object]
    files: Sequence[tuple[str, FilePart]]


class Api:
    """Sending, logging and mapping responses to typed errors."""

    base_url: str
    timeout: httpx.Timeout

    @property
    def _http(self) -> httpx.Client:
        raise NotImplementedError

    def _secrets(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _send(self, method: str, path: str, *, auth: httpx.Auth | None = None,
              unverified_possible: bool = False, params: Sequence[tuple[str, str]] | None = None,
              **kwargs: Unpack[RequestOptions]) -> httpx.Response:
        started = time.monotonic()
        files = kwargs.pop("files", None)
        body, headers = None, None
        if files is not None:  # encoded in one piece (multipart.py), not by httpx part by part
            body, content_type = multipart.encode(files)
            headers = {"Content-Type": content_type}
        try:  # params as a tuple: its pairs' type fits httpx's (a list's would not); empty is as none
            response = self._http.request(method, _url(self.base_url + path), auth=auth, timeout=self.timeout,
                                          params=tuple(params) if params else None, content=body,
                                          headers=headers, **kwargs)
        except httpx.TransportError as exc:
            failed = _failed_request(exc)
            log.warning("%s %s failed: %s after %.0f ms", failed.method, failed.url.path,
                        type(exc).__name__, (time.monotonic() - started) * 1000)
            raise self._network_error(exc, failed) from exc
        # An answer that went well at DEBUG: whoever asked logs its own line for it (a transfer step has the
        # status and duration), and a worker sending 50 invoices a second spent ~1 % of its CPU on this one.
        # One that needed a token request (or a redirect) first stays at INFO, with that request's line.
        level = logging.DEBUG if response.is_success and not response.history else logging.INFO
        if log.isEnabledFor(level):
            for step in [*response.history, response]:
                log.log(level, "%s %s -> %s (%.0f ms)", step.request.method, step.request.url.path,
                        step.status_code, (time.monotonic() - started) * 1000)
        if response.is_success and not response.request.url.path.endswith(TOKEN_PATH):
            return response
        raise self._error(response, unverified_possible)

    def _json(self, response: httpx.Response) -> JSONValue:
        try:
            body: JSONValue = response.json()
            return body
        except ValueError:
            raise errors.InvalidResponseError(
                f"Maventa answered {response.status_code} with a body that is not JSON",
                status=response.status_code, response=response) from None

    def _scrub(self, text: str, request: httpx.Request | None = None) -> str:
        secrets = list(self._secrets())
        if request is not None:
            bearer = request.headers.get("Authorization", "")
            if bearer.startswith("Bearer "):
                secrets.append(bearer[len("Bearer "):])
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _network_error(self, exc: httpx.TransportError, failed: httpx.Request) -> errors.MaventaError:
        never_sent = isinstance(exc, _NEVER_SENT) or failed.url.path.endswith(TOKEN_PATH)
        cls = errors.ConnectError if never_sent else errors.InDoubtError
        where = f"{failed.method} {failed.url.path}"
        detail = self._scrub(str(exc) or type(exc).__name__, failed)
        if never_sent:
            return cls(f"{type(exc).__name__} before {where} reached Maventa: {detail}")
        return cls(f"{type(exc).__name__} after {where} was sent, Maventa may have acted on it: {detail}")

    def _error(self, response: httpx.Response, unverified_possible: bool) -> errors.MaventaError:
        status = response.status_code
        code, message, details = self._error_body(response)
        kwargs: errors.ErrorFields = {"status": status, "code": code, "details": details, "response": response}
        request = response.request
        on_token = request.url.path.endswith(TOKEN_PATH)
        if status == 429:
            return errors.RateLimitedError(message, retry_after=retry_after(response), **kwargs)
        if status >= 500:
            return errors.ServerError(message, retry_after=retry_after(response), **kwargs)
        if on_token and status == 200:
            return errors.ServerError("Maventa's token endpoint answered 200 without a usable token", **kwargs)
        if on_token and code == "invalid_scope":
            asked = _asked_scope(request)
            return errors.InvalidScopeError(
                f"{message} - Maventa refused the scopes asked for ({asked or 'its default'}); this is a "
                "setting of the integration (the vendor API key's rights or MAVENTA_SCOPE), not of the company",
                scope=asked, **kwargs)
        if code == "invalid_credentials" or (on_token and status in (400, 401, 403)):
            return errors.InvalidCredentialsError(
                f"{message} - check the company UUID, the user API key and the vendor API key", **kwargs)
        if status in (401, 403):
            refused_fresh = response.extensions.get(FRESH_TOKEN, False)
            granted = response.extensions.get(GRANTED_SCOPE)
            required = required_for(request.method, request.url.path)
            if refused_fresh and granted is not None and required and not covers(granted, required):
                return errors.MissingScopeError(
                    f"{message} - Maventa granted this token '{granted}', but {request.method} "
                    f"{request.url.path} needs one of: {', '.join(required)}", granted=granted, required=required,
                    **kwargs)
            if unverified_possible and refused_fresh and code != "forbidden":
                return errors.UnverifiedCompanyError(
                    f"{message} - the company has not been verified yet; the signing request must be "
                    "completed before invoices can be sent", **kwargs)
            return errors.UnauthorizedError(message, **kwargs)
        if status == 404:
            return errors.NotFoundError(message, **kwargs)
        if status == 409:
            return errors.ConflictError(message, **kwargs)
        if status == 400 and code in (None, "invalid_parameters"):
            return errors.InvalidParametersError(message, **kwargs)
        return errors.PermanentError(message, **kwargs)

    def _error_body(self, response: httpx.Response) -> tuple[str | None, str, list[str]]:
        """Maventa's ``{"code", "message", "details"}``; also an OAuth2 ``{"error", "error_description"}``
        (what a Rails OAuth server answers on its token endpoint)."""
        fallback = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            snippet = " ".join(response.text.split())[:200]
            message = f"{fallback}: {snippet}" if snippet else fallback
            return None, self._scrub(message, response.request), []
        code = body.get("code") if isinstance(body.get("code"), str) else None
        if code is None and isinstance(body.get("error"), str):
            code = body["error"]
        message = str(body.get("message") or body.get("error_description") or fallback)
        details = body.get("details") or []
        if not isinstance(details, list):
            details = [details]
        return (code, self._scrub(message, response.request),
                [self._scrub(str(d), response.request) for d in details])


def _asked_scope(request: httpx.Request) -> str | None:
    try:
        values = parse_qs(request.content.decode()).get("scope")
    except (UnicodeDecodeError, httpx.RequestNotRead):
        return None
    return values[0] if values else None


def _failed_request(exc: httpx.TransportError) -> httpx.Request:
    try:
        return exc.request
    except RuntimeError:  # raised before a request was attached
        return httpx.Request("GET", "http://unknown/")


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date); None when Maventa did not say."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
