"""The sandbox's sent invoices: receiving an upload once per uuid, moving it to DELIVERED or FAILED on
the clock, and what tests may ask about them (``/_sandbox/invoices``). Mixed into ``Sandbox``.

Two answers Maventa may give that its documentation leaves open are knobs: a uuid it already has
(``duplicate_uuid``, handled by the view), and an invoice accepted now and failed later by its own
validation (``invalid_after_accept``: the invoice FAILS with an ERROR action carrying a Peppol rule).
"""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, cast

from .bodies import JSONData, UploadParams
from .documents import InvoiceFile, Receiver, Route, decide_route
from .knobs import Knobs

if TYPE_CHECKING:
    from .state import Company

__all__ = ["VALIDATION_FAILURE", "Invoice", "InvoiceBook"]

# What a late validation failure says (a real EN 16931 rule, as Maventa's validator words them).
VALIDATION_FAILURE = ("Invoice validation failed: [BR-CO-15]-Invoice total amount with VAT (BT-112) = Invoice "
                      "total amount without VAT (BT-109) + Invoice total VAT amount (BT-110).")


class Action(TypedDict):
    """An invoice action, as ``GET /v1/invoices/{id}/actions`` answers it."""

    type: str
    channel: str | None
    message: str
    key: str | None
    happened_at: str


class StoredFile(TypedDict):
    """A file of an invoice (the XML, the image), with its content."""

    id: str
    filename: str
    type: str
    mimetype: str
    content: bytes


class Receipt(TypedDict):
    """An upload that reached the sandbox (retries count)."""

    company_id: str
    uuid: str
    number: str | None
    received_at: str


@dataclass
class Invoice:
    id: str
    company_id: str
    doc: InvoiceFile
    params: UploadParams
    filename: str
    source_format: str
    created_at: float
    due_at: float
    status: str = "PENDING"
    route: Route | None = None
    invalid: bool = False                 # fails Maventa's own validation once due
    actions: list[Action] = field(default_factory=list)
    files: list[StoredFile] = field(default_factory=list)


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _action(type_: str, channel: str | None, message: str, key: str | None, at: float) -> Action:
    return {"type": type_, "channel": channel, "message": message, "key": key, "happened_at": _iso(at)}


class InvoiceBook:
    """Invoices, receipts and the receiver registry (needs ``lock``, ``knobs``, ``companies``, ``roll``)."""

    # What the Sandbox this is mixed into provides (declared for the type checker only).
    lock: threading.RLock
    knobs: Knobs
    companies: dict[str, Company]
    roll: Callable[[float], bool]
    notify: Callable[[Invoice, str, float], None]

    def reset_invoices(self) -> None:
        self.invoices: dict[tuple[str, str], Invoice] = {}
        self.receipts: list[Receipt] = []                # every POST /v1/invoices that reached us
        self.receivers: list[Receiver] = []

    def receive_invoice(self, company: Company, params: UploadParams, doc: InvoiceFile, filename: str,
                        content_type: str) -> tuple[Invoice, bool]:
        """Store an uploaded invoice; returns (invoice, created). A known uuid returns the existing one."""
        with self.lock:
            if self.companies.get(company.id) is not company:  # reset while this upload was read: it never came
                from .state import ApiError

                raise ApiError(401, "invalid_token", "The company is gone (the sandbox was reset)")
            invoice_id = params.get("uuid") or str(uuidlib.uuid4())
            self.receipts.append({"company_id": company.id, "uuid": invoice_id, "number": doc.number,
                                  "received_at": _iso(time.time())})
            existing = self.invoices.get((company.id, invoice_id))
            if existing is not None:
                return existing, False
            now = time.time()
            invoice = Invoice(id=invoice_id, company_id=company.id, doc=doc, params=params, filename=filename,
                              source_format=params.get("format") or ("PEPPOLBIS30" if doc.root in
                                                                     ("Invoice", "CreditNote") else "UNKNOWN"),
                              created_at=now, due_at=now + self.knobs.delivery_delay,
                              invalid=self.roll(self.knobs.invalid_after_accept))
            invoice.files.append({"id": str(uuidlib.uuid4()), "filename": doc.xml_name or filename, "type": "INVOICE",
                                  "mimetype": "application/xml", "content": doc.xml})
            if doc.pdf:
                invoice.files.append({"id": str(uuidlib.uuid4()), "filename": doc.image_name or "invoice.pdf",
                                      "type": "IMAGE", "mimetype": "application/pdf", "content": doc.pdf})
            invoice.actions.append(_action("CREATED", None, "Invoice created", "action_created", now))
            self.invoices[(company.id, invoice_id)] = invoice
            return invoice, True

    def finish(self, invoice: Invoice, route: Route, at: float | None = None) -> None:
        """Move a PENDING invoice to DELIVERED or FAILED and queue its webhooks."""
        at = time.time() if at is None else at
        invoice.route = route
        if route.delivered:
            invoice.status = "DELIVERED"
            sent_key = {"EMAIL": "action_sent_email", "PRINT": "action_sent_print"}.get(
                route.channel or "", "action_internal_sent")
            invoice.actions.append(_action("SENT", route.channel, f"Sent via {route.channel}", sent_key, at))
            invoice.actions.append(_action("DELIVERED", route.channel, route.message, "action_delivered", at))
            event = "DOCUMENTS.INVOICE.DELIVERED"
        else:
            invoice.status = "FAILED"
            invoice.actions.append(_action("ERROR", route.channel, route.message, route.key, at))
            event = "DOCUMENTS.INVOICE.FAILED"
        self.notify(invoice, event, at)

    def advance_invoices(self, now: float) -> None:
        for invoice in self.invoices.values():
            if invoice.status == "PENDING" and invoice.due_at <= now:
                if invoice.invalid:
                    self.finish(invoice, Route(False, None, None, None, "action_error", VALIDATION_FAILURE, []),
                                at=now)
                    continue
                company = self.companies.get(invoice.company_id)
                if company is None:  # nothing to route it by (cannot happen since receive_invoice checks)
                    continue
                block = company.settings["send_invoice_print"]
                settings = block if isinstance(block, dict) else {}
                self.finish(invoice, decide_route(invoice.doc, invoice.params, self.receivers,
                                                  bool(settings.get("enabled")), bool(settings.get("use_own_pdf"))),
                            at=now)

    # -- views of the state for /_sandbox ----------------------------------------------------------

    def received(self) -> Mapping[str, JSONData]:
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

    def summary(self, invoice: Invoice) -> Mapping[str, JSONData]:
        route, doc = invoice.route, invoice.doc
        return {"id": invoice.id, "company_id": invoice.company_id, "number": doc.number,
                "status": invoice.status, "created_at": _iso(invoice.created_at),
                "params": cast("dict[str, str | list[str]]", dict(invoice.params)), "upload": invoice.filename,
                # which own PDF the sandbox found: in the "zip" beside the XML, "embedded" in the UBL, or none
                "image": {"source": doc.image_source, "filename": doc.image_name},
                "route": None if route is None else {
                    "delivered": route.delivered, "channel": route.channel, "destination": route.destination,
                    "message": route.message, "tried": route.tried, "image": route.image}}
