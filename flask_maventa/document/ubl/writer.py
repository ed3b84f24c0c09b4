"""The UBL writer: the document's groups in schema order, its references and attachments.

:class:`UblWriter` puts together the writers of each part (parties, amounts, lines) on the element
plumbing of :mod:`.nodes`; plain inheritance, so no element costs an extra call.
"""

from __future__ import annotations

import re

from ..invoice import InvoiceDocument, PaymentMeans
from .lines import LineWriter
from .nodes import Node
from .parties import PartyWriter

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
_UNSAFE_FILENAME = re.compile(r"[^a-z0-9._]+")


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


class UblWriter(PartyWriter, LineWriter):
    """Writes one document; each method writes one UBL group in schema order."""

    # -- the document ----------------------------------------------------------------

    def document(self, pdf: bytes | None, pdf_filename: str | None) -> Node:
        doc, credit = self.doc, self.doc.is_credit_note
        root = Node(None, "CreditNote" if credit else "Invoice")
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

    def attachments(self, root: Node, pdf: bytes | None, pdf_filename: str | None) -> None:
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
