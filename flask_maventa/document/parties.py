"""The parties of the invoice model: seller and buyer (:class:`Party`, with their addresses and
identifiers), the payee, the seller's tax representative, and where the goods went (:class:`Delivery`).
The numbers in brackets are the EN 16931 business terms."""

from __future__ import annotations

import datetime as dt

from .model import COUNTRY, SCHEME, Blankless, constrained, model

_LEGAL_SCHEME_BY_COUNTRY = {"NO": "0192", "SE": "0007", "FI": "0212", "DK": "0184"}


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
