"""The sandbox's world: users, companies, tokens and signing (invoices and webhooks are mixed in from
their own modules), and the clock that moves them.

Everything lives in memory behind one lock. Time-based progress (signing, delivery) is applied lazily:
``advance()`` runs before every request and on every tick of the background thread, so a delay of 0
means "on the next read or tick" and no test needs to control a clock.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import random
import re
import secrets
import threading
import time
import uuid as uuidlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from . import scopes
from .bodies import AuthorizationBody, CompanyForm, CompanyUserBody, JSONObject, JSONValue
from .invoices import InvoiceBook
from .knobs import Knobs
from .webhooks import WebhookBook

__all__ = ["ApiError", "Sandbox", "deep_merge", "now_iso"]


def now_iso(at: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if at is None else at, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An answer in Maventa's error shape ``{"code", "message", "details"}``."""

    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, str | list[str]]:
        return {"code": self.code, "message": self.message, "details": self.details}


@dataclass
class User:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    api_key: str


@dataclass
class Company:
    id: str
    name: str
    bid: str
    country: str
    vat: str | None
    user_ids: list[str]
    settings: JSONObject
    auth_state: str = "NONE"
    auth_email: str | None = None
    company_state: str = "UNVERIFIED"
    auth_sent_at: float | None = None
    locale: str | None = None
    interim: list[str] | None = None  # while signing: the auth states still to show before SIGNED
    signed_at: float | None = None


@dataclass
class Grant:
    company_id: str
    user_id: str
    scopes: set[str]
    scope: str
    expires_at: float


class Stats(TypedDict):
    """What ``/_sandbox/stats`` reports."""

    token_requests: int
    tokens_issued: int
    requests: dict[str, int]         # per operation
    faults: dict[str, int]           # per injected fault
    response_problems: list[dict[str, str | int | list[str]]]  # answers the swagger does not describe
    invoice_posts_in_flight: int     # POST /v1/invoices being answered now
    peak_invoice_posts_in_flight: int  # the most at once since the last reset (how concurrently we send)


def default_settings(name: str, bid: str, country: str, email: str, address: JSONObject) -> JSONObject:
    return {
        "details": {"name": name, "email": email, "website": None, "country": country, "bid": bid,
                    "vat_number": None},
        "address": address,
        "invoice_notifications": {
            "on_receiving": {"enabled": False, "how_to_send": None, "other_email": None},
            "on_send_errors": {"to_user": True, "to_emails": []}},
        "send_invoice_email": {"enabled": True, "how_to_send": "EMBEDDED", "reminder_frequency": 0,
                               "content_data": {"note_to_receiver": None,
                                                "contact": {"email": None, "name": None, "phone": None}}},
        "send_invoice_print": {"enabled": False, "letter_class": "ECONOMY", "color_scheme": "BLACK_AND_WHITE",
                               "attachment_print": False, "marketing_page": False, "use_own_pdf": False},
        "send_invoice_general": {"stop_duplicate_numbers": False, "hold_multiple_recipients": False},
        "logos": {"pdf": None, "email_header": None},  # content is required when a logo exists
        "email_reports": {"report_interval": "off", "email_reports": []},
        "billing_details": {"electronic_invoicing_details": {"invoicing_eia": None, "invoicing_operator": None},
                            "invoicing_email": None, "invoicing_street_address1": None,
                            "invoicing_street_address2": None, "invoicing_post_code": None,
                            "invoicing_post_office": None, "billing_company_id": None},
    }


def deep_merge(target: JSONObject, changes: Mapping[str, JSONValue]) -> None:
    for key, value in changes.items():
        nested = target.get(key)
        if isinstance(value, dict) and isinstance(nested, dict):
            deep_merge(nested, value)
        else:
            target[key] = value


