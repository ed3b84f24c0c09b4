"""The Maventa AutoXChange API client: the requests the product sends, shaped as Maventa's swagger says.

``MaventaClient`` holds what is shared by all companies (base URL, vendor API key, token store) and the
calls made without a token (create user, create company). ``client.for_company(uuid, api_key)`` gives
a ``CompanyClient`` whose requests carry that company's token; ``client.for_partner(uuid, api_key)``
a ``PartnerClient`` for the partner-only look-ups (its own token, its own scope).

Array parameters are sent as ``name[]`` (query strings and multipart alike): Maventa runs on Rack,
which keeps only the last value of a repeated plain ``name``.

Where Maventa's documentation is silent about an answer, the method that gets it says what it
accepts (README, "What we assume beyond the swagger"): an existing email on ``create_user``, a taken
business id on ``create_company``, a duplicate invoice ``uuid`` on ``send_invoice``.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Unpack, cast
from urllib.parse import quote

import httpx

from . import errors
from .answers import (
    CompanyAuthorization,
    CompanyAuthorizationStatus,
    CompanyLookup,
    CompanySettings,
    Invoice,
    InvoiceAction,
    JSONValue,
    LookupEntryReceiver,
    NewCompanyUser,
    Notification,
    OAuthCurrent,
)
from .auth import DEFAULT_SCOPE, MaventaAuth
from .http import HEADERS, Api, FilePart, RequestOptions, shared_http_client
from .package import invoice_zip
from .scopes import PARTNER_SCOPE
from .tokens import MemoryTokenStore, TokenStore

__all__ = [
    "BASE_URLS",
    "DEFAULT_TIMEOUT",
    "REQUIRED_SETTINGS_BLOCKS",
    "CompanyClient",
    "MaventaClient",
    "PartnerClient",
    "shared_http_client",
]

log = logging.getLogger("flask_maventa.client")

BASE_URLS = {"production": "https://ax.maventa.com", "test": "https://ax-stage.maventa.com"}
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Enums the product passes through from user input; checked here so a typo fails before the network.
ROUTES = ("einvoice", "email", "print")  # the routes, in the order Maventa tries them (API-NOTES §6)
INVOICE_LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
SIGNING_LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")
COMPANY_COUNTRIES = ("FI", "SE", "NO", "DK", "NL", "EE", "BE", "IT", "DE")
DIRECTIONS = ("RECEIVED", "SENT")
INVOICE_STATUSES = ("PENDING", "DELIVERED", "FAILED")
WEBHOOK_EVENTS = ("DOCUMENTS.INVOICE.DELIVERED", "DOCUMENTS.INVOICE.FAILED")
# patchV1CompanySettings' "required": a PATCH carries these blocks whatever it changes.
REQUIRED_SETTINGS_BLOCKS = ("details", "address", "invoice_notifications")

_default_token_store = MemoryTokenStore()
_ALREADY = re.compile(r"already|taken|exist|in use|registered|duplicate|reserved", re.IGNORECASE)


def _require(value: str | None, what: str) -> str:
    if not value or not str(value).strip():
        raise ValueError(f"{what} is required")
    return str(value).strip()


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _array(name: str, values: Iterable[object]) -> list[tuple[str, str]]:
    return [(f"{name}[]", str(v)) for v in values]


def _form_field(value: object) -> tuple[None, str]:
    """A multipart part without a filename (a plain form field)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return (None, str(value))


def _error_text(exc: errors.MaventaError) -> str:
    """Everything Maventa said in an error: code, message and details (where its wording may be)."""
    return " ".join([exc.code or "", exc.message, *(str(d) for d in exc.details)])


def _json_object(value: object) -> dict[str, JSONValue]:
    """A typed answer or argument as the plain JSON object it is (an empty one when it is not an object)."""
    return cast("dict[str, JSONValue]", value) if isinstance(value, dict) else {}


