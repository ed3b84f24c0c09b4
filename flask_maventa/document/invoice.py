"""The invoice document: what the host adapter returns and the e-invoice is built from.

Frozen dataclasses with ``Decimal`` amounts, ``datetime.date`` dates and ``str`` ids, each
field documented below (the numbers in brackets are the EN 16931 business terms). The
same data has a JSON form (:meth:`InvoiceDocument.from_json` / :meth:`~InvoiceDocument.to_json`)
described by ``flask_maventa/schemas/invoice.schema.json``, so a host or a test can describe
an invoice without Python::

    {"number": "1001", "issue_date": "2025-03-01", "currency": "NOK",
     "seller": {...}, "buyer": {...}, "lines": [{"name": "Consulting", "quantity": "2",
     "unit_price": "1000", "vat_category": "S", "vat_rate": "25"}], ...}

Amounts are the host's figures with VAT excluded; totals and the VAT breakdown are
computed by :func:`flask_maventa.document.ubl.compute_totals` (the ERP's own VAT figures are used
within the tolerance of BR-CO-17, see :class:`VatAmount`). Missing business data (an
address, an identifier) is allowed here on purpose: the pre-flight check reports it with a
hint the finance user can act on. Blank is absent: an empty or whitespace-only text, ``None``
and an all-blank object mean "not given" (:class:`~flask_maventa.document.model.Blankless`).

The model's classes are grouped by part -- :mod:`.parties`, :mod:`.lines`, :mod:`.payment`, and here the
document itself with its references, attachments and VAT figures -- and all of them are importable from
here, the model's public entry point.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from . import jsonform
from . import schema as json_schema
from .findings import DocumentError, Finding
from .lines import AllowanceCharge, InvoiceLine, ItemAttribute, ItemClassification, Period
from .markers import N_
from .model import CURRENCY, VAT_CATEGORIES, Blankless, constrained, model
from .parties import Address, Delivery, Endpoint, Party, PartyIdentifier, Payee, TaxRepresentative
from .payment import PaymentCard, PaymentMeans

__all__ = [
    "N_",
    "SCHEMA_PATH",
    "Address",
    "AllowanceCharge",
    "Attachment",
    "Delivery",
    "DocumentError",
    "Endpoint",
    "Finding",
    "InvoiceDocument",
    "InvoiceLine",
    "InvoiceReference",
    "ItemAttribute",
    "ItemClassification",
    "Party",
    "PartyIdentifier",
    "Payee",
    "PaymentCard",
    "PaymentMeans",
    "Period",
    "Routing",
    "TaxRepresentative",
    "VatAmount",
]

SCHEMA_PATH = Path(__file__).with_name("invoice.schema.json")
DocumentType = Literal["invoice", "credit_note"]


@model
class InvoiceReference(Blankless):
    """A previous invoice this document refers to, e.g. the invoice a credit note credits [BG-3]."""

    number: str
    """Number of the referenced invoice [BT-25]."""
    issue_date: dt.date | None = None
    """Its issue date [BT-26]."""


@model
class Attachment(Blankless):
    """A supporting document [BG-24] (timesheet, specification, ...): embedded, at a URI, or only
    referenced by its id.

    Peppol allows PDF, PNG, JPEG, CSV, XLSX and ODS; Maventa allows 10 MB per file.
    """

    filename: str | None = constrained(default=None, max_length=200)
    """File name shown to the buyer, e.g. ``"timesheet_march.pdf"``; needed with ``content`` [BT-125-2]."""
    mime_code: str | None = None
    """MIME type, e.g. ``"application/pdf"``; needed with ``content`` [BT-125-1]."""
    content: bytes | None = None
    """The file itself (base64 in the JSON form) [BT-125]."""
    id: str | None = None
    """Reference of the document; defaults to the file name [BT-122]."""
    description: str | None = None
    """What the document is [BT-123]."""
    uri: str | None = None
    """Where the document can be fetched, instead of embedding it [BT-124]."""


@model
class VatAmount(Blankless):
    """The VAT of one category and rate as the ERP computed it [BT-117].

    An ERP that rounds VAT per line may differ from the VAT computed on the category total;
    within the tolerance of BR-CO-17 (less than one currency unit) the ERP's figure is used,
    so the e-invoice shows what the ERP's own invoice shows.
    """

    category: str = constrained(choices=VAT_CATEGORIES)
    """VAT category code [BT-118]."""
    amount: Decimal
    """VAT amount of the category [BT-117]."""
    rate: Decimal | None = None
    """VAT rate in percent [BT-119]; none for category ``O``."""


@dataclass(frozen=True)
class Routing:
    """How Maventa can reach the buyer: what the routing preview and the transfer job need."""

    eia: str | None
    """Electronic address ``"0192:123456789"``, or ``None``."""
    operator: str | None
    """Maventa operator code, or ``None``."""
    email: str | None
    """Buyer's invoicing email, or ``None``."""
    has_postal_address: bool
    """Street, post code, city and country are all known (print service possible)."""


