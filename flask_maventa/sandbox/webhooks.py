"""The sandbox's webhooks: subscriptions, deliveries, and the clock thread that sends them.

The payload is undocumented (API-NOTES §7 and §13), so its shape is a knob (``webhook_payload``):

- ``flat`` (default): ``{"event", "company_id", "id", "invoice_id", "status", "created_at"}``
- ``id``: the invoice id at the top level as ``id`` only
- ``data``: ``{"event", "created_at", "data": {"id", "company_id", "status"}}``
- ``invoice_id``: the invoice id as ``invoice_id`` only
- ``unrecognised``: ``{"event", "created_at", "document": {"document_uuid", ...}}`` - no id a receiver
  could know to look for: it must log what it got and rely on polling.

A receiver should treat any of them as a hint and re-read the invoice through the API. Non-2xx answers
are retried ``webhook_retries`` times, then kept for ``notifications_resend_unacknowledged``.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from .bodies import JSONObject
from .knobs import Knobs

if TYPE_CHECKING:
    from .invoices import Invoice
    from .state import Sandbox

__all__ = ["Delivery", "Subscription", "Ticker", "WebhookBook", "payload"]

log = logging.getLogger("flask_maventa.sandbox")


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
    payload: JSONObject
    next_attempt_at: float
    attempts: int = 0
    status_codes: list[int | None] = field(default_factory=list)
    acknowledged: bool = False
    given_up: bool = False


def payload(shape: str, event: str, company_id: str, invoice_id: str, status: str, at: float) -> JSONObject:
    created_at = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if shape == "id":
        return {"event": event, "id": invoice_id, "created_at": created_at}
    if shape == "data":
        return {"event": event, "created_at": created_at,
                "data": {"id": invoice_id, "company_id": company_id, "status": status}}
    if shape == "invoice_id":
        return {"event": event, "invoice_id": invoice_id, "created_at": created_at}
    if shape == "unrecognised":
        return {"event": event, "created_at": created_at,
                "document": {"document_uuid": invoice_id, "state": status}}
    return {"event": event, "company_id": company_id, "id": invoice_id, "invoice_id": invoice_id,
            "status": status, "created_at": created_at}


class WebhookBook:
    """Subscriptions and deliveries (needs ``lock`` and ``knobs``)."""

    # What the Sandbox this is mixed into provides (declared for the type checker only).
    lock: threading.RLock
    knobs: Knobs

    def reset_webhooks(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: list[Delivery] = []

    def notify(self, invoice: Invoice, event: str, at: float) -> None:
        for sub in self.subscriptions.values():
            if sub.company_id == invoice.company_id and event in sub.events:
                body = payload(self.knobs.webhook_payload, event, invoice.company_id, invoice.id, invoice.status, at)
                self.deliveries.append(Delivery(str(uuidlib.uuid4()), sub.id, sub.destination, event, body, at))

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


class Ticker(threading.Thread):
    """Advances the sandbox a few times a second and POSTs due webhook deliveries."""

    def __init__(self, sandbox: Sandbox, interval: float = 0.05) -> None:
        super().__init__(name="maventa-sandbox-ticker", daemon=True)
        self.sandbox = sandbox
        self.interval = interval
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        with httpx.Client(timeout=5.0) as http:
            while not self._stopped.wait(self.interval):
                try:
                    self.tick(http)
                except Exception:
                    log.exception("sandbox tick failed")

    def tick(self, http: httpx.Client) -> None:
        now = time.time()
        self.sandbox.advance(now)
        for delivery in self.sandbox.due_deliveries(now):
            try:
                status = http.post(delivery.url, json=delivery.payload,
                                   headers={"User-Agent": "maventa-sandbox-webhooks"}).status_code
            except httpx.HTTPError:
                status = None
            self.sandbox.record_attempt(delivery, status)
