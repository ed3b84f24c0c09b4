"""The lines of the invoice model: :class:`InvoiceLine` with its item (classifications, attributes),
the allowances and charges (on a line or on the whole document) and :class:`Period`.
The numbers in brackets are the EN 16931 business terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .model import COUNTRY, SCHEME, VAT_CATEGORIES, Blankless, constrained, model


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
