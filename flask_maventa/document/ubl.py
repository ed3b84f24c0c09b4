"""InvoiceDocument → Peppol BIS Billing 3.0 UBL 2.1 ``Invoice`` or ``CreditNote``.

:func:`build_ubl` first runs the pre-flight document checks: a document it cannot
represent raises :class:`~flask_maventa.document.findings.DocumentError` listing every problem,
and no XML is returned at all. Amounts come from :func:`compute_totals` (one place).
Text is escaped as lxml escapes it (:func:`write_ubl` serialises the same elements through lxml);
characters XML 1.0 cannot carry (control characters, lone surrogates) are dropped, and empty
values leave their element out (PEPPOL-EN16931-R008).

The commands around it (``flask maventa render-ubl`` / ``check``) are in :mod:`flask_maventa.cli.documents`.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from decimal import Decimal

from lxml import etree

from .findings import DocumentError, errors
from .invoice import (
    Address,
    AllowanceCharge,
    Delivery,
    InvoiceDocument,
    InvoiceLine,
    Party,
    Payee,
    PaymentMeans,
    Period,
    TaxRepresentative,
)
from .jsonform import without_not_xml
from .preflight import check_document
from .totals import Totals, allowance_amount, compute_totals, money, vat_key

__all__ = [
    "CUSTOMIZATION_ID",
    "PROFILE_ID",
    "build_ubl",
    "compute_totals",
    "pdf_attachment_filename",
]

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS = {
    "invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "credit_note": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
GTIN_SCHEME = "0160"
_UNSAFE_FILENAME = re.compile(r"[^a-z0-9._]+")


def build_ubl(doc: InvoiceDocument, *, pdf: bytes | None = None, pdf_filename: str | None = None) -> bytes:
    """The UBL XML (UTF-8 bytes) of ``doc``; ``pdf`` is our own invoice PDF to embed.

    Raises :class:`DocumentError` with every problem at once when the document cannot be
    represented (nothing is written in that case).
    """
    totals = compute_totals(doc)
    problems = errors(check_document(doc, pdf=pdf, totals=totals))
    if problems:
        raise DocumentError(problems)
    writer = _UblWriter(doc, totals, track_origin=False)
    return writer.serialize(writer.document(pdf, pdf_filename))


def write_ubl(doc: InvoiceDocument, totals: Totals | None = None, *, pdf: bytes | None = None,
              pdf_filename: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The UBL of ``doc`` without any check, and the JSON-form field each element came from
    (keyed by the element's path, ``lxml``'s ``getpath``).

    :func:`build_ubl` is the one to call; this is for mapping official findings back to the
    fields, and for tests that need the XML of a broken document. Its XML is serialised by lxml
    (the tree is needed for the paths), so it also checks that :func:`build_ubl`'s own serialiser
    writes the same bytes (tests/ubl/test_corpus.py).
    """
    writer = _UblWriter(doc, totals or compute_totals(doc))
    root, elements = writer.to_lxml(writer.document(pdf, pdf_filename))
    tree = root.getroottree()
    origin = {tree.getpath(elements[node]): field for node, field in writer.origin.items()}
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return writer.embed_files(xml), origin


def pdf_attachment_filename(doc: InvoiceDocument) -> str:
    """Our PDF's file name inside the e-invoice, within Maventa's ``[a-z0-9._]``, 50 characters rule."""
    return safe_filename(f"invoice_{doc.number}.pdf")


def safe_filename(name: str) -> str:
    """A file name Maventa accepts: lower case ``[a-z0-9._]``, at most 50 characters, extension kept."""
    stem, dot, ext = name.lower().rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = _UNSAFE_FILENAME.sub("_", stem).strip("._") or "attachment"
    ext = _UNSAFE_FILENAME.sub("", ext)[:10]
    return stem[: 50 - len(ext) - 1] + "." + ext if ext else stem[:50]


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = without_not_xml(str(value))
    return text if text.strip() else ""  # the model (Blankless) has stripped what must be stripped