def _without_nulls(value: JSONValue) -> JSONValue:
    """A settings block as it can be sent back: Maventa shows unset fields as null, the PATCH
    schema types them as strings/booleans, so an unset field is left out instead."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


class MaventaClient(Api):
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
            base_url=base_url, transport=transport, headers=HEADERS)

    @property
    def _http(self) -> httpx.Client:
        # Looked up per request, so a client built before a fork uses the child's own pool after it.
        return self._own_http if self._own_http is not None else shared_http_client(self.base_url)

    def __repr__(self) -> str:
        return f"MaventaClient({self.base_url!r})"

    def _secrets(self) -> tuple[str, ...]:
        return (self._vendor_api_key,)

    def create_user(self, email: str, first_name: str, last_name: str | None = None) -> str | None:
        """Create a Maventa user; returns its user API key, or None when the email already has an account.

        Maventa's answer for an existing email is undocumented; both plausible ones mean "existing
        user": 201 without a key, or a 4xx whose text names the email as already taken.
        """
        body = {"vendor_api_key": self._vendor_api_key, "email": _require(email, "email"),
                "first_name": _require(first_name, "first_name")}
        if last_name:
            body["last_name"] = last_name
        try:
            answer = self._json(self._send("POST", "/v1/users", json=body))
        except errors.PermanentError as exc:
            if _existing_email(exc, body["email"]):
                log.info("POST /v1/users: Maventa says the email has an account (%s %s)", exc.status, exc.code)
                return None
            raise
        key = answer.get("user_api_key") if isinstance(answer, dict) else None
        return key if isinstance(key, str) and key else None

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
        try:
            response = self._send("POST", "/v1/companies", files=parts)
        except errors.PermanentError as exc:
            # Maventa documents only the words "BID ALREADY TAKEN", not where (code, message or
            # details) nor the status that carries them.
            if "BID ALREADY TAKEN" in _error_text(exc).upper().replace("_", " "):
                raise errors.BusinessIdTakenError(exc.message, status=exc.status, code=exc.code,
                                                  details=exc.details, response=exc.response) from None
            raise
        answer = self._json(response)
        company_id = answer.get("id") if isinstance(answer, dict) else None
        if not company_id or not isinstance(company_id, str):
            raise errors.InvalidResponseError("Maventa created a company but returned no id",
                                              status=response.status_code, response=response)
        return company_id

    def for_company(self, company_uuid: str, user_api_key: str) -> CompanyClient:
        auth = MaventaAuth(base_url=self.base_url, company_uuid=_require(company_uuid, "company_uuid"),
                           user_api_key=_require(user_api_key, "user_api_key"),
                           vendor_api_key=self._vendor_api_key, scope=self.scope,
                           token_store=self.token_store, refresh_margin=self.refresh_margin)
        return CompanyClient(self, auth, user_api_key)

    def for_partner(self, company_uuid: str, user_api_key: str) -> PartnerClient:
        """The partner account's client: its token asks only for the partner-only scope."""
        auth = MaventaAuth(base_url=self.base_url, company_uuid=_require(company_uuid, "company_uuid"),
                           user_api_key=_require(user_api_key, "user_api_key"),
                           vendor_api_key=self._vendor_api_key, scope=PARTNER_SCOPE,
                           token_store=self.token_store, refresh_margin=self.refresh_margin)
        return PartnerClient(self, auth, user_api_key)


def _existing_email(exc: errors.PermanentError, email: str) -> bool:
    text = _error_text(exc)
    mentions = "email" in text.lower() or email.lower() in text.lower()
    return exc.status in (400, 409, 422) and mentions and (exc.status == 409 or bool(_ALREADY.search(text)))


class _TokenClient(Api):
    """Requests made with a company's token (``auth``)."""

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
        return f"{type(self).__name__}({self.base_url!r}, company_uuid={self.company_uuid!r})"

    def _secrets(self) -> tuple[str, ...]:
        return (*self.client._secrets(), self._user_api_key)

    def _call(self, method: str, path: str, *, unverified_possible: bool = False,
              params: Sequence[tuple[str, str]] | None = None, **kwargs: Unpack[RequestOptions]) -> httpx.Response:
        return self._send(method, path, auth=self.auth, unverified_possible=unverified_possible, params=params,
                          **kwargs)


