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
from collections.abc import Sequence
from typing import cast

import httpx

from . import errors
from .account import AccountCalls
from .answers import CompanyLookup
from .arguments import array, choice, error_text, form_field, require
from .auth import DEFAULT_SCOPE, MaventaAuth
from .http import Api, new_http_client, shared_http_client
from .invoices import ROUTES, InvoiceCalls
from .scopes import PARTNER_SCOPE
from .token_client import TokenClient
from .tokens import MemoryTokenStore, TokenStore

__all__ = [
    "BASE_URLS",
    "COMPANY_COUNTRIES",
    "DEFAULT_TIMEOUT",
    "ROUTES",
    "CompanyClient",
    "MaventaClient",
    "PartnerClient",
    "shared_http_client",
]

log = logging.getLogger("flask_maventa.client")

BASE_URLS = {"production": "https://ax.maventa.com", "test": "https://ax-stage.maventa.com"}
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
COMPANY_COUNTRIES = ("FI", "SE", "NO", "DK", "NL", "EE", "BE", "IT", "DE")  # create_company's countries
# ROUTES (the routes, in the order Maventa tries them) belongs to the invoice calls (.invoices); the
# transfer engine reads it from here.

_default_token_store = MemoryTokenStore()
_ALREADY = re.compile(r"already|taken|exist|in use|registered|duplicate|reserved", re.IGNORECASE)


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
        self._vendor_api_key = require(vendor_api_key, "vendor_api_key (the Software API key from Maventa)")
        self.token_store = token_store if token_store is not None else _default_token_store
        self.scope = scope
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.refresh_margin = refresh_margin
        self._own_http = None if transport is None else new_http_client(base_url, transport)

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
        body = {"vendor_api_key": self._vendor_api_key, "email": require(email, "email"),
                "first_name": require(first_name, "first_name")}
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
        if len(require(name, "name")) < 3:
            raise ValueError("name must be at least 3 characters long")
        fields = {
            "vendor_api_key": self._vendor_api_key, "user_api_key": require(user_api_key, "user_api_key"),
            "name": name, "bid": require(bid, "bid"), "no_vat": bool(no_vat),
            "address1": require(address1, "address1"), "post_code": require(post_code, "post_code"),
            "post_office": require(post_office, "post_office"), "city": require(city, "city"),
            "country": choice(country, COMPANY_COUNTRIES, "country"), "email": require(email, "email"),
        }
        if address2:
            fields["address2"] = address2
        parts = [(key, form_field(value)) for key, value in fields.items()]
        try:
            response = self._send("POST", "/v1/companies", files=parts)
        except errors.PermanentError as exc:
            # Maventa documents only the words "BID ALREADY TAKEN", not where (code, message or
            # details) nor the status that carries them.
            if "BID ALREADY TAKEN" in error_text(exc).upper().replace("_", " "):
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
        auth = MaventaAuth(base_url=self.base_url, company_uuid=require(company_uuid, "company_uuid"),
                           user_api_key=require(user_api_key, "user_api_key"),
                           vendor_api_key=self._vendor_api_key, scope=self.scope,
                           token_store=self.token_store, refresh_margin=self.refresh_margin)
        return CompanyClient(self, auth, user_api_key)

    def for_partner(self, company_uuid: str, user_api_key: str) -> PartnerClient:
        """The partner account's client: its token asks only for the partner-only scope."""
        auth = MaventaAuth(base_url=self.base_url, company_uuid=require(company_uuid, "company_uuid"),
                           user_api_key=require(user_api_key, "user_api_key"),
                           vendor_api_key=self._vendor_api_key, scope=PARTNER_SCOPE,
                           token_store=self.token_store, refresh_margin=self.refresh_margin)
        return PartnerClient(self, auth, user_api_key)


def _existing_email(exc: errors.PermanentError, email: str) -> bool:
    text = error_text(exc)
    mentions = "email" in text.lower() or email.lower() in text.lower()
    return exc.status in (400, 409, 422) and mentions and (exc.status == 409 or bool(_ALREADY.search(text)))


class PartnerClient(TokenClient):
    """The partner account's calls (scope ``partner:lookups``)."""

    def lookup_companies(self, bids: Sequence[str], country: str) -> list[CompanyLookup]:
        """Is each business id FREE or RESERVED at Maventa."""
        bids = [require(b, "bid") for b in bids]
        if not 1 <= len(bids) <= 10:
            raise ValueError("lookup_companies takes 1 to 10 business ids")
        params = [*array("bids", bids), ("country", require(country, "country"))]
        return cast("list[CompanyLookup]", self._json(self._call("GET", "/v1/partner/lookups/companies",
                                                                 params=params)))


class CompanyClient(AccountCalls, InvoiceCalls):
    """The calls one company makes with its own token: its account (:mod:`.account`) and its invoices
    (:mod:`.invoices`)."""
