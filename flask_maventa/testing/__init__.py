"""Helpers for host apps' own tests: an in-memory host adapter and mailer, and a running sandbox Maventa.

    from flask_maventa.testing import MemoryAdapter, MemoryMailer
    adapter = MemoryAdapter()
    adapter.add_company(Company("1", "Fjord AS", "923456789", "NO", vat_number="NO923456789MVA"))
    Maventa(app, db=db, adapter=adapter, mailer=MemoryMailer())  # the error emails in mailer.outbox

The sandbox (:class:`flask_maventa.testing.sandbox.SandboxHandle`, needs the ``testing`` extra) comes
to pytest tests as the ``maventa_sandbox`` fixture with
``pytest_plugins = ["flask_maventa.testing.pytest_plugin"]`` in the host's ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from ..document.invoice import InvoiceDocument
from ..host import Company, HostAdapter, InvoiceStatus, Person

__all__ = ["MemoryAdapter", "MemoryMailer", "SentMail", "StoredInvoice"]


@dataclass
class SentMail:
    to: list[str]
    subject: str
    body: str


@dataclass
class MemoryMailer:
    """A mailer (``Maventa(mailer=...)``) that keeps what it is asked to send in ``outbox``."""

    outbox: list[SentMail] = field(default_factory=list)

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        self.outbox.append(SentMail(list(to), subject, body))


class StoredInvoice(TypedDict):
    company_id: str
    status_id: str
    document: InvoiceDocument | None
    pdf: bytes | None


@dataclass
class MemoryAdapter(HostAdapter):
    """Everything in dicts. ``allowed`` limits which companies the current user may manage
    (None: all). Status changes are recorded in ``status_changes``."""

    companies: dict[str, Company] = field(default_factory=dict)
    persons: dict[str, list[Person]] = field(default_factory=dict)
    statuses: dict[str, list[InvoiceStatus]] = field(default_factory=dict)
    invoices: dict[str, StoredInvoice] = field(default_factory=dict)
    allowed: set[str] | None = None
    status_changes: list[tuple[str, str]] = field(default_factory=list)
    actor: str | None = "tester@example.com"

    # -- building the fixture ----------------------------------------------------

    def add_company(self, company: Company, persons: Sequence[Person] = (),
                    statuses: Sequence[InvoiceStatus] = ()) -> Company:
        self.companies[company.id] = company
        self.persons[company.id] = list(persons)
        self.statuses[company.id] = list(statuses)
        return company

    def add_invoice(self, invoice_id: str, company_id: str, status_id: str, document: InvoiceDocument | None = None,
                    pdf: bytes | None = None) -> None:
        self.invoices[invoice_id] = {
            "company_id": company_id, "status_id": status_id, "document": document, "pdf": pdf,
        }

    # -- HostAdapter ------------------------------------------------------------

    def list_companies(self) -> Sequence[Company]:
        return list(self.companies.values())

    def list_persons(self, company_id: str) -> Sequence[Person]:
        return list(self.persons.get(company_id, ()))

    def list_invoice_statuses(self, company_id: str) -> Sequence[InvoiceStatus]:
        return list(self.statuses.get(company_id, ()))

    def list_invoice_ids(self, company_id: str, status_id: str, limit: int) -> Sequence[str]:
        ids = [i for i, inv in self.invoices.items()
               if inv["company_id"] == company_id and inv["status_id"] == status_id]
        return sorted(ids)[:limit]

    def get_invoice_document(self, invoice_id: str) -> InvoiceDocument:
        try:
            document = self.invoices[invoice_id]["document"]
        except KeyError:
            raise LookupError(f"No invoice {invoice_id!r} in the MemoryAdapter.") from None
        if document is None:
            raise LookupError(f"Invoice {invoice_id!r} has no document; pass document= to add_invoice().")
        return document

    def get_invoice_pdf(self, invoice_id: str) -> bytes | None:
        invoice = self.invoices.get(invoice_id)
        return invoice["pdf"] if invoice else None

    def set_invoice_status(self, invoice_id: str, status_id: str) -> None:
        self.invoices[invoice_id]["status_id"] = status_id
        self.status_changes.append((invoice_id, status_id))

    def can_manage(self, company_id: str) -> bool:
        return self.allowed is None or company_id in self.allowed

    def current_actor(self) -> str | None:
        return self.actor
