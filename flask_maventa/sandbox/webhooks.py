"""The sandbox's clock and webhook sender: a daemon thread that advances the state a few times a second
and POSTs due webhook deliveries, retrying non-2xx answers ``webhook_retries`` times.

The payload is OUR ASSUMPTION - Maventa does not document it (API-NOTES §7 and §13):
``{"event", "company_id", "id", "invoice_id", "status", "created_at"}`` as JSON, no signature.
A receiver should treat it as a hint and re-read the invoice through the API.
"""
from __future__ import annotations

import logging
import threading
import time

import httpx

from .state import Sandbox

__all__ = ["Ticker"]

log = logging.getLogger("flask_maventa.sandbox")


class Ticker(threading.Thread):
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
                except Exception:  # the clock must keep running whatever one tick did
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
