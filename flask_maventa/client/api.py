"""The Maventa AutoXChange API client: the requests the product sends, shaped as Maventa's swagger says.

``MaventaClient`` holds what is shared by all companies (base URL, vendor API key, token store) and the
calls made without a token (create user, create company). ``client.for_company(uuid, api_key)`` gives
a ``CompanyClient`` whose requests carry that company's token.

Array parameters are sent as ``name[]`` (query strings and multipart alike): Maventa runs on Rack,
which keeps only the last value of a repeated plain ``name``.
"""
from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from typing import Any, Iterable, Sequence
from urllib.parse import quote

import httpx

from . import errors
from .auth import DEFAULT_SCOPE, FRESH_TOKEN, TOKEN_PATH, MaventaAuth
from .tokens import MemoryTokenStore, TokenStore

__all__ = ["MaventaClient", "CompanyClient", "BASE_URLS", "DEFAULT_TIMEOUT", "shared_http_client"]

log = logging.getLogger("flask_maventa.client")

BASE_URLS = {"production": "https://ax.maventa.com", "test": "https://ax-stage.maventa.com"}
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Enums the product passes through from user input; checked here so a typo fails before the network.
ROUTES = ("print", "email", "einvoice")
INVOICE_LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
SIGNING_LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")
COMPANY_COUNTRIES = ("FI", "SE", "NO", "DK", "NL", "EE", "BE", "IT", "DE")
DIRECTIONS = ("RECEIVED", "SENT")
INVOICE_STATUSES = ("PENDING", "DELIVERED", "FAILED")
WEBHOOK_EVENTS = ("DOCUMENTS.INVOICE.DELIVERED", "DOCUMENTS.INVOICE.FAILED")

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
               httpx.UnsupportedProtocol)

# One connection pool per base URL per process. RQ forks a work-horse per job: a pool inherited from
# the parent shares its sockets, so a child builds its own (checked by pid).
_http_clients: dict[str, tuple[int, httpx.Client]] = {}
_http_clients_guard = threading.Lock()
_default_token_store = MemoryTokenStore()


def shared_http_client(base_url: str) -> httpx.Client:
    pid = os.getpid()
    with _http_clients_guard:
        entry = _http_clients.get(base_url)
        if entry is None or entry[0] != pid:
            entry = (pid, httpx.Client(base_url=base_url, headers={"Accept": "application/json"}))
            _http_clients[base_url] = entry
        return entry[1]


def _require(value: str | None, what: str) -> str:
    if not value or not str(value).strip():
        raise ValueError(f"{what} is required")
    return str(value).strip()


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _array(name: str, values: Iterable[Any]) -> list[tuple[str, str]]:
    return [(f"{name}[]", str(v)) for v in values]