def normalize_bid(bid: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", bid.upper())


class Sandbox(InvoiceBook, WebhookBook):
    def __init__(self, vendor_api_key: str, knobs: Knobs) -> None:
        self.vendor_api_key = vendor_api_key
        self._startup_knobs = copy.deepcopy(knobs)
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything and return to the knobs the sandbox was started with."""
        with self.lock:
            self.knobs = copy.deepcopy(self._startup_knobs)
            self.users: dict[str, User] = {}                 # by id
            self.companies: dict[str, Company] = {}          # by id
            self.grants: dict[str, Grant] = {}               # by access token
            self.reset_invoices()
            self.reset_webhooks()
            self.stats: Stats = {"token_requests": 0, "tokens_issued": 0, "requests": {}, "faults": {},
                          "response_problems": [], "invoice_posts_in_flight": 0,
                          "peak_invoice_posts_in_flight": 0}
            self.rng = random.Random(self.knobs.seed)
            self.buckets: dict[str, tuple[float, float]] = {}

    def reseed(self) -> None:
        with self.lock:
            self.rng = random.Random(self.knobs.seed)

    # -- identities ------------------------------------------------------------------------------

    def check_vendor(self, key: str | None) -> None:
        if key != self.vendor_api_key:
            raise ApiError(401, "invalid_credentials", "Invalid vendor API key")

    def user_by_key(self, api_key: str | None) -> User | None:
        return next((u for u in self.users.values() if api_key and secrets.compare_digest(u.api_key, api_key)), None)

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def create_user(self, email: str, first_name: str | None, last_name: str | None) -> User | None:
        """A new user, or None for a known email; with ``existing_user="error"`` that is a 4xx instead."""
        with self.lock:
            if self.user_by_email(email):
                if self.knobs.existing_user == "error":
                    raise ApiError(self.knobs.existing_user_status, "invalid_parameters",
                                   "Email has already been taken", [f"email {email} already exists"])
                return None
            user = User(str(uuidlib.uuid4()), email, first_name, last_name, secrets.token_hex(16))
            self.users[user.id] = user
            return user

    def create_company(self, form: CompanyForm) -> Company:
        with self.lock:
            user = self.user_by_key(form["user_api_key"])
            if user is None:
                raise ApiError(401, "invalid_credentials", "Invalid user API key")
            if len(form["name"]) < 3:
                raise ApiError(400, "invalid_parameters", "Invalid parameters",
                               ["name has to be at least 3 characters long"])
            bid = form["bid"]
            if any(normalize_bid(c.bid) == normalize_bid(bid) for c in self.companies.values()):
                raise self._bid_taken(bid)
            address: JSONObject = {"street_address": form["address1"], "post_code": form["post_code"],
                       "post_office": form["post_office"], "city": form["city"], "country": form["country"]}
            company = Company(id=str(uuidlib.uuid4()), name=form["name"], bid=bid, country=form["country"],
                              vat=None if form.get("no_vat") == "true" else bid, user_ids=[user.id],
                              settings=default_settings(form["name"], bid, form["country"], form["email"], address))
            self.companies[company.id] = company
            return company

    def _bid_taken(self, bid: str) -> ApiError:
        """Maventa documents only the words "BID ALREADY TAKEN": the knobs choose where and with which status."""
        status, where = self.knobs.bid_taken_status, self.knobs.bid_taken_in
        detail = f"a company with business id {bid} is already registered"
        if where == "code":
            return ApiError(status, "bid_already_taken", "Company could not be created", [detail])
        if where == "details":
            return ApiError(status, "invalid_parameters", "Invalid parameters", [f"bid: BID ALREADY TAKEN ({bid})"])
        return ApiError(status, "company_create_failed", "BID ALREADY TAKEN", [detail])

    def issue_token(self, client_id: str | None, client_secret: str | None,
                    scope: str | None) -> tuple[str, Grant]:
        with self.lock:
            company = self.companies.get(client_id or "")
            user = self.user_by_key(client_secret)
            if company is None or user is None or user.id not in company.user_ids:
                raise ApiError(401, "invalid_credentials", "Invalid client credentials")
            requested = (scope or scopes.DEFAULT_SCOPE).split()
            unknown = [s for s in requested if s not in scopes.known_scopes()]
            if unknown:
                raise ApiError(400, "invalid_scope", "Invalid scope", [f"unknown scope {s}" for s in unknown])
            refused = [s for s in requested if s in self.knobs.refused_scopes]
            if refused and self.knobs.refused_scope_answer == "invalid_scope":
                raise ApiError(400, "invalid_scope", "Invalid scope",
                               [f"scope {s} is not allowed for this vendor" for s in refused])
            granted = [s for s in requested if s not in refused]
            grant = Grant(company.id, user.id, scopes.expand(granted), " ".join(granted),
                          time.time() + self.knobs.token_lifetime)
            token = secrets.token_urlsafe(32)
            self.grants[token] = grant
            self.stats["tokens_issued"] += 1
            return token, grant

    def grant_for(self, token: str | None) -> Grant | None:
        grant = self.grants.get(token or "")
        if grant is None or grant.expires_at <= time.time():
            return None
        return grant

    # -- companies ---------------------------------------------------------------------------------

    def add_company_user(self, company: Company, body: CompanyUserBody) -> tuple[User, bool]:
        with self.lock:
            user = self.user_by_email(body["email"])
            created = user is None
            if user is None:
                user = User(str(uuidlib.uuid4()), body["email"], body.get("first_name"), body.get("last_name"),
                            secrets.token_hex(16))
                self.users[user.id] = user
            if user.id not in company.user_ids:
                company.user_ids.append(user.id)
            return user, created

    def send_authorization(self, company: Company, body: AuthorizationBody) -> None:
        with self.lock:
            company.auth_email = body["auth_email"]
            company.locale = body["locale"]
            if body.get("options"):  # partner-run KYC (sandbox design choice, not Maventa-documented)
                self.sign(company)
                return
            company.auth_state = "SENT"
            company.auth_sent_at = time.time()

    def sign(self, company: Company) -> None:
        """The signer signed. Maventa may show ``signing_interim`` states first (one per read of the
        authorization), then SIGNED; the company is VERIFIED ``verify_delay`` seconds after SIGNED."""
        with self.lock:
            company.interim = list(self.knobs.signing_interim)
            self._next_signing_state(company)

    def read_authorization(self, company: Company) -> dict[str, str]:
        """The authorization state as a GET shows it; each read moves an interim state on."""
        with self.lock:
            answer = {"auth_state": company.auth_state, "auth_email": company.auth_email or "",
                      "company_state": company.company_state}
            if company.interim is not None:
                self._next_signing_state(company)
            return answer

    def _next_signing_state(self, company: Company) -> None:
        if company.interim:
            state = company.interim.pop(0)
            company.auth_state = state
            company.company_state = "UNKNOWN" if state == "UNKNOWN" else "UNVERIFIED"
            return
        company.interim = None
        company.auth_state = "SIGNED"
        company.signed_at = time.time()
        company.company_state = "VERIFIED" if self.knobs.verify_delay <= 0 else "UNVERIFIED"

    def lookup_company(self, bid: str, country: str) -> str:
        taken = any(normalize_bid(c.bid) == normalize_bid(bid) and c.country == country.upper()
                    for c in self.companies.values())
        return "RESERVED" if taken else "FREE"

    # -- the clock -----------------------------------------------------------------------------------

    def advance(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.lock:
            for company in self.companies.values():
                if (company.auth_state == "SENT" and self.knobs.sign_delay is not None
                        and company.auth_sent_at is not None and company.auth_sent_at + self.knobs.sign_delay <= now):
                    self.sign(company)
                if (company.auth_state == "SIGNED" and company.company_state != "VERIFIED"
                        and company.signed_at is not None and company.signed_at + self.knobs.verify_delay <= now):
                    company.company_state = "VERIFIED"
            self.advance_invoices(now)
            self.grants = {t: g for t, g in self.grants.items() if g.expires_at > now - 60}

    # -- faults ------------------------------------------------------------------------------------

    def roll(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    def take_rate_token(self, client: str) -> float:
        """0 if the request may go ahead, else seconds until it may (token bucket per client)."""
        rate = self.knobs.rate_limit
        if rate <= 0:
            return 0.0
        with self.lock:
            now = time.monotonic()
            tokens, last = self.buckets.get(client, (max(1.0, rate), now))
            tokens = min(max(1.0, rate), tokens + (now - last) * rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                return 0.0
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / rate

    @contextlib.contextmanager
    def invoice_post(self) -> Iterator[None]:
        """Count a POST of an invoice while it is answered (latency included), and the peak."""
        with self.lock:
            self.stats["invoice_posts_in_flight"] += 1
            self.stats["peak_invoice_posts_in_flight"] = max(self.stats["peak_invoice_posts_in_flight"],
                                                             self.stats["invoice_posts_in_flight"])
        try:
            yield
        finally:
            with self.lock:
                self.stats["invoice_posts_in_flight"] -= 1

    def count(self, kind: Literal["requests", "faults"], key: str) -> None:
        with self.lock:
            bucket = self.stats[kind]
            bucket[key] = bucket.get(key, 0) + 1