# -- the elements and their serialisation -----------------------------------------------------------------

class _Node:
    """One element of the document being written; ``tag`` has its prefix (``cbc:ID``).

    Plain objects instead of lxml elements: a namespaced lxml element costs ~3 µs to make and an
    invoice has a hundred or more, most of :func:`build_ubl`'s time. :func:`write_ubl` turns the
    nodes into lxml elements (it needs their paths); :func:`build_ubl` does not, so there an element
    without children (every ``cbc:``) is written straight away, as the XML text lxml would write for it
    (:func:`_leaf`), and the containers (``cac:``) are nodes holding that text.
    """

    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, parent: _Node | None, tag: str, attrs: dict[str, str] | None = None,
                 text: str | None = None) -> None:
        self.tag, self.attrs, self.text = tag, attrs, text
        self.children: list[_Node | str] = []
        if parent is not None:
            parent.children.append(self)


# What libxml2 escapes in text and in attribute values (lxml's serialiser); the search skips the
# translate for the usual text that has none of them.
_TEXT_SPECIAL = re.compile("[&<>\r]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


def _leaf(tag: str, attrs: dict[str, str] | None, text: str) -> str:
    """An element with text and no children, as libxml2 writes it."""
    start = "<" + tag
    if attrs:
        for name, value in attrs.items():
            if _ATTR_SPECIAL.search(value):
                value = value.translate(_ATTR_ESCAPES)
            start += f' {name}="{value}"'
    if _TEXT_SPECIAL.search(text):
        text = text.translate(_TEXT_ESCAPES)
    return f"{start}>{text}</{tag}>"


def _write(node: _Node | str, out: list[str]) -> None:
    """Append a container (its leaves written already) as XML text to ``out``; ``<a/>`` when it is empty."""
    if isinstance(node, str):
        out.append(node)
    elif not node.children:
        out.append(f"<{node.tag}/>")
    else:
        out.append(f"<{node.tag}>")
        for child in node.children:
            _write(child, out)
        out.append(f"</{node.tag}>")


class _UblWriter:
    """Writes one document; each method writes one UBL group in schema order.

    ``origin`` remembers which JSON-form field each element was written from, so an official
    rule that fails on an element can be reported on the field the finance user can change
    (:func:`write_ubl`; :func:`build_ubl` does not need it).
    """

    def __init__(self, doc: InvoiceDocument, totals: Totals, *, track_origin: bool = True) -> None:
        self.doc, self.totals = doc, totals
        self.currency = doc.currency
        self.namespace = NS[doc.document_type]
        self.origin: dict[_Node, str] = {}
        self.track = track_origin
        self.nonce = secrets.token_hex(8)
        self.embedded: list[tuple[bytes, bytes]] = []  # (placeholder, file content) -- see embed()

    def embed(self, content: bytes) -> str:
        """The element text standing for ``content`` until :meth:`serialize` writes its base64 there.

        A PDF is most of an invoice's bytes: its base64 goes straight into the serialized document
        (base64 needs no escaping) instead of through the serialiser, which would copy, check and escape
        it again.
        """
        if not content:
            return ""
        marker = f"embedded-{self.nonce}-{len(self.embedded)}"
        self.embedded.append((marker.encode("ascii"), content))
        return marker

    def embed_files(self, xml: bytes) -> bytes:
        for marker, content in self.embedded:
            xml = xml.replace(marker, base64.b64encode(content), 1)
        return xml

    def serialize(self, root: _Node) -> bytes:
        """The document's bytes, exactly as ``etree.tostring(..., xml_declaration=True, encoding="UTF-8")``
        writes the same elements (see :meth:`to_lxml`)."""
        out = [f"<?xml version='1.0' encoding='UTF-8'?>\n<{root.tag} xmlns=\"{self.namespace}\" "
               f"xmlns:cac=\"{CAC}\" xmlns:cbc=\"{CBC}\">"]
        for child in root.children:
            _write(child, out)
        out.append(f"</{root.tag}>")
        return self.embed_files("".join(out).encode("utf-8"))

    def to_lxml(self, root: _Node) -> tuple[etree._Element, dict[_Node, etree._Element]]:
        """The same document as lxml elements, and the element made for each node."""
        namespaces = {"cac": CAC, "cbc": CBC}
        nsmap: dict[str | None, str] = {None: self.namespace, "cac": CAC, "cbc": CBC}
        top = etree.Element(f"{{{self.namespace}}}{root.tag}", nsmap=nsmap)
        elements = {root: top}
        pending = [root]
        while pending:
            node = pending.pop()
            element = elements[node]
            element.text = node.text
            for child in node.children:
                assert isinstance(child, _Node), "write_ubl tracks origins: every element is a node"
                prefix, _, local = child.tag.partition(":")
                elements[child] = etree.SubElement(element, f"{{{namespaces[prefix]}}}{local}", child.attrs)
                pending.append(child)
        return top, elements

    # small helpers: an element is written only when it has a value (R008: no empty elements)
    def leaf(self, parent: _Node, tag: str, attrs: dict[str, str] | None, text: str, src: str | None) -> None:
        if not self.track:
            parent.children.append(_leaf(tag, attrs, text))
            return
        el = _Node(parent, tag, attrs, text)
        if src:
            self.origin[el] = src

    def cbc(self, parent: _Node, name: str, value: object, src: str | None = None, /, **attrs: str | None) -> None:
        if value is None:
            return
        text = _text(value)
        if text:
            self.leaf(parent, "cbc:" + name, {k: _text(v) for k, v in attrs.items() if v} if attrs else None,
                      text, src)

    def cac(self, parent: _Node, name: str, src: str | None = None) -> _Node:
        el = _Node(parent, "cac:" + name)
        if src and self.track:
            self.origin[el] = src
        return el

    def amount(self, parent: _Node, name: str, value: Decimal, currency: str | None = None,
               src: str | None = None) -> None:
        self.leaf(parent, "cbc:" + name, {"currencyID": currency or self.currency}, format(value, "f"), src)

    def reference(self, parent: _Node, name: str, value: str | None, src: str) -> None:
        """A ``cac:*Reference`` holding only an id: written only when the id is (BR-55, R008)."""
        if value:
            self.cbc(self.cac(parent, name, src), "ID", value, src)

    # -- the document ----------------------------------------------------------------

    def document(self, pdf: bytes | None, pdf_filename: str | None) -> _Node:
        doc, credit = self.doc, self.doc.is_credit_note
        root = _Node(None, "CreditNote" if credit else "Invoice")
        self.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        self.cbc(root, "ProfileID", PROFILE_ID)
        self.cbc(root, "ID", doc.number, "number")
        self.cbc(root, "IssueDate", doc.issue_date, "issue_date")
        if credit:
            self.cbc(root, "TaxPointDate", doc.tax_point_date, "tax_point_date")
            self.cbc(root, "CreditNoteTypeCode", doc.type_code or "381", "type_code")
            self.cbc(root, "Note", doc.note, "note")
        else:
            self.cbc(root, "DueDate", doc.due_date, "due_date")
            self.cbc(root, "InvoiceTypeCode", doc.type_code or "380", "type_code")
            self.cbc(root, "Note", doc.note, "note")
            self.cbc(root, "TaxPointDate", doc.tax_point_date, "tax_point_date")
        self.cbc(root, "DocumentCurrencyCode", doc.currency, "currency")
        self.cbc(root, "TaxCurrencyCode", doc.tax_currency, "tax_currency")
        self.cbc(root, "AccountingCost", doc.accounting_cost, "accounting_cost")
        self.cbc(root, "BuyerReference", doc.buyer_reference, "buyer_reference")
        if doc.invoice_period or doc.tax_point_date_code:
            self.period(root, doc.invoice_period, "invoice_period", code=doc.tax_point_date_code)
        if doc.order_reference or doc.sales_order_reference:
            ref = self.cac(root, "OrderReference", "order_reference")
            # BT-14 alone still needs an order id: "NA" is the Peppol convention
            self.cbc(ref, "ID", doc.order_reference or "NA", "order_reference")
            self.cbc(ref, "SalesOrderID", doc.sales_order_reference, "sales_order_reference")
        for i, billed in enumerate(doc.billing_references):
            src = f"billing_references[{i}]"
            ref = self.cac(self.cac(root, "BillingReference", src), "InvoiceDocumentReference", src)
            self.cbc(ref, "ID", billed.number, f"{src}.number")
            self.cbc(ref, "IssueDate", billed.issue_date, f"{src}.issue_date")
        self.reference(root, "DespatchDocumentReference", doc.despatch_advice_reference, "despatch_advice_reference")
        self.reference(root, "ReceiptDocumentReference", doc.receiving_advice_reference, "receiving_advice_reference")
        if not credit:
            self.reference(root, "OriginatorDocumentReference", doc.tender_reference, "tender_reference")
        self.reference(root, "ContractDocumentReference", doc.contract_reference, "contract_reference")
        if doc.invoiced_object:
            ref = self.cac(root, "AdditionalDocumentReference", "invoiced_object")
            self.cbc(ref, "ID", doc.invoiced_object, "invoiced_object", schemeID=doc.invoiced_object_scheme)
            self.cbc(ref, "DocumentTypeCode", "130")
        self.attachments(root, pdf, pdf_filename)
        if doc.project_reference:
            if credit:  # no ProjectReference in a UBL CreditNote: Peppol uses type code 50
                ref = self.cac(root, "AdditionalDocumentReference", "project_reference")
                self.cbc(ref, "ID", doc.project_reference, "project_reference")
                self.cbc(ref, "DocumentTypeCode", "50")
            else:
                self.reference(root, "ProjectReference", doc.project_reference, "project_reference")
        if credit:
            self.reference(root, "OriginatorDocumentReference", doc.tender_reference, "tender_reference")
        self.party(self.cac(root, "AccountingSupplierParty", "seller"), doc.seller, "seller")
        self.party(self.cac(root, "AccountingCustomerParty", "buyer"), doc.buyer, "buyer")
        if doc.payee:
            self.payee(root, doc.payee)
        if doc.tax_representative:
            self.tax_representative(root, doc.tax_representative)
        if doc.delivery:
            self.delivery(root, doc.delivery)
        for i, means in enumerate(self.payment_means_list()):
            self.payment_means(root, means, f"payment_means[{i}]" if doc.payment_means else "due_date")
        if doc.payment_terms:
            self.cbc(self.cac(root, "PaymentTerms", "payment_terms"), "Note", doc.payment_terms, "payment_terms")
        for i, ac in enumerate(doc.allowances_charges):
            self.allowance_charge(root, ac, f"allowances_charges[{i}]", with_tax=True)
        self.tax_total(root)
        self.monetary_total(root)
        for index, (line, amount) in enumerate(zip(doc.lines, self.totals.line_amounts, strict=False), start=1):
            self.line(root, index, line, amount)
        return root

    def payment_means_list(self) -> tuple[PaymentMeans, ...]:
        """A credit note carries its due date in a payment means (there is no other place in a UBL
        CreditNote): without one, a payment means "1" (instrument not defined) holds the date."""
        doc = self.doc
        if doc.is_credit_note and doc.due_date and not doc.payment_means:
            return (PaymentMeans(code="1"),)
        return doc.payment_means

    def period(self, parent: _Node, period: Period | None, src: str, code: str | None = None) -> None:
        el = self.cac(parent, "InvoicePeriod", src)
        if period:
            self.cbc(el, "StartDate", period.start, f"{src}.start")
            self.cbc(el, "EndDate", period.end, f"{src}.end")
        self.cbc(el, "DescriptionCode", code, "tax_point_date_code")

    def attachments(self, root: _Node, pdf: bytes | None, pdf_filename: str | None) -> None:
        files: list[tuple[str, str | None, str | None, str | None, str | None, bytes | None, str | None]] = []
        if pdf is not None:
            name: str | None = safe_filename(pdf_filename) if pdf_filename else pdf_attachment_filename(self.doc)
            files.append(("pdf", self.doc.number, "Invoice", "application/pdf", name, pdf, None))
        for i, a in enumerate(self.doc.attachments):
            name = safe_filename(a.filename) if a.filename else None
            files.append((f"attachments[{i}]", a.id or name, a.description, a.mime_code, name, a.content, a.uri))
        for src, ref_id, description, mime, name, content, uri in files:
            ref = self.cac(root, "AdditionalDocumentReference", src)
            self.cbc(ref, "ID", ref_id, f"{src}.id")
            self.cbc(ref, "DocumentDescription", description, f"{src}.description")
            if content is None and not uri:
                continue
            attachment = self.cac(ref, "Attachment", src)
            if content is not None:
                self.leaf(attachment, "cbc:EmbeddedDocumentBinaryObject",
                          {k: v for k, v in (("mimeCode", mime), ("filename", name)) if v}, self.embed(content),
                          f"{src}.content")
            if uri:
                self.cbc(self.cac(attachment, "ExternalReference", f"{src}.uri"), "URI", uri, f"{src}.uri")

    def address(self, parent: _Node, name: str, address: Address | None, src: str) -> None:
        if address is None:
            return
        el = self.cac(parent, name, src)
        self.cbc(el, "StreetName", address.street, f"{src}.street")
        self.cbc(el, "AdditionalStreetName", address.additional_street, f"{src}.additional_street")
        self.cbc(el, "CityName", address.city, f"{src}.city")
        self.cbc(el, "PostalZone", address.post_code, f"{src}.post_code")
        self.cbc(el, "CountrySubentity", address.subdivision, f"{src}.subdivision")
        if address.country:
            self.cbc(self.cac(el, "Country", f"{src}.country"), "IdentificationCode", address.country,
                     f"{src}.country")

    def party(self, wrapper: _Node, p: Party, src: str) -> None:
        seller = src == "seller"
        party = self.cac(wrapper, "Party", src)
        endpoint = p.effective_endpoint()
        if endpoint:
            e = "endpoint" if p.endpoint else "legal_id"
            self.cbc(party, "EndpointID", endpoint.value, f"{src}.{e}", schemeID=endpoint.scheme)
        for i, ident in enumerate(p.identifiers):
            isrc = f"{src}.identifiers[{i}]"
            self.cbc(self.cac(party, "PartyIdentification", isrc), "ID", ident.value, f"{isrc}.value",
                     schemeID=ident.scheme)
        if p.name:
            self.cbc(self.cac(party, "PartyName", f"{src}.name"), "Name", p.name, f"{src}.name")
        self.address(party, "PostalAddress", p.address, f"{src}.address")
        if p.vat_number and not self.only_outside_vat():
            scheme = self.cac(party, "PartyTaxScheme", f"{src}.vat_number")
            self.cbc(scheme, "CompanyID", p.vat_number, f"{src}.vat_number")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        if seller and p.tax_registration:
            scheme = self.cac(party, "PartyTaxScheme", f"{src}.tax_registration")
            self.cbc(scheme, "CompanyID", p.tax_registration, f"{src}.tax_registration")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "TAX")
        legal = self.cac(party, "PartyLegalEntity", f"{src}.registration_name")
        self.cbc(legal, "RegistrationName", p.registration_name or p.name,
                 f"{src}.registration_name" if p.registration_name else f"{src}.name")
        self.cbc(legal, "CompanyID", p.legal_id, f"{src}.legal_id", schemeID=p.legal_id_scheme)
        if seller:
            self.cbc(legal, "CompanyLegalForm", p.legal_form, f"{src}.legal_form")
        if p.contact_name or p.phone or p.email:
            contact = self.cac(party, "Contact", src)
            self.cbc(contact, "Name", p.contact_name, f"{src}.contact_name")
            self.cbc(contact, "Telephone", p.phone, f"{src}.phone")
            self.cbc(contact, "ElectronicMail", p.email, f"{src}.email")

    def payee(self, root: _Node, p: Payee) -> None:
        party = self.cac(root, "PayeeParty", "payee")
        if p.identifier:
            self.cbc(self.cac(party, "PartyIdentification", "payee.identifier"), "ID", p.identifier,
                     "payee.identifier", schemeID=p.identifier_scheme)
        if p.name:
            self.cbc(self.cac(party, "PartyName", "payee.name"), "Name", p.name, "payee.name")
        if p.legal_id:
            self.cbc(self.cac(party, "PartyLegalEntity", "payee.legal_id"), "CompanyID", p.legal_id,
                     "payee.legal_id", schemeID=p.legal_id_scheme)

    def tax_representative(self, root: _Node, r: TaxRepresentative) -> None:
        party = self.cac(root, "TaxRepresentativeParty", "tax_representative")
        if r.name:
            self.cbc(self.cac(party, "PartyName", "tax_representative.name"), "Name", r.name,
                     "tax_representative.name")
        self.address(party, "PostalAddress", r.address, "tax_representative.address")
        if r.vat_number:
            scheme = self.cac(party, "PartyTaxScheme", "tax_representative.vat_number")
            self.cbc(scheme, "CompanyID", r.vat_number, "tax_representative.vat_number")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")

    def only_outside_vat(self) -> bool:
        """BR-O-02/03/04: a document outside the scope of VAT carries no VAT identifiers."""
        return bool(self.totals.breakdown) and all(s.category == "O" for s in self.totals.breakdown)

    def delivery(self, root: _Node, d: Delivery) -> None:
        el = self.cac(root, "Delivery", "delivery")
        self.cbc(el, "ActualDeliveryDate", d.date, "delivery.date")
        if d.location_id or d.address:
            loc = self.cac(el, "DeliveryLocation", "delivery")
            self.cbc(loc, "ID", d.location_id, "delivery.location_id", schemeID=d.location_scheme)
            self.address(loc, "Address", d.address, "delivery.address")
        if d.party_name:
            self.cbc(self.cac(self.cac(el, "DeliveryParty", "delivery.party_name"), "PartyName"), "Name",
                     d.party_name, "delivery.party_name")

    def payment_means(self, root: _Node, means: PaymentMeans, src: str) -> None:
        el = self.cac(root, "PaymentMeans", src)
        self.cbc(el, "PaymentMeansCode", means.code, f"{src}.code", name=means.text)
        if self.doc.is_credit_note:
            self.cbc(el, "PaymentDueDate", self.doc.due_date, "due_date")
        self.cbc(el, "PaymentID", means.payment_id, f"{src}.payment_id")
        if means.card:
            card = self.cac(el, "CardAccount", f"{src}.card")
            self.cbc(card, "PrimaryAccountNumberID", means.card.account_number, f"{src}.card.account_number")
            self.cbc(card, "NetworkID", means.card.network, f"{src}.card.network")
            self.cbc(card, "HolderName", means.card.holder_name, f"{src}.card.holder_name")
        if means.account:
            account = self.cac(el, "PayeeFinancialAccount", f"{src}.account")
            self.cbc(account, "ID", means.account.replace(" ", ""), f"{src}.account")
            self.cbc(account, "Name", means.account_name, f"{src}.account_name")
            if means.bic:
                self.cbc(self.cac(account, "FinancialInstitutionBranch", f"{src}.bic"), "ID", means.bic,
                         f"{src}.bic")
        if means.mandate_id or means.payer_account:
            mandate = self.cac(el, "PaymentMandate", f"{src}.mandate_id")
            self.cbc(mandate, "ID", means.mandate_id, f"{src}.mandate_id")
            if means.payer_account:
                self.cbc(self.cac(mandate, "PayerFinancialAccount", f"{src}.payer_account"), "ID",
                         means.payer_account.replace(" ", ""), f"{src}.payer_account")

    def tax_category(self, parent: _Node, name: str, category: str, rate: Decimal | None, src: str,
                     reason: str | None = None, reason_code: str | None = None) -> None:
        el = self.cac(parent, name, src)
        self.cbc(el, "ID", category, f"{src}.vat_category")
        if category != "O":
            self.cbc(el, "Percent", rate if rate is not None else Decimal(0), f"{src}.vat_rate")
        self.cbc(el, "TaxExemptionReasonCode", reason_code, f"{src}.vat_exemption_reason_code")
        self.cbc(el, "TaxExemptionReason", reason, f"{src}.vat_exemption_reason")
        self.cbc(self.cac(el, "TaxScheme"), "ID", "VAT")

    def allowance_charge(self, parent: _Node, ac: AllowanceCharge, src: str, *, with_tax: bool) -> None:
        el = self.cac(parent, "AllowanceCharge", src)
        self.cbc(el, "ChargeIndicator", "true" if ac.is_charge else "false", f"{src}.is_charge")
        self.cbc(el, "AllowanceChargeReasonCode", ac.reason_code, f"{src}.reason_code")
        self.cbc(el, "AllowanceChargeReason", ac.reason, f"{src}.reason")
        # Percent and base amount go together or not at all (PEPPOL-EN16931-R041/R042)
        base = ac.base_amount if ac.percent is not None else None
        if base is not None:
            self.cbc(el, "MultiplierFactorNumeric", ac.percent, f"{src}.percent")
        if ac.amount is not None or base is not None:  # no amount to write: pre-flight refuses it (BR-31/36/41/43)
            self.amount(el, "Amount", allowance_amount(ac), src=f"{src}.amount")
        if base is not None:
            self.amount(el, "BaseAmount", money(base), src=f"{src}.base_amount")
        if with_tax:
            category, rate = vat_key(ac.vat_category, ac.vat_rate)
            self.tax_category(el, "TaxCategory", category, rate, src)

    def tax_total(self, root: _Node) -> None:
        t = self.totals
        total = self.cac(root, "TaxTotal", "lines")
        self.amount(total, "TaxAmount", t.tax_amount, src="expected_vat_total")
        for s in t.breakdown:
            src = self.breakdown_source(s.category, s.rate)
            sub = self.cac(total, "TaxSubtotal", src)
            self.amount(sub, "TaxableAmount", s.taxable_amount, src=src)
            self.amount(sub, "TaxAmount", s.tax_amount, src=src)
            self.tax_category(sub, "TaxCategory", s.category, s.rate, src, s.exemption_reason,
                              s.exemption_reason_code)
        if t.tax_amount_in_tax_currency is not None:
            self.amount(self.cac(root, "TaxTotal", "tax_exchange_rate"), "TaxAmount", t.tax_amount_in_tax_currency,
                        currency=self.doc.tax_currency, src="tax_exchange_rate")

    def breakdown_source(self, category: str, rate: Decimal | None) -> str:
        """The first line (else document allowance/charge) of a VAT breakdown row: where its
        category, rate and exemption reason come from."""
        for i, line in enumerate(self.doc.lines):
            if vat_key(line.vat_category, line.vat_rate) == (category, rate):
                return f"lines[{i}]"
        for i, ac in enumerate(self.doc.allowances_charges):
            if vat_key(ac.vat_category, ac.vat_rate) == (category, rate):
                return f"allowances_charges[{i}]"
        return "lines"

    def monetary_total(self, root: _Node) -> None:
        t = self.totals
        el = self.cac(root, "LegalMonetaryTotal", "lines")
        self.amount(el, "LineExtensionAmount", t.line_extension_amount)
        self.amount(el, "TaxExclusiveAmount", t.tax_exclusive_amount)
        self.amount(el, "TaxInclusiveAmount", t.tax_inclusive_amount)
        if self.doc.allowances_charges:
            self.amount(el, "AllowanceTotalAmount", t.allowance_total, src="allowances_charges")
            self.amount(el, "ChargeTotalAmount", t.charge_total, src="allowances_charges")
        if self.doc.prepaid_amount is not None:
            self.amount(el, "PrepaidAmount", t.prepaid_amount, src="prepaid_amount")
        if self.doc.rounding_amount is not None:
            self.amount(el, "PayableRoundingAmount", t.rounding_amount, src="rounding_amount")
        self.amount(el, "PayableAmount", t.payable_amount, src="expected_total")

    def line(self, root: _Node, index: int, line: InvoiceLine, amount: Decimal) -> None:
        credit = self.doc.is_credit_note
        src = f"lines[{index - 1}]"
        el = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine", src)
        self.cbc(el, "ID", line.id or str(index), f"{src}.id")
        self.cbc(el, "Note", line.note, f"{src}.note")
        self.cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", line.quantity, f"{src}.quantity",
                 unitCode=line.unit_code)
        self.amount(el, "LineExtensionAmount", amount, src=src)
        self.cbc(el, "AccountingCost", line.accounting_cost, f"{src}.accounting_cost")
        if line.period:
            self.period(el, line.period, f"{src}.period")
        if line.order_line_reference:
            self.cbc(self.cac(el, "OrderLineReference", f"{src}.order_line_reference"), "LineID",
                     line.order_line_reference, f"{src}.order_line_reference")
        if line.object_id:
            ref = self.cac(el, "DocumentReference", f"{src}.object_id")
            self.cbc(ref, "ID", line.object_id, f"{src}.object_id", schemeID=line.object_id_scheme)
            self.cbc(ref, "DocumentTypeCode", "130")
        for j, ac in enumerate(line.allowances_charges):
            self.allowance_charge(el, ac, f"{src}.allowances_charges[{j}]", with_tax=False)
        item = self.cac(el, "Item", src)
        self.cbc(item, "Description", line.description, f"{src}.description")
        self.cbc(item, "Name", line.name, f"{src}.name")
        for name, value in (("BuyersItemIdentification", line.buyer_item_id),
                            ("SellersItemIdentification", line.seller_item_id)):
            field = f"{src}.{'buyer' if name.startswith('Buyers') else 'seller'}_item_id"
            if value:
                self.cbc(self.cac(item, name, field), "ID", value, field)
        if line.standard_item_id:
            self.cbc(self.cac(item, "StandardItemIdentification", f"{src}.standard_item_id"), "ID",
                     line.standard_item_id, f"{src}.standard_item_id",
                     schemeID=line.standard_item_scheme or GTIN_SCHEME)
        if line.origin_country:
            self.cbc(self.cac(item, "OriginCountry", f"{src}.origin_country"), "IdentificationCode",
                     line.origin_country, f"{src}.origin_country")
        for j, c in enumerate(line.classifications):
            csrc = f"{src}.classifications[{j}]"
            self.cbc(self.cac(item, "CommodityClassification", csrc), "ItemClassificationCode", c.code,
                     f"{csrc}.code", listID=c.list_id, listVersionID=c.list_version)
        category, rate = vat_key(line.vat_category, line.vat_rate)
        self.tax_category(item, "ClassifiedTaxCategory", category, rate, src)
        for j, a in enumerate(line.attributes):
            asrc = f"{src}.attributes[{j}]"
            prop = self.cac(item, "AdditionalItemProperty", asrc)
            self.cbc(prop, "Name", a.name, f"{asrc}.name")
            self.cbc(prop, "Value", a.value, f"{asrc}.value")
        price = self.cac(el, "Price", f"{src}.unit_price")
        self.amount(price, "PriceAmount", line.unit_price, src=f"{src}.unit_price")
        if line.price_base_quantity is not None:
            self.cbc(price, "BaseQuantity", line.price_base_quantity, f"{src}.price_base_quantity",
                     unitCode=line.unit_code)
        if line.gross_price is not None:
            discount = self.cac(price, "AllowanceCharge", f"{src}.gross_price")
            self.cbc(discount, "ChargeIndicator", "false")
            self.amount(discount, "Amount", line.gross_price - line.unit_price, src=f"{src}.gross_price")
            self.amount(discount, "BaseAmount", line.gross_price, src=f"{src}.gross_price")
