"""What the sandbox reads from an uploaded invoice file, and how it routes it like Maventa does.

Reading: ``file`` is an XML invoice or a ZIP holding one (plus PDF image/attachments). The XML must be
well formed; for UBL formats the root must be an Invoice or CreditNote. A few fields (number, dates,
sums, parties, buyer address) are read namespace-agnostically so Finvoice-like files still parse.

Routing (Maventa's rules, API-NOTES §6 "Routing behaviour"): e-invoice, then email, then print.
- EIA and operator both given: only the e-invoice route, no fallback.
- ``email_settings[xml_format]``: email only, no fallback.
- ``disabled_routes`` removes routes.
- e-invoice needs the receiver's EIA in the lookup registry; email needs an address
  (``recipient_email`` or the buyer's email in the XML); print needs the company's print service
  enabled and a full postal address (street, post code, city, country).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

__all__ = ["InvoiceFile", "DocumentError", "read_invoice_file", "Route", "decide_route"]

UBL_FORMATS = {"EHF20", "PEPPOLBIS20", "PEPPOLBIS30", "SIUBL11", "SIUBL12", "SIUBL20", "OIOUBL", "OIOUBL21",
               "VISMAUBL10", "VISMAUBL30", "SVEFAKTURA10", "XRECHNUNG23UBL", "XRECHNUNG23EXTUBL",
               "XRECHNUNG30UBL", "XRECHNUNG30EXTUBL"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class DocumentError(ValueError):
    """The file is not an invoice the sandbox can accept; the message goes into ``details``."""


@dataclass
class InvoiceFile:
    xml: bytes
    root: str
    number: str | None = None
    reference: str | None = None
    date: str | None = None
    date_due: str | None = None
    currency: str = "EUR"
    sum: float = 0.0
    sum_tax: float = 0.0
    sender: dict = field(default_factory=dict)
    recipient: dict = field(default_factory=dict)
    recipient_email: str | None = None
    recipient_address: dict = field(default_factory=dict)
    pdf: bytes | None = None


def read_invoice_file(content: bytes, filename: str, format: str | None) -> InvoiceFile:
    pdf = None
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".zip"):
        content, pdf = _unzip(content)
    try:
        tree = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"file is not well-formed XML: {exc}") from None
    root = etree.QName(tree).localname
    if format in UBL_FORMATS and root not in ("Invoice", "CreditNote"):
        raise DocumentError(f"file is not a UBL Invoice or CreditNote (root element is {root})")
    doc = InvoiceFile(xml=content, root=root, pdf=pdf)
    doc.number = _text(tree, "./*[local-name()='ID']") or _text(tree, ".//*[local-name()='InvoiceNumber']")
    doc.date = _text(tree, "./*[local-name()='IssueDate']")
    doc.date_due = _text(tree, "./*[local-name()='DueDate']") or _text(
        tree, "./*[local-name()='PaymentMeans']/*[local-name()='PaymentDueDate']")
    doc.reference = _text(tree, ".//*[local-name()='PaymentMeans']/*[local-name()='PaymentID']")
    doc.currency = _text(tree, "./*[local-name()='DocumentCurrencyCode']") or "EUR"
    totals = "./*[local-name()='LegalMonetaryTotal']/*[local-name()='{}']"
    doc.sum = _amount(_text(tree, totals.format("TaxExclusiveAmount")))
    doc.sum_tax = _amount(_text(tree, totals.format("TaxInclusiveAmount")) or
                          _text(tree, totals.format("PayableAmount")))
    doc.sender = _party(tree, "AccountingSupplierParty")
    doc.recipient = _party(tree, "AccountingCustomerParty")
    buyer = "./*[local-name()='AccountingCustomerParty']/*[local-name()='Party']"
    doc.recipient_email = _text(tree, buyer + "/*[local-name()='Contact']/*[local-name()='ElectronicMail']")
    address = buyer + "/*[local-name()='PostalAddress']/*[local-name()='{}']"
    doc.recipient_address = {
        "street": _text(tree, address.format("StreetName")),
        "post_code": _text(tree, address.format("PostalZone")),
        "city": _text(tree, address.format("CityName")),
        "country": _text(tree, address.format("Country") + "/*[local-name()='IdentificationCode']"),
    }
    return doc


def _unzip(content: bytes) -> tuple[bytes, bytes | None]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        xml_names = [n for n in names if n.lower().endswith(".xml")]
        if len(xml_names) != 1:
            raise DocumentError(f"ZIP must hold exactly one XML invoice, found {len(xml_names)}")
        pdf_names = [n for n in names if n.lower().endswith(".pdf")]
        return archive.read(xml_names[0]), (archive.read(pdf_names[0]) if pdf_names else None)
    except zipfile.BadZipFile:
        raise DocumentError("file is not a valid ZIP archive") from None


def _text(tree, xpath: str) -> str | None:
    found = tree.xpath(xpath)
    if found and found[0].text and found[0].text.strip():
        return found[0].text.strip()
    return None


def _amount(text: str | None) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def _party(tree, role: str) -> dict:
    party = f"./*[local-name()='{role}']/*[local-name()='Party']"
    endpoint = tree.xpath(party + "/*[local-name()='EndpointID']")
    eia = None
    if endpoint and endpoint[0].text:
        scheme = endpoint[0].get("schemeID")
        eia = f"{scheme}:{endpoint[0].text.strip()}" if scheme else endpoint[0].text.strip()
    return {
        "eia": eia,
        "bid": _text(tree, party + "/*[local-name()='PartyLegalEntity']/*[local-name()='CompanyID']"),
        "name": _text(tree, party + "/*[local-name()='PartyLegalEntity']/*[local-name()='RegistrationName']")
        or _text(tree, party + "/*[local-name()='PartyName']/*[local-name()='Name']"),
        "country": _text(tree, party + "/*[local-name()='PostalAddress']/*[local-name()='Country']"
                               "/*[local-name()='IdentificationCode']"),
    }


@dataclass
class Route:
    delivered: bool
    channel: str | None          # EINVOICE, EMAIL, PRINT (None when nothing could be tried)
    destination: str | None      # the EIA, email address or "PRINT"
    operator: str | None
    key: str                     # Maventa action key of the outcome
    message: str
    tried: list[str]


def decide_route(doc: InvoiceFile, params: dict, receivers: list[dict], print_enabled: bool) -> Route:
    disabled = set(params.get("disabled_routes", []))
    eia = params.get("recipient_eia") or doc.recipient.get("eia")
    operator = params.get("recipient_operator")
    email = params.get("recipient_email") or doc.recipient_email
    if params.get("email_settings[xml_format]"):
        order = ["email"]
    elif params.get("recipient_eia") and operator:
        order = ["einvoice"]  # pinned route: no fallback
    else:
        order = ["einvoice", "email", "print"]
    order = [r for r in order if r not in disabled]
    tried = []
    for route in order:
        tried.append(route)
        if route == "einvoice" and eia:
            entry = next((r for r in receivers if r.get("eia") == eia and
                          (not operator or operator in (r.get("operator"), r.get("network")))), None)
            if entry:
                return Route(True, "EINVOICE", eia, entry.get("operator"), "action_delivered",
                             f"Delivered as e-invoice to {eia}", tried)
        elif route == "email" and email:
            return Route(True, "EMAIL", email, None, "action_sent_email", f"Sent by email to {email}", tried)
        elif route == "print" and print_enabled and all(doc.recipient_address.values()):
            return Route(True, "PRINT", "PRINT", None, "action_sent_print", "Sent to print service", tried)
    if not order:
        message = "All routes are disabled"
    elif order == ["einvoice"] and operator:
        message = f"Receiver {eia} was not found at operator {operator}"
    else:
        message = "No route found for the recipient (" + ", ".join(_why(r, eia, email, print_enabled, doc)
                                                                    for r in order) + ")"
    channel = {"einvoice": "EINVOICE", "email": "EMAIL", "print": "PRINT"}.get(tried[-1]) if tried else None
    return Route(False, channel, None, operator, "action_route_failed", message, tried)


def _why(route: str, eia: str | None, email: str | None, print_enabled: bool, doc: InvoiceFile) -> str:
    if route == "einvoice":
        return f"e-invoice: {eia} not in the receiver registry" if eia else "e-invoice: no EIA"
    if route == "email":
        return "email: no address"
    if not print_enabled:
        return "print: print service not enabled"
    return "print: incomplete postal address"