def _form_field(value: Any) -> tuple[None, str]:
    """A multipart part without a filename (a plain form field)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return (None, str(value))


class _Api:
    """Sending, logging and mapping responses to typed errors: shared by both client classes."""

    base_url: str
    timeout: httpx.Timeout

    def _secrets(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _send(self, method: str, path: str, *, auth: httpx.Auth | None = None,
              unverified_possible: bool = False, **kwargs: Any) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._http.request(method, self.base_url + path, auth=auth, timeout=self.timeout,
                                          **kwargs)
        except httpx.TransportError as exc:
            failed = _failed_request(exc)
            log.warning("%s %s failed: %s after %.0f ms", failed.method, failed.url.path,
                        type(exc).__name__, (time.monotonic() - started) * 1000)
            raise self._network_error(exc, failed) from exc
        for step in [*response.history, response]:
            log.info("%s %s -> %s (%.0f ms)", step.request.method, step.request.url.path,
                     step.status_code, (time.monotonic() - started) * 1000)
        if response.is_success and not response.request.url.path.endswith(TOKEN_PATH):
            return response
        raise self._error(response, unverified_possible)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
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
        kwargs = dict(status=status, code=code, details=details, response=response)
        on_token = response.request.url.path.endswith(TOKEN_PATH)
        if status == 429:
            return errors.RateLimitedError(message, retry_after=_retry_after(response), **kwargs)
        if status >= 500:
            return errors.ServerError(message, retry_after=_retry_after(response), **kwargs)
        if on_token and status == 200:
            return errors.ServerError("Maventa's token endpoint answered 200 without a usable token", **kwargs)
        if code == "invalid_credentials" or (on_token and status in (400, 401, 403)):
            return errors.InvalidCredentialsError(
                f"{message} - check the company UUID, the user API key and the vendor API key", **kwargs)
        if status in (401, 403):
            refused_fresh = response.extensions.get(FRESH_TOKEN, False)
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
        message = str(body.get("message") or fallback)
        details = body.get("details") or []
        if not isinstance(details, list):
            details = [details]
        return (code, self._scrub(message, response.request),
                [self._scrub(str(d), response.request) for d in details])


def _failed_request(exc: httpx.TransportError) -> httpx.Request:
    try:
        return exc.request
    except RuntimeError:  # raised before a request was attached
        return httpx.Request("GET", "http://unknown/")


def _retry_after(response: httpx.Response) -> float | None:
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


class MaventaClient(_Api):
    """Entry point: one per configured environment. Cheap to create; the connection pool is shared.

    ``base_url`` is a URL or a key of ``BASE_URLS`` ("production", "test"). ``transport`` replaces the
    shared pool with a client of its own (tests: ``httpx.MockTransport`` or respx).
    """

    def __init__(self, base_url: str, vendor_api_key: str, *, token_store: TokenStore | None = None,
                 scope: str = DEFAULT_SCOPE, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None, refresh_margin: float = 60.0) -> None:
        base_url = BASE_URLS.get(base_url, base_url or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL or one of {', '.join(BASE_URLS)}")
        self.base_url = base_url
        self._vendor_api_key = _require(vendor_api_key, "vendor_api_key (the Software API key from Maventa)")
        self.token_store = token_store if token_store is not None else _default_token_store
        self.scope = scope
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.refresh_margin = refresh_margin
        self._own_http = None if transport is None else httpx.Client(
            base_url=base_url, transport=transport, headers={"Accept": "application/json"})

    @property
    def _http(self) -> httpx.Client:
        # Looked up per request, so a client built before a fork uses the child's own pool after it.
        return self._own_http if self._own_http is not None else shared_http_client(self.base_url)

    def __repr__(self) -> str:
        return f"MaventaClient({self.base_url!r})"

    def _secrets(self) -> tuple[str, ...]:
        return (self._vendor_api_key,)

    def create_user(self, email: str, first_name: str, last_name: str | None = None) -> str | None:
        """Create a Maventa user; returns its user API key (None if Maventa returns no key)."""
        body = {"vendor_api_key": self._vendor_api_key, "email": _require(email, "email"),
                "first_name": _require(first_name, "first_name")}
        if last_name:
            body["last_name"] = last_name
        answer = self._json(self._send("POST", "/v1/users", json=body))
        return answer.get("user_api_key") if isinstance(answer, dict) else None

    def create_company(self, *, user_api_key: str, name: str, bid: str, no_vat: bool, address1: str,
                       post_code: str, post_office: str, city: str, country: str, email: str,
                       address2: str | None = None) -> str:
        """Register a company with the user as its user; returns the company UUID."""
        if len(_require(name, "name")) < 3:
            raise ValueError("name must be at least 3 characters long")
        fields = {
            "vendor_api_key": self._vendor_api_key, "user_api_key": _require(user_api_key, "user_api_key"),
            "name": name, "bid": _require(bid, "bid"), "no_vat": bool(no_vat),
            "address1": _require(address1, "address1"), "post_code": _require(post_code, "post_code"),
            "post_office": _require(post_office, "post_office"), "city": _require(city, "city"),
            "country": _choice(country, COMPANY_COUNTRIES, "country"), "email": _require(email, "email"),
        }
        if address2:
            fields["address2"] = address2
        parts = [(key, _form_field(value)) for key, value in fields.items()]
        response = self._send("POST", "/v1/companies", files=parts)
        answer = self._json(response)
        if not isinstance(answer, dict) or not answer.get("id"):
            raise errors.InvalidResponseError("Maventa created a company but returned no id",
                                              status=response.status_code, response=response)
        return answer["id"]

    def for_company(self, company_uuid: str, user_api_key: str) -> "CompanyClient":
        auth = MaventaAuth(base_url=self.base_url, company_uuid=_require(company_uuid, "company_uuid"),
                           user_api_key=_require(user_api_key, "user_api_key"),
                           vendor_api_key=self._vendor_api_key, scope=self.scope,
                           token_store=self.token_store, refresh_margin=self.refresh_margin)
        return CompanyClient(self, auth, user_api_key)


class CompanyClient(_Api):
    """The calls one company makes with its own token."""

    def __init__(self, client: MaventaClient, auth: MaventaAuth, user_api_key: str) -> None:
        self.client = client
        self.auth = auth
        self.company_uuid = auth.company_uuid
        self.base_url = client.base_url
        self.timeout = client.timeout
        self._user_api_key = user_api_key

    @property
    def _http(self) -> httpx.Client:
        return self.client._http

    def __repr__(self) -> str:
        return f"CompanyClient({self.base_url!r}, company_uuid={self.company_uuid!r})"

    def _secrets(self) -> tuple[str, ...]:
        return (*self.client._secrets(), self._user_api_key)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._send(method, path, auth=self.auth, **kwargs)

    # -- the company and its account ------------------------------------------------------------

    def check_credentials(self) -> dict:
        """Fetch a token and read the company: raises InvalidCredentialsError on a bad UUID/key pair."""
        return self.current()

    def current(self) -> dict:
        return self._json(self._call("GET", "/oauth2/current"))

    def lookup_companies(self, bids: Sequence[str], country: str) -> list[dict]:
        """Is each business id FREE or RESERVED at Maventa (needs the ``partner:lookups`` scope)."""
        bids = [_require(b, "bid") for b in bids]
        if not 1 <= len(bids) <= 10:
            raise ValueError("lookup_companies takes 1 to 10 business ids")
        params = [*_array("bids", bids), ("country", _require(country, "country"))]
        return self._json(self._call("GET", "/v1/partner/lookups/companies", params=params))

    def add_company_user(self, email: str, first_name: str,
                         last_name: str | None = None) -> tuple[bool, str | None]:
        """Add a person to the company: (True, api_key) for a new account, (False, None) for an existing one."""
        body = {"email": _require(email, "email"), "first_name": _require(first_name, "first_name")}
        if last_name:
            body["last_name"] = last_name
        response = self._call("POST", "/v1/company/users", json=body)
        answer = self._json(response)
        if response.status_code == 201:
            return True, answer.get("api_key")
        return False, None

    def send_authorization(self, auth_email: str, locale: str) -> dict:
        """Ask Maventa to send the signing invitation (Visma Sign) to ``auth_email``."""
        body = {"auth_email": _require(auth_email, "auth_email"),
                "locale": _choice(locale, SIGNING_LOCALES, "locale")}
        return self._json(self._call("POST", "/v1/company/authorization", json=body))

    def authorization(self) -> dict:
        """``{"auth_state", "auth_email", "company_state"}``: poll until company_state is VERIFIED."""
        return self._json(self._call("GET", "/v1/company/authorization"))

    def get_settings(self, fields: Sequence[str] | None = None) -> dict:
        params = _array("fields", fields or ())
        return self._json(self._call("GET", "/v1/company/settings", params=params))

    def patch_settings(self, blocks: dict) -> None:
        """Change only the given blocks, e.g. ``{"send_invoice_print": {"use_own_pdf": True}}``."""
        if not isinstance(blocks, dict) or not blocks:
            raise ValueError("patch_settings needs a dict of settings blocks to change")
        self._call("PATCH", "/v1/company/settings", json=blocks)

    # -- invoices --------------------------------------------------------------------------------

    def send_invoice(self, file: bytes, filename: str, *, uuid: str, format: str | None = "PEPPOLBIS30",
                     recipient_eia: str | None = None, recipient_operator: str | None = None,
                     recipient_email: str | None = None, disabled_routes: Sequence[str] = (),
                     print_own_image: bool | None = None, lang: str | None = None,
                     sender_comment: str | None = None) -> dict:
        """Upload an invoice (XML, or a ZIP of XML + PDF image). ``uuid`` is ours: resending it is safe."""
        if not file:
            raise ValueError("file is empty: pass the invoice XML (or ZIP) bytes")
        uuid = _require(uuid, "uuid")
        if len(uuid) > 36:
            raise ValueError("uuid must be at most 36 characters")
        fields: list[tuple[str, Any]] = [("uuid", uuid)]
        if format:
            fields.append(("format", format))
        for name, value, limit in (("recipient_eia", recipient_eia, 128),
                                   ("recipient_operator", recipient_operator, 128),
                                   ("recipient_email", recipient_email, 255),
                                   ("sender_comment", sender_comment, 1024)):
            if value:
                if len(value) > limit:
                    raise ValueError(f"{name} must be at most {limit} characters")
                fields.append((name, value))
        fields += _array("disabled_routes", [_choice(r, ROUTES, "disabled route") for r in disabled_routes])
        if print_own_image is not None:
            fields.append(("print_settings[print_own_image]", bool(print_own_image)))
        if lang:
            fields.append(("lang", _choice(lang, INVOICE_LANGS, "lang")))
        content_type = "application/zip" if filename.lower().endswith(".zip") else "application/xml"
        parts = [("file", (filename, file, content_type))]
        parts += [(name, _form_field(value)) for name, value in fields]
        return self._json(self._call("POST", "/v1/invoices", files=parts, unverified_possible=True))

    def get_invoice(self, invoice_id: str) -> dict:
        """Read an invoice; with our own ``uuid`` sent, that uuid is the invoice id."""
        return self._json(self._call("GET", f"/v1/invoices/{quote(_require(invoice_id, 'invoice_id'), safe='')}"))

    def invoice_actions(self, invoice_id: str) -> list[dict]:
        path = f"/v1/invoices/{quote(_require(invoice_id, 'invoice_id'), safe='')}/actions"
        return self._json(self._call("GET", path))

    def list_invoices(self, *, direction: str = "SENT", status: Sequence[str] | None = None,
                      ids: Sequence[str] | None = None, number: str | None = None, page: int = 1,
                      per_page: int = 100) -> list[dict]:
        """One page of invoices. ``direction`` defaults to SENT here (Maventa's default is RECEIVED)."""
        if ids is not None and len(ids) > 100:
            raise ValueError("list_invoices takes at most 100 ids per call")
        if not 1 <= per_page <= 100:
            raise ValueError("per_page must be between 1 and 100")
        params = [("direction", _choice(direction, DIRECTIONS, "direction"))]
        params += _array("status", [_choice(s, INVOICE_STATUSES, "status") for s in status or ()])
        params += _array("ids", ids or ())
        if number:
            params.append(("number", number))
        params += [("page", str(page)), ("per_page", str(per_page))]
        return self._json(self._call("GET", "/v1/invoices", params=params,
                                     unverified_possible=direction == "RECEIVED"))

    def lookup_receivers(self, *, network: Sequence[str] = ("PEPPOL",), eia: str | None = None,
                         bid: str | None = None, name: str | None = None,
                         country: str | Sequence[str] | None = None) -> list[dict]:
        if not network:
            raise ValueError("lookup_receivers needs at least one network, e.g. PEPPOL")
        params = _array("network", network)
        for key, value in (("eia", eia), ("bid", bid), ("name", name)):
            if value:
                params.append((key, value))
        if country:
            params += _array("country", [country] if isinstance(country, str) else country)
        return self._json(self._call("GET", "/v1/lookup/receivers", params=params))

    # -- webhooks --------------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str] = WEBHOOK_EVENTS) -> dict:
        if not str(url).startswith(("http://", "https://")):
            raise ValueError("webhook url must be an absolute http(s) URL")
        body = {"destination_type": "WEBHOOK", "destination": url, "events": list(events)}
        return self._json(self._call("POST", "/v1/company/notifications", json=body))

    def list_webhooks(self) -> list[dict]:
        return self._json(self._call("GET", "/v1/company/notifications"))

    def delete_webhook(self, id: str) -> None:
        self._call("DELETE", f"/v1/company/notifications/{quote(_require(id, 'id'), safe='')}")
