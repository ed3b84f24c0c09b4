"""What the sandbox reads from an uploaded invoice file, and how it routes it like Maventa does.

Reading: ``file`` is an XML invoice or a ZIP holding one (plus PDF image/attachments). The XML must be
well formed; for UBL formats the root must be an Invoice or CreditNote. A few fields (number, dates,
sums, parties, buyer address) are read namespace-agnostically so Finvoice-like files still parse.

The invoice image (the sender's own PDF) is read from either form, and which one is recorded
(``image_source``): in a ZIP, the PDF named like the XML (``invoice.xml`` + ``invoice.pdf``), else its
only PDF; otherwise the first PDF embedded in the UBL (``AdditionalDocumentReference``). Maventa's own
rule for telling the image from attachments is undocumented; this is the published clients' convention.

Routing (Maventa's rules, API-NOTES §6 "Routing behaviour"): e-invoice, then email, then print.
- EIA and operator both given: only the e-invoice route, no fallback.
- ``email_settings[xml_format]``: email only, no fallback.
- ``disabled_routes`` removes routes.
- e-invoice needs the receiver's EIA in the lookup registry; email needs an address
  (``recipient_email`` or the buyer's email in the XML); print needs the company's print service
  enabled and a full postal address (street, post code, city, country).
"""
from __future__ import annotations

import base64
import binascii
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TypedDict

from lxml import etree

from .bodies import UploadParams

__all__ = ["DocumentError", "InvoiceFile", "Receiver", "Route", "decide_route", "read_invoice_file"]

UBL_FORMATS = {"EHF20", "PEPPOLBIS20", "PEPPOLBIS30", "SIUBL11", "SIUBL12", "SIUBL20", "OIOUBL", "OIOUBL21",
               "VISMAUBL10", "VISMAUBL30", "SVEFAKTURA10", "XRECHNUNG23UBL", "XRECHNUNG23EXTUBL",
               "XRECHNUNG30UBL", "XRECHNUNG30EXTUBL"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class DocumentError(ValueError):
    """The file is not an invoice the sandbox can accept; the message goes into ``details``."""


class Receiver(TypedDict):
    """An entry of the receiver registry, shaped as ``GET /v1/lookup/receivers`` answers it."""

    eia: str
    identifier: dict[str, str | None]
    network: str
    operator: str
    document_types: list[dict[str, str | None]]
    participant: dict[str, str | None]


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
    sender: dict[str, str | None] = field(default_factory=dict)
    recipient: dict[str, str | None] = field(default_factory=dict)
    recipient_email: str | None = None
    recipient_address: dict[str, str | None] = field(default_factory=dict)
    pdf: bytes | None = None             # the invoice image
    image_source: str | None = None      # where it was found: "zip" or "embedded" (None: no own image)
    image_name: str | None = None
    xml_name: str | None = None          # the XML's name inside a ZIP


def read_invoice_file(content: bytes, filename: str, format: str | None) -> InvoiceFile:
    pdf: bytes | None = None
    xml_name: str | None = None
    image_name: str | None = None
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".zip"):
        content, xml_name, pdf, image_name = _unzip(content)
    try:
        tree = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"file is not well-formed XML: {exc}") from None
    root = etree.QName(tree).localname
    if format in UBL_FORMATS and root not in ("Invoice", "CreditNote"):
        raise DocumentError(f"file is not a UBL Invoice or CreditNote (root element is {root})")
    doc = InvoiceFile(xml=content, root=root, pdf=pdf, xml_name=xml_name, image_name=image_name,
                      image_source="zip" if pdf else None)
    if pdf is None:
        doc.pdf, doc.image_name = _embedded_pdf(tree)
        doc.image_source = "embedded" if doc.pdf else None
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


def _unzip(content: bytes) -> tuple[bytes, str, bytes | None, str | None]:
    """(xml, its name, image pdf, its name): the image is the PDF named like the XML, else the only PDF."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        xml_names = [n for n in names if n.lower().endswith(".xml")]
        if len(xml_names) != 1:
            raise DocumentError(f"ZIP must hold exactly one XML invoice, found {len(xml_names)}")
        pdf_names = [n for n in names if n.lower().endswith(".pdf")]
        stem = PurePosixPath(xml_names[0]).stem.lower()
        image = next((n for n in pdf_names if PurePosixPath(n).stem.lower() == stem), None)
        if image is None and len(pdf_names) == 1:
            image = pdf_names[0]
        return archive.read(xml_names[0]), xml_names[0], (archive.read(image) if image else None), image
    except zipfile.BadZipFile:
        raise DocumentError("file is not a valid ZIP archive") from None


def _nodes(tree: etree._Element, xpath: str) -> list[etree._Element]:
    """The elements an XPath selects (every XPath here selects elements)."""
    found = tree.xpath(xpath)
    return [node for node in found if isinstance(node, etree._Element)] if isinstance(found, list) else []


def _embedded_pdf(tree: etree._Element) -> tuple[bytes | None, str | None]:
    """The first PDF embedded in a UBL ``AdditionalDocumentReference`` (base64), with its filename."""
    for node in _nodes(tree, "./*[local-name()='AdditionalDocumentReference']/*[local-name()='Attachment']"
                           "/*[local-name()='EmbeddedDocumentBinaryObject']"):
        if (node.get("mimeCode") or "").lower() != "application/pdf" or not node.text:
            continue
        try:
            return base64.b64decode("".join(node.text.split()), validate=True), node.get("filename")
        except (binascii.Error, ValueError):
            continue
    return None, None


def _text(tree: etree._Element, xpath: str) -> str | None:
    found = _nodes(tree, xpath)
    if found and found[0].text and found[0].text.strip():
        return found[0].text.strip()
    return None


def _amount(text: str | None) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def _party(tree: etree._Element, role: str) -> dict[str, str | None]:
    party = f"./*[local-name()='{role}']/*[local-name()='Party']"
    endpoint = _nodes(tree, party + "/*[local-name()='EndpointID']")
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
    image: str | None = None     # the image an email or letter carried: "zip", "embedded" or "generated"


def _image(doc: InvoiceFile, params: UploadParams, channel: str, use_own_pdf: bool) -> str | None:
    """Email carries the sender's own image when there is one; print only when asked to (per invoice
    ``print_settings[print_own_image]``, else the company's ``use_own_pdf``), else Maventa's own."""
    if not doc.pdf:
        return "generated"
    if channel == "PRINT":
        asked = params.get("print_settings[print_own_image]")
        own = asked == "true" if asked is not None else use_own_pdf
        return doc.image_source if own else "generated"
    return doc.image_source


def decide_route(doc: InvoiceFile, params: UploadParams, receivers: list[Receiver], print_enabled: bool,
                 use_own_pdf: bool = False) -> Route:
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
    tried: list[str] = []
    for route in order:
        tried.append(route)
        if route == "einvoice" and eia:
            entry = next((r for r in receivers if r.get("eia") == eia and
                          (not operator or operator in (r.get("operator"), r.get("network")))), None)
            if entry:
                return Route(True, "EINVOICE", eia, entry.get("operator"), "action_delivered",
                             f"Delivered as e-invoice to {eia}", tried)
        elif route == "email" and email:
            return Route(True, "EMAIL", email, None, "action_sent_email", f"Sent by email to {email}", tried,
                         _image(doc, params, "EMAIL", use_own_pdf))
        elif route == "print" and print_enabled and all(doc.recipient_address.values()):
            return Route(True, "PRINT", "PRINT", None, "action_sent_print", "Sent to print service", tried,
                         _image(doc, params, "PRINT", use_own_pdf))
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
