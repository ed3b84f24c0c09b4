"""The sandbox's world: users, companies, tokens, invoices, webhooks, and the clock that moves them.

Everything lives in memory behind one lock. Time-based progress (signing, delivery) is applied lazily:
``advance()`` runs before every request and on every tick of the background thread, so a delay of 0
means "on the next read or tick" and no test needs to control a clock.
"""
from __future__ import annotations

import copy
import datetime as dt
import random
import re
import secrets
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from .documents import InvoiceFile, Route, decide_route
from .knobs import Knobs

__all__ = ["Sandbox", "ApiError", "expand_scopes"]

# Scope aliases, from the swagger's /oauth2/token description.
SCOPE_ALIASES = {
    "eui": {"eui:open", "company:read", "company:write", "lookup", "receivables:assignments", "document:send",
            "document:receive", "invoice:receive", "invoice:send", "analysis"},
    "global": {"company:read", "document:receive", "document:send", "lookup"},
    "company": {"company:read", "company:write"},
}
KNOWN_SCOPES = {
    "eui", "global", "company", "lookup", "document:receive", "document:send", "invoice:receive", "invoice:send",
    "company:read", "company:write", "validate", "receivables:assignments", "analysis", "billing:reports",
    "partner:invoice_delivery_actions", "partner:lookups", "partner:takeovers", "partner:lyanthe_scan_service",
    "fi_bank_message:send", "fi_bank_message:receive",
}
DEFAULT_SCOPE = "global company"


def expand_scopes(scopes: set[str] | list[str]) -> set[str]:
    out = set()
    for scope in scopes:
        out |= SCOPE_ALIASES.get(scope, set()) | {scope}
    return out


def now_iso(at: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if at is None else at, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An answer in Maventa's error shape ``{"code", "message", "details"}``."""

    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict:
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
    settings: dict
    auth_state: str = "NONE"
    auth_email: str | None = None
    company_state: str = "UNVERIFIED"
    auth_sent_at: float | None = None
    locale: str | None = None


@dataclass
class Grant:
    company_id: str
    user_id: str
    scopes: set[str]
    scope: str
    expires_at: float


@dataclass
class Invoice:
    id: str
    company_id: str
    doc: InvoiceFile
    params: dict
    filename: str
    source_format: str
    created_at: float
    due_at: float
    status: str = "PENDING"
    route: Route | None = None
    actions: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)


@dataclass
class Subscription:
    id: str
    company_id: str
    destination_type: str
    destination: str
    events: list[str]
    vendor_key: str | None = None


@dataclass
class Delivery:
    id: str
    subscription_id: str
    url: str
    event: str
    payload: dict
    next_attempt_at: float
    attempts: int = 0
    status_codes: list = field(default_factory=list)
    acknowledged: bool = False
    given_up: bool = False


def default_settings(name: str, bid: str, country: str, email: str, address: dict) -> dict:
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


def deep_merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