class PartnerClient(_TokenClient):
    """The partner account's calls (scope ``partner:lookups``)."""

    def lookup_companies(self, bids: Sequence[str], country: str) -> list[CompanyLookup]:
        """Is each business id FREE or RESERVED at Maventa."""
        bids = [_require(b, "bid") for b in bids]
        if not 1 <= len(bids) <= 10:
            raise ValueError("lookup_companies takes 1 to 10 business ids")
        params = [*_array("bids", bids), ("country", _require(country, "country"))]
        return cast("list[CompanyLookup]", self._json(self._call("GET", "/v1/partner/lookups/companies",
                                                                 params=params)))


class CompanyClient(_TokenClient):
    """The calls one company makes with its own token."""

    # -- the company and its account ------------------------------------------------------------

    def check_credentials(self) -> OAuthCurrent:
        """Fetch a token and read the company: raises InvalidCredentialsError on a bad UUID/key pair."""
        return self.current()

    def current(self) -> OAuthCurrent:
        return cast(OAuthCurrent, self._json(self._call("GET", "/oauth2/current")))

    def add_company_user(self, email: str, first_name: str,
                         last_name: str | None = None) -> tuple[bool, str | None]:
        """Add a person to the company: (True, api_key) for a new account, (False, None) for an existing one."""
        body = {"email": _require(email, "email"), "first_name": _require(first_name, "first_name")}
        if last_name:
            body["last_name"] = last_name
        response = self._call("POST", "/v1/company/users", json=body)
        answer = cast(NewCompanyUser, self._json(response))
        if response.status_code == 201:
            return True, answer.get("api_key")
        return False, None

    def send_authorization(self, auth_email: str, locale: str) -> CompanyAuthorization:
        """Ask Maventa to send the signing invitation (Visma Sign) to ``auth_email``."""
        body = {"auth_email": _require(auth_email, "auth_email"),
                "locale": _choice(locale, SIGNING_LOCALES, "locale")}
        return cast(CompanyAuthorization, self._json(self._call("POST", "/v1/company/authorization", json=body)))

    def authorization(self) -> CompanyAuthorizationStatus:
        """``{"auth_state", "auth_email", "company_state"}``: poll until company_state is VERIFIED."""
        return cast(CompanyAuthorizationStatus, self._json(self._call("GET", "/v1/company/authorization")))

    def get_settings(self, fields: Sequence[str] | None = None) -> CompanySettings:
        params = _array("fields", fields or ())
        return cast(CompanySettings, self._json(self._call("GET", "/v1/company/settings", params=params)))

    def update_settings(self, changes: CompanySettings) -> None:
        """Change some settings blocks, e.g. ``{"send_invoice_print": {"use_own_pdf": True}}``.

        The swagger requires ``details``, ``address`` and ``invoice_notifications`` in every PATCH:
        the ones not being changed are read first and sent back as Maventa has them.
        """
        if not isinstance(changes, dict) or not changes:
            raise ValueError("update_settings needs a dict of settings blocks to change")
        unchanged = [block for block in REQUIRED_SETTINGS_BLOCKS if block not in changes]
        body: dict[str, JSONValue] = {}
        if unchanged:
            current: dict[str, JSONValue] = _json_object(self.get_settings(unchanged))
            for block in unchanged:
                value = current.get(block)
                body[block] = _without_nulls(value) if isinstance(value, dict) else {}
        body.update(_json_object(changes))
        self.patch_settings(cast(CompanySettings, body))

    def patch_settings(self, blocks: CompanySettings) -> None:
        """``PATCH /v1/company/settings`` as given: it must hold every required block (see update_settings)."""
        if not isinstance(blocks, dict) or not blocks:
            raise ValueError("patch_settings needs a dict of settings blocks")
        missing = [block for block in REQUIRED_SETTINGS_BLOCKS if block not in blocks]
        if missing:
            raise ValueError(f"a settings PATCH must carry {', '.join(missing)} too; use update_settings()")
        self._call("PATCH", "/v1/company/settings", json=blocks)

    # -- invoices --------------------------------------------------------------------------------

    def send_invoice(self, file: bytes, filename: str, *, uuid: str, format: str | None = "PEPPOLBIS30",
                     recipient_eia: str | None = None, recipient_operator: str | None = None,
                     recipient_email: str | None = None, disabled_routes: Sequence[str] = (),
                     print_own_image: bool | None = None, lang: str | None = None,
                     sender_comment: str | None = None, image_pdf: bytes | None = None) -> Invoice:
        """Upload an invoice; returns Maventa's invoice. ``uuid`` is ours: resending it is safe.

        ``image_pdf``: the company's own PDF of the invoice; the XML and it go as one ZIP (package.py).
        A ``uuid`` Maventa already has may be answered with the existing invoice, 409 or 422: for the
        last two the invoice is read by that uuid and returned, so every caller sees one answer.
        """
        if not file:
            raise ValueError("file is empty: pass the invoice XML (or ZIP) bytes")
        if image_pdf:
            file, filename = invoice_zip(file, image_pdf, filename)
        uuid = _require(uuid, "uuid")
        if len(uuid) > 36:
            raise ValueError("uuid must be at most 36 characters")
        fields: list[tuple[str, str | bool]] = [("uuid", uuid)]
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
        parts: list[tuple[str, FilePart]] = [("file", (filename, file, content_type))]
        parts += [(name, _form_field(value)) for name, value in fields]
        try:
            return cast(Invoice, self._json(self._call("POST", "/v1/invoices", files=parts, unverified_possible=True)))
        except errors.PermanentError as exc:
            if exc.status not in (409, 422):
                raise
            return self._existing_invoice(uuid, exc)

    def _existing_invoice(self, uuid: str, refusal: errors.PermanentError) -> Invoice:
        """After a 409/422 to an upload: Maventa's invoice with our uuid, or the refusal itself."""
        try:
            invoice = self.get_invoice(uuid)
        except errors.NotFoundError:
            raise refusal from None  # not a duplicate: the upload itself was refused
        except errors.MaventaError as exc:
            raise errors.InDoubtError(
                f"Maventa refused uuid {uuid} as already used ({refusal.status}), and reading it failed: {exc}",
                status=exc.status, code=exc.code, retry_after=getattr(exc, "retry_after", None),
                response=exc.response) from exc
        log.info("POST /v1/invoices: uuid already at Maventa (%s %s); returning that invoice",
                 refusal.status, refusal.code)
        return invoice

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Read an invoice; with our own ``uuid`` sent, that uuid is the invoice id."""
        path = f"/v1/invoices/{quote(_require(invoice_id, 'invoice_id'), safe='')}"
        return cast(Invoice, self._json(self._call("GET", path)))

    def invoice_actions(self, invoice_id: str) -> list[InvoiceAction]:
        path = f"/v1/invoices/{quote(_require(invoice_id, 'invoice_id'), safe='')}/actions"
        return cast("list[InvoiceAction]", self._json(self._call("GET", path)))

    def list_invoices(self, *, direction: str = "SENT", status: Sequence[str] | None = None,
                      ids: Sequence[str] | None = None, number: str | None = None, page: int = 1,
                      per_page: int = 100) -> list[Invoice]:
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
        return cast("list[Invoice]", self._json(self._call("GET", "/v1/invoices", params=params,
                                                           unverified_possible=direction == "RECEIVED")))

    def lookup_receivers(self, *, network: Sequence[str] = ("PEPPOL",), eia: str | None = None,
                         bid: str | None = None, name: str | None = None,
                         country: str | Sequence[str] | None = None) -> list[LookupEntryReceiver]:
        if not network:
            raise ValueError("lookup_receivers needs at least one network, e.g. PEPPOL")
        params = _array("network", network)
        for key, value in (("eia", eia), ("bid", bid), ("name", name)):
            if value:
                params.append((key, value))
        if country:
            params += _array("country", [country] if isinstance(country, str) else country)
        return cast("list[LookupEntryReceiver]", self._json(self._call("GET", "/v1/lookup/receivers", params=params)))

    # -- webhooks --------------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str] = WEBHOOK_EVENTS) -> Notification:
        if not str(url).startswith(("http://", "https://")):
            raise ValueError("webhook url must be an absolute http(s) URL")
        body = {"destination_type": "WEBHOOK", "destination": url, "events": list(events)}
        return cast(Notification, self._json(self._call("POST", "/v1/company/notifications", json=body)))

    def list_webhooks(self) -> list[Notification]:
        return cast("list[Notification]", self._json(self._call("GET", "/v1/company/notifications")))

    def delete_webhook(self, id: str) -> None:
        self._call("DELETE", f"/v1/company/notifications/{quote(_require(id, 'id'), safe='')}")
