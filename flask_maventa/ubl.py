"""InvoiceDocument → Peppol BIS Billing 3.0 UBL 2.1 ``Invoice`` or ``CreditNote`` (lxml).

:func:`build_ubl` first runs the pre-flight document checks: a document it cannot
represent raises :class:`~flask_maventa.findings.DocumentError` listing every problem,
and no XML is returned at all. Amounts come from :func:`compute_totals` (one place).
Text is escaped by lxml; characters XML 1.0 cannot carry (control characters, lone
surrogates) are dropped, and empty values leave their element out (PEPPOL-EN16931-R008).

Also a command: ``python -m flask_maventa.ubl INVOICE.json [--pdf FILE]`` prints the UBL,
and the click commands :data:`render_ubl_command` / :data:`check_command` that the
``flask maventa`` group registers.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import sys
from decimal import Decimal
from pathlib import Path

import click
from lxml import etree

from .findings import DocumentError, errors
from .invoice import Address, AllowanceCharge, InvoiceDocument, InvoiceLine, Party, PaymentMeans
from .totals import Totals, allowance_amount, compute_totals, vat_key

__all__ = ["build_ubl", "compute_totals", "pdf_attachment_filename", "render_ubl_command", "check_command",
           "CUSTOMIZATION_ID", "PROFILE_ID"]

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

NS = {
    "invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "credit_note": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNSAFE_FILENAME = re.compile(r"[^a-z0-9._]+")


def build_ubl(doc: InvoiceDocument, *, pdf: bytes | None = None, pdf_filename: str | None = None) -> bytes:
    """The UBL XML (UTF-8 bytes) of ``doc``; ``pdf`` is our own invoice PDF to embed.

    Raises :class:`DocumentError` with every problem at once when the document cannot be
    represented (nothing is written in that case).
    """
    from .preflight import check_document  # the checks use the builder's totals; import late

    totals = compute_totals(doc)
    problems = errors(check_document(doc, pdf=pdf, totals=totals))
    if problems:
        raise DocumentError(problems)
    return etree.tostring(_UblWriter(doc, totals).document(pdf, pdf_filename),
                          xml_declaration=True, encoding="UTF-8")


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
    return _NOT_XML.sub("", str(value)).strip()


class _UblWriter:
    """Writes one document; each method writes one UBL group in schema order."""

    def __init__(self, doc: InvoiceDocument, totals: Totals):
        self.doc, self.totals = doc, totals
        self.currency = doc.currency

    # small helpers: an element is written only when it has a value (R008: no empty elements)
    def cbc(self, parent, name: str, value, **attrs):
        if value is None:
            return None
        text = _text(value)
        if not text:
            return None
        el = etree.SubElement(parent, f"{{{CBC}}}{name}", {k: v for k, v in attrs.items() if v is not None})
        el.text = text
        return el

    def cac(self, parent, name: str):
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def amount(self, parent, name: str, value: Decimal, currency: str | None = None):
        el = etree.SubElement(parent, f"{{{CBC}}}{name}", currencyID=currency or self.currency)
        el.text = format(value, "f")
        return el

    # -- the document ----------------------------------------------------------------

    def document(self, pdf: bytes | None, pdf_filename: str | None):
        doc, credit = self.doc, self.doc.is_credit_note
        root = etree.Element(f"{{{NS[doc.document_type]}}}{'CreditNote' if credit else 'Invoice'}",
                             nsmap={None: NS[doc.document_type], "cac": CAC, "cbc": CBC})
        self.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        self.cbc(root, "ProfileID", PROFILE_ID)
        self.cbc(root, "ID", doc.number)
        self.cbc(root, "IssueDate", doc.issue_date)
        if credit:
            self.cbc(root, "TaxPointDate", doc.tax_point_date)
            self.cbc(root, "CreditNoteTypeCode", doc.type_code or "381")
            self.cbc(root, "Note", doc.note)
        else:
            self.cbc(root, "DueDate", doc.due_date)
            self.cbc(root, "InvoiceTypeCode", doc.type_code or "380")
            self.cbc(root, "Note", doc.note)
            self.cbc(root, "TaxPointDate", doc.tax_point_date)
        self.cbc(root, "DocumentCurrencyCode", doc.currency)
        self.cbc(root, "TaxCurrencyCode", doc.tax_currency)
        self.cbc(root, "AccountingCost", doc.accounting_cost)
        self.cbc(root, "BuyerReference", doc.buyer_reference)
        if doc.invoice_period:
            self.period(root, doc.invoice_period)
        if doc.order_reference or doc.sales_order_reference:
            ref = self.cac(root, "OrderReference")
            # BT-14 alone still needs an order id: "NA" is the Peppol convention
            self.cbc(ref, "ID", doc.order_reference or "NA")
            self.cbc(ref, "SalesOrderID", doc.sales_order_reference)
        for billed in doc.billing_references:
            ref = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(ref, "ID", billed.number)
            self.cbc(ref, "IssueDate", billed.issue_date)
        if doc.contract_reference:
            self.cbc(self.cac(root, "ContractDocumentReference"), "ID", doc.contract_reference)
        self.attachments(root, pdf, pdf_filename)
        if doc.project_reference:
            if credit:  # no ProjectReference in a UBL CreditNote: Peppol uses type code 50
                ref = self.cac(root, "AdditionalDocumentReference")
                self.cbc(ref, "ID", doc.project_reference)
                self.cbc(ref, "DocumentTypeCode", "50")
            else:
                self.cbc(self.cac(root, "ProjectReference"), "ID", doc.project_reference)
        self.party(self.cac(root, "AccountingSupplierParty"), doc.seller, seller=True)
        self.party(self.cac(root, "AccountingCustomerParty"), doc.buyer, seller=False)
        if doc.delivery:
            self.delivery(root)
        for means in doc.payment_means:
            self.payment_means(root, means)
        if doc.payment_terms:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", doc.payment_terms)
        for ac in doc.allowances_charges:
            self.allowance_charge(root, ac, with_tax=True)
        self.tax_total(root)
        self.monetary_total(root)
        for index, (line, amount) in enumerate(zip(doc.lines, self.totals.line_amounts), start=1):
            self.line(root, index, line, amount)
        return root

    def period(self, parent, period):
        el = self.cac(parent, "InvoicePeriod")
        self.cbc(el, "StartDate", period.start)
        self.cbc(el, "EndDate", period.end)

    def attachments(self, root, pdf: bytes | None, pdf_filename: str | None):
        files = []
        if pdf is not None:
            name = safe_filename(pdf_filename) if pdf_filename else pdf_attachment_filename(self.doc)
            files.append((self.doc.number, "Invoice", "application/pdf", name, pdf))
        for a in self.doc.attachments:
            name = safe_filename(a.filename)
            files.append((a.id or name, a.description, a.mime_code, name, a.content))
        for ref_id, description, mime, name, content in files:
            ref = self.cac(root, "AdditionalDocumentReference")
            self.cbc(ref, "ID", ref_id)
            self.cbc(ref, "DocumentDescription", description)
            obj = etree.SubElement(self.cac(ref, "Attachment"), f"{{{CBC}}}EmbeddedDocumentBinaryObject",
                                   mimeCode=mime, filename=name)
            obj.text = base64.b64encode(content).decode("ascii")

    def address(self, parent, name: str, address: Address | None):
        if address is None:
            return
        el = self.cac(parent, name)
        self.cbc(el, "StreetName", address.street)
        self.cbc(el, "AdditionalStreetName", address.additional_street)
        self.cbc(el, "CityName", address.city)
        self.cbc(el, "PostalZone", address.post_code)
        self.cbc(el, "CountrySubentity", address.subdivision)
        self.cbc(self.cac(el, "Country"), "IdentificationCode", address.country)

    def party(self, wrapper, p: Party, *, seller: bool):
        party = self.cac(wrapper, "Party")
        endpoint = p.effective_endpoint()
        if endpoint:
            self.cbc(party, "EndpointID", endpoint.value, schemeID=endpoint.scheme)
        for ident in p.identifiers:
            self.cbc(self.cac(party, "PartyIdentification"), "ID", ident.value, schemeID=ident.scheme)
        if p.name:
            self.cbc(self.cac(party, "PartyName"), "Name", p.name)
        self.address(party, "PostalAddress", p.address)
        if p.vat_number and not self.only_outside_vat():
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", p.vat_number)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        if seller and p.tax_registration:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", p.tax_registration)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "TAX")
        legal = self.cac(party, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", p.registration_name or p.name)
        self.cbc(legal, "CompanyID", p.legal_id, schemeID=p.legal_id_scheme)
        if seller:
            self.cbc(legal, "CompanyLegalForm", p.legal_form)
        if p.contact_name or p.phone or p.email:
            contact = self.cac(party, "Contact")
            self.cbc(contact, "Name", p.contact_name)
            self.cbc(contact, "Telephone", p.phone)
            self.cbc(contact, "ElectronicMail", p.email)

    def only_outside_vat(self) -> bool:
        """BR-O-02/03/04: a document outside the scope of VAT carries no VAT identifiers."""
        return bool(self.totals.breakdown) and all(s.category == "O" for s in self.totals.breakdown)

    def delivery(self, root):
        d = self.doc.delivery
        el = self.cac(root, "Delivery")
        self.cbc(el, "ActualDeliveryDate", d.date)
        if d.location_id or d.address:
            loc = self.cac(el, "DeliveryLocation")
            self.cbc(loc, "ID", d.location_id, schemeID=d.location_scheme)
            self.address(loc, "Address", d.address)
        if d.party_name:
            self.cbc(self.cac(self.cac(el, "DeliveryParty"), "PartyName"), "Name", d.party_name)

    def payment_means(self, root, means: PaymentMeans):
        el = self.cac(root, "PaymentMeans")
        self.cbc(el, "PaymentMeansCode", means.code)
        if self.doc.is_credit_note:
            self.cbc(el, "PaymentDueDate", self.doc.due_date)
        self.cbc(el, "PaymentID", means.payment_id)
        if means.account:
            account = self.cac(el, "PayeeFinancialAccount")
            self.cbc(account, "ID", means.account.replace(" ", ""))
            self.cbc(account, "Name", means.account_name)
            if means.bic:
                self.cbc(self.cac(account, "FinancialInstitutionBranch"), "ID", means.bic)
        if means.mandate_id:
            self.cbc(self.cac(el, "PaymentMandate"), "ID", means.mandate_id)

    def tax_category(self, parent, name: str, category: str, rate: Decimal | None,
                     reason: str | None = None, reason_code: str | None = None):
        el = self.cac(parent, name)
        self.cbc(el, "ID", category)
        if category != "O":
            self.cbc(el, "Percent", rate if rate is not None else Decimal(0))
        self.cbc(el, "TaxExemptionReasonCode", reason_code)
        self.cbc(el, "TaxExemptionReason", reason)
        self.cbc(self.cac(el, "TaxScheme"), "ID", "VAT")

    def allowance_charge(self, parent, ac: AllowanceCharge, *, with_tax: bool):
        el = self.cac(parent, "AllowanceCharge")
        self.cbc(el, "ChargeIndicator", "true" if ac.is_charge else "false")
        self.cbc(el, "AllowanceChargeReasonCode", ac.reason_code)
        self.cbc(el, "AllowanceChargeReason", ac.reason)
        # Percent and base amount go together or not at all (PEPPOL-EN16931-R041/R042)
        has_base = ac.percent is not None and ac.base_amount is not None
        if has_base:
            self.cbc(el, "MultiplierFactorNumeric", ac.percent)
        self.amount(el, "Amount", allowance_amount(ac))
        if has_base:
            self.amount(el, "BaseAmount", ac.base_amount.quantize(Decimal("0.01")))
        if with_tax:
            category, rate = vat_key(ac.vat_category, ac.vat_rate)
            self.tax_category(el, "TaxCategory", category, rate)

    def tax_total(self, root):
        t = self.totals
        total = self.cac(root, "TaxTotal")
        self.amount(total, "TaxAmount", t.tax_amount)
        for s in t.breakdown:
            sub = self.cac(total, "TaxSubtotal")
            self.amount(sub, "TaxableAmount", s.taxable_amount)
            self.amount(sub, "TaxAmount", s.tax_amount)
            self.tax_category(sub, "TaxCategory", s.category, s.rate, s.exemption_reason, s.exemption_reason_code)
        if t.tax_amount_in_tax_currency is not None:
            self.amount(self.cac(root, "TaxTotal"), "TaxAmount", t.tax_amount_in_tax_currency,
                        currency=self.doc.tax_currency)

    def monetary_total(self, root):
        t = self.totals
        el = self.cac(root, "LegalMonetaryTotal")
        self.amount(el, "LineExtensionAmount", t.line_extension_amount)
        self.amount(el, "TaxExclusiveAmount", t.tax_exclusive_amount)
        self.amount(el, "TaxInclusiveAmount", t.tax_inclusive_amount)
        if self.doc.allowances_charges:
            self.amount(el, "AllowanceTotalAmount", t.allowance_total)
            self.amount(el, "ChargeTotalAmount", t.charge_total)
        if self.doc.prepaid_amount is not None:
            self.amount(el, "PrepaidAmount", t.prepaid_amount)
        if self.doc.rounding_amount is not None:
            self.amount(el, "PayableRoundingAmount", t.rounding_amount)
        self.amount(el, "PayableAmount", t.payable_amount)

    def line(self, root, index: int, line: InvoiceLine, amount: Decimal):
        credit = self.doc.is_credit_note
        el = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        self.cbc(el, "ID", line.id or str(index))
        self.cbc(el, "Note", line.note)
        self.cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", line.quantity, unitCode=line.unit_code)
        self.amount(el, "LineExtensionAmount", amount)
        self.cbc(el, "AccountingCost", line.accounting_cost)
        if line.period:
            self.period(el, line.period)
        if line.order_line_reference:
            self.cbc(self.cac(el, "OrderLineReference"), "LineID", line.order_line_reference)
        for ac in line.allowances_charges:
            self.allowance_charge(el, ac, with_tax=False)
        item = self.cac(el, "Item")
        self.cbc(item, "Description", line.description)
        self.cbc(item, "Name", line.name)
        if line.buyer_item_id:
            self.cbc(self.cac(item, "BuyersItemIdentification"), "ID", line.buyer_item_id)
        if line.seller_item_id:
            self.cbc(self.cac(item, "SellersItemIdentification"), "ID", line.seller_item_id)
        if line.standard_item_id:
            self.cbc(self.cac(item, "StandardItemIdentification"), "ID", line.standard_item_id, schemeID="0160")
        if line.origin_country:
            self.cbc(self.cac(item, "OriginCountry"), "IdentificationCode", line.origin_country)
        category, rate = vat_key(line.vat_category, line.vat_rate)
        self.tax_category(item, "ClassifiedTaxCategory", category, rate)
        price = self.cac(el, "Price")
        self.amount(price, "PriceAmount", line.unit_price)
        if line.price_base_quantity is not None:
            self.cbc(price, "BaseQuantity", line.price_base_quantity, unitCode=line.unit_code)
        if line.gross_price is not None:
            discount = self.cac(price, "AllowanceCharge")
            self.cbc(discount, "ChargeIndicator", "false")
            self.amount(discount, "Amount", line.gross_price - line.unit_price)
            self.amount(discount, "BaseAmount", line.gross_price)


# -- commands -------------------------------------------------------------------------

def _load(path: str) -> InvoiceDocument:
    return InvoiceDocument.from_json(Path(path).read_bytes())


def _echo_findings(findings, *, err: bool) -> None:
    for f in findings:
        click.echo(f"{f.severity.upper():7} {f.code:24} {f.field or '(document)'}: {f.render()}", err=err)


@click.command("render-ubl")
@click.argument("invoice_json", type=click.Path(exists=True, dir_okay=False))
@click.option("--pdf", "pdf_path", type=click.Path(exists=True, dir_okay=False),
              help="Our own invoice PDF to embed in the e-invoice.")
def render_ubl_command(invoice_json: str, pdf_path: str | None) -> None:
    """Print the Peppol BIS 3.0 UBL of an invoice given in the JSON form."""
    pdf = Path(pdf_path).read_bytes() if pdf_path else None
    try:
        xml = build_ubl(_load(invoice_json), pdf=pdf, pdf_filename=Path(pdf_path).name if pdf_path else None)
    except DocumentError as e:
        _echo_findings(e.findings, err=True)
        raise SystemExit(1) from None
    click.echo(xml.decode("utf-8"), nl=False)


@click.command("check")
@click.argument("invoice_json", type=click.Path(exists=True, dir_okay=False))
@click.option("--rules-dir", envvar="MAVENTA_PEPPOL_RULES_DIR", type=click.Path(file_okay=False),
              help="Folder of the official Peppol rule files (also MAVENTA_PEPPOL_RULES_DIR).")
def check_command(invoice_json: str, rules_dir: str | None) -> None:
    """Print the pre-flight findings of an invoice given in the JSON form (exit 1 on any error)."""
    from .preflight import preflight

    try:
        findings = preflight(_load(invoice_json), rules_dir=rules_dir)
    except DocumentError as e:  # the JSON itself is broken
        findings = e.findings
    _echo_findings(findings, err=False)
    if not findings:
        click.echo("No problems found.")
    if errors(findings):
        raise SystemExit(1)


if __name__ == "__main__":
    render_ubl_command(sys.argv[1:], prog_name="python -m flask_maventa.ubl")