@model
class InvoiceDocument(Blankless):
    """An invoice or a credit note, with everything the e-invoice needs."""

    number: str = constrained(max_length=200, rules=("BR-02",))
    """Invoice number, unique per seller [BT-1]."""
    issue_date: dt.date = constrained(rules=("BR-03",))
    """Issue date [BT-2]."""
    currency: str = constrained(pattern=CURRENCY, rules=("BR-05", "BR-CL-04"))
    """ISO 4217 code of the invoice currency, e.g. ``"NOK"`` [BT-5]."""
    seller: Party
    """The seller: the host company or department sending the invoice [BG-4]."""
    buyer: Party
    """The customer [BG-7]."""
    lines: tuple[InvoiceLine, ...] = ()
    """The lines; at least one is needed [BG-25]."""
    document_type: str = constrained(default="invoice", choices=("invoice", "credit_note"))
    """``"invoice"`` or ``"credit_note"``."""
    type_code: str | None = constrained(default=None, pattern=r"^[0-9]{1,3}$", rules=("BR-CL-01",))
    """UNTDID 1001 code; default ``380`` (commercial invoice) or ``381`` (credit note) [BT-3]."""
    due_date: dt.date | None = None
    """Payment due date [BT-9]."""
    tax_point_date: dt.date | None = None
    """VAT point date, when it differs from the issue date [BT-7]."""
    tax_point_date_code: str | None = None
    """Instead of ``tax_point_date``: UNTDID 2005 code of when VAT becomes due, ``"3"`` issue date,
    ``"35"`` delivery date, ``"432"`` payment date; written as the invoice period's description code [BT-8]."""
    language: str | None = constrained(default=None, pattern=r"^[a-z]{2}$")
    """ISO 639-1 code of the customer's language (``"nb"``, ``"fi"``, ``"sv"``, ``"en"``); not part of the UBL."""
    note: str | None = constrained(default=None, multiline=True)
    """Free text for the buyer (one note only in Peppol) [BT-22]."""
    buyer_reference: str | None = None
    """The buyer's reference (their "Deres ref." / "Viitteenne" / "Er referens"); this or
    ``order_reference`` is required [BT-10]."""
    order_reference: str | None = None
    """The buyer's purchase order number [BT-13]."""
    sales_order_reference: str | None = None
    """The seller's own order number [BT-14]."""
    contract_reference: str | None = None
    """Contract number [BT-12]."""
    project_reference: str | None = None
    """Project number [BT-11]."""
    despatch_advice_reference: str | None = None
    """The despatch advice (delivery note) the invoice is for [BT-16]."""
    receiving_advice_reference: str | None = None
    """The buyer's receiving advice [BT-15]."""
    tender_reference: str | None = None
    """The call for tender or lot the invoice belongs to [BT-17]."""
    invoiced_object: str | None = None
    """An identifier of the invoiced object, e.g. a metering point, subscription or vehicle [BT-18]."""
    invoiced_object_scheme: str | None = constrained(default=None, pattern=r"^[0-9A-Z]{1,3}$")
    """UNTDID 1153 scheme of ``invoiced_object``, e.g. ``"AVA"`` [BT-18-1]."""
    accounting_cost: str | None = None
    """Buyer's cost centre / accounting string for the whole invoice [BT-19]."""
    billing_references: tuple[InvoiceReference, ...] = ()
    """Previous invoices; a credit note names the invoice it credits here [BG-3]."""
    invoice_period: Period | None = None
    """Period the invoice covers [BG-14]."""
    delivery: Delivery | None = None
    """Delivery information [BG-13]."""
    payee: Payee | None = None
    """Who receives the payment when not the seller, e.g. a factoring company [BG-10]."""
    tax_representative: TaxRepresentative | None = None
    """The seller's VAT representative [BG-11]."""
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    """Document-level discounts and fees, each with its VAT category [BG-20/21]."""
    payment_means: tuple[PaymentMeans, ...] = ()
    """How to pay: bank account and payment reference [BG-16]."""
    payment_terms: str | None = constrained(default=None, multiline=True)
    """Payment terms in words, e.g. ``"14 days net, 8 % late interest"`` [BT-20]."""
    prepaid_amount: Decimal | None = None
    """Amount already paid, with VAT [BT-113]."""
    rounding_amount: Decimal | None = None
    """Rounding added to the total to reach the amount due (e.g. to whole kroner) [BT-114]."""
    tax_currency: str | None = constrained(default=None, pattern=CURRENCY, rules=("BR-CL-05",))
    """VAT accounting currency when it differs from ``currency`` (e.g. ``"NOK"`` on a EUR
    invoice of a Norwegian seller) [BT-6]."""
    tax_exchange_rate: Decimal | None = None
    """Units of ``tax_currency`` per one unit of ``currency``; the VAT total is converted with it [BT-111]."""
    expected_total: Decimal | None = None
    """The amount due as the ERP computed it (what its PDF shows); when given, the pre-flight
    check refuses a document whose computed amount due differs [compared with BT-115]."""
    expected_vat_total: Decimal | None = None
    """The VAT total as the ERP computed it [BT-110]. Within the tolerance of BR-CO-17 (less than one
    currency unit per VAT category) it is used as is: the difference goes to the largest category."""
    vat_amounts: tuple[VatAmount, ...] = ()
    """The VAT per category and rate as the ERP computed it [BT-117]; each is used when within the
    tolerance of BR-CO-17, otherwise the pre-flight check refuses the document."""
    attachments: tuple[Attachment, ...] = ()
    """Supporting documents to embed; the invoice PDF itself is passed to the builder separately [BG-24]."""

    # -- the JSON form ---------------------------------------------------------------

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | bytes) -> InvoiceDocument:
        """Build a document from its JSON form (a dict, or JSON text).

        Raises :class:`DocumentError` listing every field that does not match the schema.
        """
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data, parse_float=Decimal)
            except json.JSONDecodeError as e:
                raise DocumentError([Finding("JSON_SYNTAX", "error", "(document)",
                                             N_("The invoice data is not valid JSON: {error}."),
                                             N_("Correct the invoice data sent by the ERP."),
                                             {"error": str(e)})]) from None
        return jsonform.parse(cls, data)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (amounts as strings, dates as ``YYYY-MM-DD``, files as base64)."""
        return cast("dict[str, Any]", jsonform.dump(self))  # a dataclass dumps to an object

    # -- what the transfer job needs -------------------------------------------------

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == "credit_note"

    def routing(self) -> Routing:
        """How the buyer can be reached: Peppol address, Maventa operator, email, postal address."""
        buyer = self.buyer
        a = buyer.address
        return Routing(
            eia=endpoint.eia if (endpoint := buyer.effective_endpoint()) else None,
            operator=buyer.einvoice_operator or None,
            email=buyer.email or None,
            has_postal_address=bool(a and a.street and a.post_code and a.city and a.country),
        )


def schema() -> dict[str, Any]:
    """The JSON Schema of the JSON form (the file in the package is generated from this)."""
    return json_schema.schema(InvoiceDocument, title="flask-maventa invoice document",
                           schema_id="https://flask-maventa.invalid/schemas/invoice.schema.json")


if __name__ == "__main__":  # regenerate the schema file: python -m flask_maventa.document.invoice
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(json.dumps(schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