def normalize_bid(bid: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", bid.upper())


class Sandbox:
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
            self.invoices: dict[tuple[str, str], Invoice] = {}
            self.receipts: list[dict] = []                   # every POST /v1/invoices that reached us
            self.receivers: list[dict] = []
            self.subscriptions: dict[str, Subscription] = {}
            self.deliveries: list[Delivery] = []
            self.stats = {"token_requests": 0, "tokens_issued": 0, "requests": {}, "faults": {},
                          "response_problems": []}
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
        with self.lock:
            if self.user_by_email(email):
                return None
            user = User(str(uuidlib.uuid4()), email, first_name, last_name, secrets.token_hex(16))
            self.users[user.id] = user
            return user

    def create_company(self, form: dict) -> Company:
        with self.lock:
            user = self.user_by_key(form["user_api_key"])
            if user is None:
                raise ApiError(401, "invalid_credentials", "Invalid user API key")
            if len(form["name"]) < 3:
                raise ApiError(400, "invalid_parameters", "Invalid parameters",
                               ["name has to be at least 3 characters long"])
            bid = form["bid"]
            if any(normalize_bid(c.bid) == normalize_bid(bid) for c in self.companies.values()):
                raise ApiError(self.knobs.bid_taken_status, "bid_already_taken", "BID ALREADY TAKEN",
                               [f"a company with business id {bid} is already registered"])
            address = {"street_address": form["address1"], "post_code": form["post_code"],
                       "post_office": form["post_office"], "city": form["city"], "country": form["country"]}
            company = Company(id=str(uuidlib.uuid4()), name=form["name"], bid=bid, country=form["country"],
                              vat=None if form.get("no_vat") == "true" else bid, user_ids=[user.id],
                              settings=default_settings(form["name"], bid, form["country"], form["email"], address))
            self.companies[company.id] = company
            return company

    def issue_token(self, client_id: str | None, client_secret: str | None,
                    scope: str | None) -> tuple[str, Grant]:
        with self.lock:
            company = self.companies.get(client_id or "")
            user = self.user_by_key(client_secret)
            if company is None or user is None or user.id not in company.user_ids:
                raise ApiError(401, "invalid_credentials", "Invalid client credentials")
            requested = (scope or DEFAULT_SCOPE).split()
            unknown = [s for s in requested if s not in KNOWN_SCOPES]
            if unknown:
                raise ApiError(400, "invalid_scope", "Invalid scope", [f"unknown scope {s}" for s in unknown])
            grant = Grant(company.id, user.id, expand_scopes(requested), " ".join(requested),
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

    def add_company_user(self, company: Company, body: dict) -> tuple[User, bool]:
        with self.lock:
            user = self.user_by_email(body["email"])
            created = user is None
            if created:
                user = User(str(uuidlib.uuid4()), body["email"], body.get("first_name"), body.get("last_name"),
                            secrets.token_hex(16))
                self.users[user.id] = user
            if user.id not in company.user_ids:
                company.user_ids.append(user.id)
            return user, created

    def send_authorization(self, company: Company, body: dict) -> None:
        with self.lock:
            company.auth_email = body["auth_email"]
            company.locale = body["locale"]
            if body.get("options"):  # partner-run KYC (sandbox design choice, not Maventa-documented)
                self.sign(company)
                return
            company.auth_state = "SENT"
            company.auth_sent_at = time.time()

    def sign(self, company: Company) -> None:
        with self.lock:
            company.auth_state = "SIGNED"
            company.company_state = "VERIFIED"

    def lookup_company(self, bid: str, country: str) -> str:
        taken = any(normalize_bid(c.bid) == normalize_bid(bid) and c.country == country.upper()
                    for c in self.companies.values())
        return "RESERVED" if taken else "FREE"

    # -- invoices ----------------------------------------------------------------------------------

    def receive_invoice(self, company: Company, params: dict, doc: InvoiceFile, filename: str,
                        content_type: str) -> tuple[Invoice, bool]:
        """Store an uploaded invoice; returns (invoice, created). A known uuid returns the existing one."""
        with self.lock:
            invoice_id = params.get("uuid") or str(uuidlib.uuid4())
            self.receipts.append({"company_id": company.id, "uuid": invoice_id, "number": doc.number,
                                  "received_at": now_iso()})
            existing = self.invoices.get((company.id, invoice_id))
            if existing is not None:
                return existing, False
            now = time.time()
            invoice = Invoice(id=invoice_id, company_id=company.id, doc=doc, params=params, filename=filename,
                              source_format=params.get("format") or ("PEPPOLBIS30" if doc.root in
                                                                     ("Invoice", "CreditNote") else "UNKNOWN"),
                              created_at=now, due_at=now + self.knobs.delivery_delay)
            invoice.files.append({"id": str(uuidlib.uuid4()), "filename": filename, "type": "INVOICE",
                                  "mimetype": content_type or "application/xml", "content": doc.xml})
            if doc.pdf:
                invoice.files.append({"id": str(uuidlib.uuid4()), "filename": "invoice.pdf", "type": "IMAGE",
                                      "mimetype": "application/pdf", "content": doc.pdf})
            invoice.actions.append(_action("CREATED", None, "Invoice created", "action_created", now))
            self.invoices[(company.id, invoice_id)] = invoice
            return invoice, True

    def finish(self, invoice: Invoice, route: Route, at: float | None = None) -> None:
        """Move a PENDING invoice to DELIVERED or FAILED and queue its webhooks."""
        at = time.time() if at is None else at
        invoice.route = route
        if route.delivered:
            invoice.status = "DELIVERED"
            sent_key = {"EMAIL": "action_sent_email", "PRINT": "action_sent_print"}.get(route.channel,
                                                                                         "action_internal_sent")
            invoice.actions.append(_action("SENT", route.channel, f"Sent via {route.channel}", sent_key, at))
            invoice.actions.append(_action("DELIVERED", route.channel, route.message, "action_delivered", at))
            event = "DOCUMENTS.INVOICE.DELIVERED"
        else:
            invoice.status = "FAILED"
            invoice.actions.append(_action("ERROR", route.channel, route.message, route.key, at))
            event = "DOCUMENTS.INVOICE.FAILED"
        self._notify(invoice, event, at)

    def advance(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.lock:
            for company in self.companies.values():
                if (company.auth_state == "SENT" and self.knobs.sign_delay is not None
                        and company.auth_sent_at + self.knobs.sign_delay <= now):
                    self.sign(company)
            for invoice in self.invoices.values():
                if invoice.status == "PENDING" and invoice.due_at <= now:
                    company = self.companies[invoice.company_id]
                    print_enabled = bool(company.settings["send_invoice_print"].get("enabled"))
                    self.finish(invoice, decide_route(invoice.doc, invoice.params, self.receivers, print_enabled),
                                at=now)
            self.grants = {t: g for t, g in self.grants.items() if g.expires_at > now - 60}

    # -- webhooks ----------------------------------------------------------------------------------

    def _notify(self, invoice: Invoice, event: str, at: float) -> None:
        for sub in self.subscriptions.values():
            if sub.company_id == invoice.company_id and event in sub.events:
                # Payload shape is OUR ASSUMPTION: Maventa does not document it (API-NOTES §7, §13).
                payload = {"event": event, "company_id": invoice.company_id, "id": invoice.id,
                           "invoice_id": invoice.id, "status": invoice.status, "created_at": now_iso(at)}
                self.deliveries.append(Delivery(str(uuidlib.uuid4()), sub.id, sub.destination, event, payload, at))

    def due_deliveries(self, now: float) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries
                    if not d.acknowledged and not d.given_up and d.next_attempt_at <= now]

    def record_attempt(self, delivery: Delivery, status: int | None) -> None:
        with self.lock:
            delivery.attempts += 1
            delivery.status_codes.append(status)
            if status is not None and 200 <= status < 300:
                delivery.acknowledged = True
            elif delivery.attempts > self.knobs.webhook_retries:
                delivery.given_up = True  # kept as unacknowledged, for notifications_resend_unacknowledged
            else:
                delivery.next_attempt_at = time.time() + self.knobs.webhook_retry_delay

    def resend_unacknowledged(self, company_id: str) -> None:
        with self.lock:
            for delivery in self.deliveries:
                sub = self.subscriptions.get(delivery.subscription_id)
                if sub and sub.company_id == company_id and not delivery.acknowledged:
                    delivery.given_up, delivery.attempts = False, 0
                    delivery.next_attempt_at = time.time()

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

    def count(self, kind: str, key: str) -> None:
        with self.lock:
            bucket = self.stats[kind]
            bucket[key] = bucket.get(key, 0) + 1

    # -- views of the state for /_sandbox ----------------------------------------------------------

    def received(self) -> dict[str, Any]:
        with self.lock:
            per_uuid: dict[str, int] = {}
            for receipt in self.receipts:
                per_uuid[receipt["uuid"]] = per_uuid.get(receipt["uuid"], 0) + 1
            per_number: dict[str, int] = {}
            for invoice in self.invoices.values():
                number = invoice.doc.number or ""
                per_number[number] = per_number.get(number, 0) + 1
            return {
                "invoices": [self.summary(i) for i in self.invoices.values()],
                "receipts": len(self.receipts),
                "received_per_uuid": per_uuid,       # POSTs that reached us, per uuid (retries count)
                "invoices_per_number": per_number,   # invoices created, per invoice number (must be 1)
            }

    def summary(self, invoice: Invoice) -> dict:
        route = invoice.route
        return {"id": invoice.id, "company_id": invoice.company_id, "number": invoice.doc.number,
                "status": invoice.status, "created_at": now_iso(invoice.created_at),
                "params": dict(invoice.params),
                "route": None if route is None else {
                    "delivered": route.delivered, "channel": route.channel, "destination": route.destination,
                    "message": route.message, "tried": route.tried}}


def _action(type_: str, channel: str | None, message: str, key: str | None, at: float) -> dict:
    return {"type": type_, "channel": channel, "message": message, "key": key, "happened_at": now_iso(at)}
