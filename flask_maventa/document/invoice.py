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
and an all-blank object mean "not given" (:class:`~flask_maventa.document.jsonform.Blankless`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from . import jsonform
from .findings import DocumentError, Finding
from .jsonform import Blankless, constrained, model
from .markers import N_

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

_LEGAL_SCHEME_BY_COUNTRY = {"NO": "0192", "SE": "0007", "FI": "0212", "DK": "0184"}
SCHEMA_PATH = Path(__file__).with_name("invoice.schema.json")

COUNTRY = r"^[A-Z0-9]{2}$"
CURRENCY = r"^[A-Z]{3}$"
SCHEME = r"^[0-9A-Z]{2,4}$"
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M")
DocumentType = Literal["invoice", "credit_note"]


@model
class Address(Blankless):
    """A postal address (seller, buyer or delivery place)."""

    street: str | None = None
    """Street and number, first address line [BT-35/50/75]."""
    additional_street: str | None = None
    """Second address line, e.g. c/o or building [BT-36/51/76]."""
    city: str | None = None
    """City or town [BT-37/52/77]."""
    post_code: str | None = None
    """Post code [BT-38/53/78]."""
    country: str | None = constrained(default=None, pattern=COUNTRY)
    """ISO 3166-1 alpha-2 country code in capitals, e.g. ``"NO"`` [BT-40/55/80]."""
    subdivision: str | None = None
    """Region or county, when the address needs it [BT-39/54/79]."""


@model
class Endpoint(Blankless):
    """An electronic address in the Peppol network: scheme (EAS code) and identifier."""

    scheme: str = constrained(pattern=SCHEME)
    """Electronic Address Scheme code, e.g. ``"0192"`` (Norwegian org. number), ``"0007"``
    (Swedish org. number), ``"0216"`` (Finnish OVT code), ``"0184"`` (Danish CVR), ``"0088"`` (GLN)."""
    value: str = constrained(max_length=100)
    """The identifier within the scheme, e.g. ``"123456789"``."""

    @property
    def eia(self) -> str:
        """The Maventa/Peppol form ``scheme:value``, e.g. ``"0192:123456789"``."""
        return f"{self.scheme}:{self.value}"


@model
class PartyIdentifier(Blankless):
    """An extra identifier of a party (customer number at the buyer, GLN, ...) [BT-29/46]."""

    value: str
    """The identifier."""
    scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ISO 6523 ICD code of the scheme, e.g. ``"0088"``; none for a bilateral identifier."""


@model
class Party(Blankless):
    """The seller or the buyer."""

    name: str | None = None
    """Trading name as printed on the invoice [BT-28/45]."""
    registration_name: str | None = None
    """Legal name in the business register; defaults to ``name`` [BT-27/44]."""
    vat_number: str | None = None
    """VAT identifier with country prefix, e.g. ``"NO123456789MVA"``, ``"SE556677889901"``,
    ``"FI20774740"`` [BT-31/48]."""
    legal_id: str | None = None
    """Business registration number, e.g. Norwegian organisation number [BT-30/47]."""
    legal_id_scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ISO 6523 ICD code of ``legal_id``, e.g. ``"0192"`` (NO), ``"0007"`` (SE), ``"0212"`` (FI
    business id), ``"0184"`` (DK CVR)."""
    endpoint: Endpoint | None = None
    """Electronic address for Peppol delivery [BT-34/49]."""
    identifiers: tuple[PartyIdentifier, ...] = ()
    """Other identifiers of the party [BT-29/46]."""
    address: Address | None = None
    """Postal address [BG-5/8]."""
    email: str | None = None
    """Invoicing email; for the buyer, where an invoice goes when it cannot be delivered
    electronically (when the "send customer email" setting is on) [BT-43/58]."""
    contact_name: str | None = None
    """Contact person or department [BT-41/56]."""
    phone: str | None = None
    """Contact phone [BT-42/57]."""
    tax_registration: str | None = None
    """Seller only: the tax registration text the law asks for, e.g. ``"Foretaksregisteret"``
    (NO) or ``"Godkänd för F-skatt"`` (SE) [BT-32]."""
    legal_form: str | None = None
    """Seller only: additional legal information, e.g. share capital [BT-33]."""
    einvoice_operator: str | None = None
    """Buyer only: Maventa operator code for routing (e.g. ``"PEPPOL"``); not part of the UBL."""

    def effective_endpoint(self) -> Endpoint | None:
        """``endpoint``, or one derived from the legal identifier where the country's scheme is
        also a Peppol address scheme (NO 0192, SE 0007, DK 0184, FI business id → OVT 0216)."""
        if self.endpoint is not None:
            return self.endpoint
        if not self.legal_id:
            return None
        country = self.address.country if self.address else None
        scheme = self.legal_id_scheme or _LEGAL_SCHEME_BY_COUNTRY.get(country or "")
        value = self.legal_id.strip()
        if scheme == "0212":  # Finnish business id 1234567-8 → OVT code 003712345678
            return Endpoint("0216", "0037" + value.replace("-", ""))
        if scheme in ("0192", "0007", "0184", "0088"):
            return Endpoint(scheme, value)
        return None


@model
class Payee(Blankless):
    """Who receives the payment when it is not the seller, e.g. a factoring company [BG-10]."""

    name: str | None = None
    """Payee name [BT-59]."""
    identifier: str | None = None
    """Payee identifier, e.g. its GLN, or its SEPA creditor identifier with scheme ``"SEPA"`` [BT-60/BT-90]."""
    identifier_scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ISO 6523 ICD code of ``identifier`` (``"0088"`` GLN, ...), or ``"SEPA"``."""
    legal_id: str | None = None
    """Payee's business registration number [BT-61]."""
    legal_id_scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ISO 6523 ICD code of ``legal_id``, e.g. ``"0192"``."""


@model
class TaxRepresentative(Blankless):
    """The seller's VAT representative, when the seller has one in the buyer's country [BG-11]."""

    name: str | None = None
    """Tax representative name [BT-62]."""
    vat_number: str | None = None
    """Its VAT identifier with country prefix [BT-63]."""
    address: Address | None = None
    """Its postal address; the country is required [BG-12]."""


@model
class Period(Blankless):
    """A period of time, both ends included [BG-14/26]."""

    start: dt.date | None = None
    """First day [BT-73/134]."""
    end: dt.date | None = None
    """Last day [BT-74/135]."""


@model
class AllowanceCharge(Blankless):
    """A discount (allowance) or a fee (charge), on the document or on one line [BG-20/21/27/28].

    Give either ``amount``, or ``percent`` with ``base_amount`` (the amount is then computed
    and rounded to cents). Document-level ones carry their own VAT category; line-level ones
    follow the line's.
    """

    is_charge: bool = False
    """``true`` for a charge (fee), ``false`` for an allowance (discount)."""
    amount: Decimal | None = None
    """Amount without VAT, positive [BT-92/99/136/141]."""
    percent: Decimal | None = None
    """Percentage of ``base_amount``, e.g. ``10`` for 10 % [BT-94/101/138/143]."""
    base_amount: Decimal | None = None
    """What ``percent`` applies to [BT-93/100/137/142]."""
    reason: str | None = None
    """Reason in words, e.g. ``"Volume discount"`` [BT-97/104/139/144]."""
    reason_code: str | None = None
    """UNCL 5189 (allowance) or UNCL 7161 (charge) code, e.g. ``"95"``, ``"FC"`` [BT-98/105/140/145]."""
    vat_category: str | None = constrained(default=None, choices=VAT_CATEGORIES, rules=("BR-CL-17",))
    """Document level only: VAT category code (see :class:`InvoiceLine`) [BT-95/102]."""
    vat_rate: Decimal | None = None
    """Document level only: VAT rate in percent [BT-96/103]."""
    vat_exemption_reason: str | None = None
    """Document level only: why no VAT is charged, for a category (E, AE, K, G, O) that no line uses [BT-120]."""
    vat_exemption_reason_code: str | None = None
    """Document level only: VATEX code for the same, e.g. ``"VATEX-EU-O"`` [BT-121]."""


@model
class ItemClassification(Blankless):
    """A classification of the item in a public scheme, e.g. UNSPSC or CPV [BT-158]."""

    code: str
    """The class code, e.g. ``"43211503"`` [BT-158]."""
    list_id: str = constrained(pattern=r"^[0-9A-Z]{2,3}$")
    """UNTDID 7143 scheme of ``code``: ``"TST"`` UNSPSC, ``"STL"`` CPV, ``"HS"`` customs tariff, ... [BT-158-1]."""
    list_version: str | None = None
    """Version of the scheme, e.g. ``"19.05.01"`` for UNSPSC [BT-158-2]."""


@model
class ItemAttribute(Blankless):
    """A property of the item, e.g. colour or size [BG-32]."""

    name: str
    """Attribute name, e.g. ``"Colour"`` [BT-160]."""
    value: str
    """Attribute value, e.g. ``"Blue"`` [BT-161]."""


@model
class InvoiceLine(Blankless):
    """One invoice or credit note line [BG-25]."""

    quantity: Decimal = constrained(rules=("BR-22",))
    """Invoiced quantity; negative for a correction line on an invoice [BT-129]."""
    unit_price: Decimal = constrained(rules=("BR-26",))
    """Net price per ``price_base_quantity`` units, VAT excluded, never negative [BT-146]."""
    vat_category: str = constrained(choices=VAT_CATEGORIES, rules=("BR-CO-04", "BR-CL-18"))
    """VAT category code (UNCL 5305) [BT-151]: ``S`` standard rate, ``Z`` zero rated, ``E``
    exempt, ``AE`` reverse charge, ``K`` intra-community supply, ``G`` export outside the EU,
    ``O`` not subject to VAT (then the whole document must be ``O``), ``L``/``M`` Canary
    Islands / Ceuta and Melilla."""
    id: str | None = None
    """Line number; defaults to the position (1, 2, ...) [BT-126]."""
    name: str | None = None
    """Item name [BT-153]."""
    description: str | None = None
    """Longer item description [BT-154]."""
    unit_code: str = constrained(default="C62", pattern=r"^[0-9A-Z]{1,3}$")
    """UN/ECE Recommendation 20 unit: ``C62`` one, ``H87`` piece, ``HUR`` hour, ``DAY``, ``KGM``,
    ``MTR``, ``LTR``, ... [BT-130]."""
    vat_rate: Decimal | None = None
    """VAT rate in percent (``25``, ``15``, ``12``, ``6``, ``0``); leave out for category ``O`` [BT-152]."""
    vat_exemption_reason: str | None = None
    """Why no VAT is charged, in words (categories E, AE, K, G, O) [BT-120]."""
    vat_exemption_reason_code: str | None = None
    """VATEX code for the same, e.g. ``"VATEX-EU-AE"``, ``"VATEX-EU-IC"``, ``"VATEX-EU-G"`` [BT-121]."""
    price_base_quantity: Decimal | None = None
    """How many units ``unit_price`` is for (e.g. price per 100); default 1 [BT-149]."""
    gross_price: Decimal | None = None
    """List price before the price discount; ``unit_price`` is then the discounted price [BT-148]."""
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    """Line discounts and fees [BG-27/28]."""
    period: Period | None = None
    """Service period of this line [BG-26]."""
    order_line_reference: str | None = None
    """Line number in the buyer's purchase order [BT-132]."""
    accounting_cost: str | None = None
    """Buyer's cost centre / account for this line [BT-133]."""
    seller_item_id: str | None = None
    """Seller's article number [BT-155]."""
    buyer_item_id: str | None = None
    """Buyer's article number [BT-156]."""
    standard_item_id: str | None = None
    """Standard identifier of the item, by default a GTIN [BT-157]."""
    standard_item_scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ISO 6523 ICD scheme of ``standard_item_id``; default ``"0160"`` (GTIN) [BT-157-1]."""
    classifications: tuple[ItemClassification, ...] = ()
    """Item classifications, e.g. UNSPSC or CPV codes [BT-158]."""
    attributes: tuple[ItemAttribute, ...] = ()
    """Item attributes such as colour or size [BG-32]."""
    object_id: str | None = None
    """An identifier of an object the line is about, e.g. a subscription or metering point [BT-128]."""
    object_id_scheme: str | None = constrained(default=None, pattern=r"^[0-9A-Z]{1,3}$")
    """UNTDID 1153 scheme of ``object_id``, e.g. ``"AVA"`` [BT-128-1]."""
    origin_country: str | None = constrained(default=None, pattern=COUNTRY)
    """Country of origin of the item [BT-159]."""
    note: str | None = constrained(default=None, multiline=True)
    """Free text for this line [BT-127]."""


@model
class PaymentCard(Blankless):
    """A payment card [BG-18]; never the full card number."""

    account_number: str
    """The last 4 to 6 digits of the card number [BT-87]."""
    network: str = "NA"
    """Card network, e.g. ``"VISA"``, ``"MasterCard"``; UBL requires one (``"NA"`` when unknown)."""
    holder_name: str | None = None
    """Card holder name [BT-88]."""


@model
class PaymentMeans(Blankless):
    """How the buyer pays [BG-16]. Usually one bank transfer."""

    code: str = constrained(default="30", pattern=r"^[0-9A-Z]{1,3}$")
    """UNCL 4461 code: ``30`` credit transfer, ``58`` SEPA credit transfer, ``31`` debit transfer,
    ``42`` payment to bank account (Denmark), ``1`` not defined, ``48`` card, ``49``/``59``
    direct debit [BT-81]."""
    account: str | None = None
    """Payee account: IBAN, or a national account number (Norwegian 11 digits, Swedish
    bankgiro/plusgiro, Danish account) [BT-84]."""
    account_name: str | None = None
    """Account holder [BT-85]."""
    bic: str | None = None
    """BIC of the bank; for Swedish giro ``"SE:BANKGIRO"`` / ``"SE:PLUSGIRO"``, for a Danish
    account the registration number [BT-86]."""
    payment_id: str | None = None
    """Structured payment reference: KID (NO), viitenumero or RF reference (FI), OCR (SE),
    FIK/+71 (DK) [BT-83]."""
    mandate_id: str | None = None
    """Direct debit mandate reference (codes 49/59) [BT-89]."""
    payer_account: str | None = None
    """Direct debit: the buyer's account that is debited, e.g. for Danish Betalingsservice (code 49) [BT-91]."""
    text: str | None = None
    """Payment means in words, e.g. ``"Bank transfer"`` [BT-82]."""
    card: PaymentCard | None = None
    """Payment card the invoice was or will be paid with (code 48, 54, 55) [BG-18]."""


@model
class InvoiceReference(Blankless):
    """A previous invoice this document refers to, e.g. the invoice a credit note credits [BG-3]."""

    number: str
    """Number of the referenced invoice [BT-25]."""
    issue_date: dt.date | None = None
    """Its issue date [BT-26]."""


@model
class Delivery(Blankless):
    """Where and when the goods or services were delivered [BG-13]."""

    date: dt.date | None = None
    """Actual delivery date [BT-72]."""
    address: Address | None = None
    """Deliver-to address [BG-15]."""
    location_id: str | None = None
    """Deliver-to location identifier [BT-71]."""
    location_scheme: str | None = constrained(default=None, pattern=SCHEME)
    """ICD scheme of ``location_id``, e.g. ``"0088"`` for a GLN."""
    party_name: str | None = None
    """Deliver-to party name [BT-70]."""


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
    return jsonform.schema(InvoiceDocument, title="flask-maventa invoice document",
                           schema_id="https://flask-maventa.invalid/schemas/invoice.schema.json")


if __name__ == "__main__":  # regenerate the schema file: python -m flask_maventa.document.invoice
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(json.dumps(schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
