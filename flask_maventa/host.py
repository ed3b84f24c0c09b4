"""The boundary with the host ERP.

The host owns companies, persons, invoice statuses and invoices. The extension never
touches host tables: it asks one :class:`HostAdapter` and gets back these frozen
dataclasses with string ids. The adapter never commits; the extension commits its own
rows and the host's status change in one transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .document.invoice import Address

if TYPE_CHECKING:
    from .document.invoice import InvoiceDocument

__all__ = ["HOST_ID_LENGTH", "Address", "Company", "HostAdapter", "InvoiceStatus", "Person", "storable_id"]

HOST_ID_LENGTH = 64  # the extension's columns for host ids (company, invoice, person, status)


def storable_id(value: str) -> bool:
    """Can a host id be kept in our tables? At most HOST_ID_LENGTH characters, no NUL (PostgreSQL refuses it)."""
    return 0 < len(value) <= HOST_ID_LENGTH and "\x00" not in value


@dataclass(frozen=True)
class Company:
    """A company, or a department when ``parent_id`` is set.

    A department may be configured on its own only when it is its own organisation,
    which the product defines as having its own VAT number.
    """

    id: str
    name: str
    business_id: str
    country: str
    vat_number: str | None = None
    address: Address | None = None
    email: str | None = None
    parent_id: str | None = None

    @property
    def is_department(self) -> bool:
        return self.parent_id is not None

    @property
    def eligible(self) -> bool:
        return bool(self.vat_number and self.vat_number.strip())


@dataclass(frozen=True)
class Person:
    """Someone who may get the Maventa user account or sign the agreement."""

    id: str
    first_name: str
    last_name: str
    email: str
    language: str = "en"  # ISO 639-1 ("nb", "fi", "sv", "en", ...)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class InvoiceStatus:
    id: str
    name: str
    is_sent: bool = False  # the host's "Sent" flag: such a status can never be the transfer status


class HostAdapter(ABC):
    """What the extension needs from the host ERP. Subclass it and pass it to ``Maventa``.

    Ids are strings of at most :data:`HOST_ID_LENGTH` characters (an integer key or a UUID fits); an
    invoice with a longer id is left alone by the sweep and named in the worker's log.

    Every method runs inside the host's app context and request (when there is one), so
    it may use ``flask_login.current_user`` or the like.
    """

    @abstractmethod
    def list_companies(self) -> Sequence[Company]:
        """All companies and departments, departments with ``parent_id`` set."""

    @abstractmethod
    def list_persons(self, company_id: str) -> Sequence[Person]:
        """Candidates for the Maventa user account and for the approver who signs."""

    @abstractmethod
    def list_invoice_statuses(self, company_id: str) -> Sequence[InvoiceStatus]:
        """The invoice statuses usable by this company (the host's own, with their Sent flag)."""

    @abstractmethod
    def list_invoice_ids(self, company_id: str, status_id: str, limit: int) -> Sequence[str]:
        """Ids of at most ``limit`` invoices of this company currently in ``status_id``.

        Called by every sweep: it must be an indexed query, cheap however large the
        invoice table is.
        """

    @abstractmethod
    def get_invoice_document(self, invoice_id: str) -> InvoiceDocument:
        """Everything the e-invoice needs (see :mod:`flask_maventa.document.invoice`; the README's table lists
        every EN 16931 business term and the field that carries it). Leave out what the ERP does not
        know: an empty text, ``None`` or an all-empty object count as not given."""

    @abstractmethod
    def set_invoice_status(self, invoice_id: str, status_id: str) -> None:
        """Change the invoice's status in the current session. Never commit here."""

    @abstractmethod
    def can_manage(self, company_id: str) -> bool:
        """May the current user manage the Maventa integration of this company?"""

    def get_invoice_pdf(self, invoice_id: str) -> bytes | None:
        """The host's own invoice PDF, sent when "send PDF" is on. ``None``: no PDF."""
        return None

    # -- optional batch reads: a worker claims up to 2 x MAVENTA_SEND_CONCURRENCY invoices at once -------

    def get_invoice_documents(self, invoice_ids: Sequence[str]) -> Mapping[str, InvoiceDocument]:
        """:meth:`get_invoice_document` of several invoices at once, by invoice id: one query for a worker's
        whole batch instead of one (or, through an ORM, several) per invoice.

        Leave out any invoice you cannot read: it is read with :meth:`get_invoice_document` when it is sent,
        so its error is reported for it alone. Default: none read ahead, each is read as it is sent.
        ``flask maventa doctor`` compares the two reads on a waiting invoice."""
        return {}

    def get_invoice_pdfs(self, invoice_ids: Sequence[str]) -> Mapping[str, bytes | None]:
        """:meth:`get_invoice_pdf` of several invoices at once, by invoice id (``None``: that invoice has no
        PDF). As with :meth:`get_invoice_documents`, one left out is read on its own; default: none."""
        return {}

    def status_settings_url(self, company_id: str) -> str | None:
        """Where the host edits invoice statuses (linked from the Sent-flag message)."""
        return None

    def status_url(self, company_id: str, status_id: str) -> str | None:
        """Where the host edits this one status: the Sent-flag message links there, so the user lands on the
        offending status (e.g. the settings page with ``#status-<id>``). Default: :meth:`status_settings_url`."""
        return self.status_settings_url(company_id)

    def current_actor(self) -> str | None:
        """Who is acting, for the audit trail (e.g. the user's email). ``None``: unknown."""
        return None

    # -- helpers built on the abstract methods ------------------------------------

    def get_company(self, company_id: str) -> Company | None:
        return next((c for c in self.list_companies() if c.id == company_id), None)
