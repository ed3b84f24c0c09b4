"""Pre-flight: an invoice is checked before it leaves, and one that fails is never sent.

:func:`check_document` is our own set of checks. Each finding names the JSON-form field, tells
a finance user what to change, and lists the official EN 16931 / Peppol BIS 3.0 rule ids it
stands for (``Finding.rules``): the checks refuse, before any XML is written, what those fatal
rules would refuse (``tests/ubl/test_rule_coverage.py`` measures how much). The builder runs
them too, so it never writes a document it cannot represent. The Peppol country rules are in
:mod:`flask_maventa.document.preflight.national`.

The official rules themselves run in :mod:`flask_maventa.document.official`, over the UBL written
from a document these checks passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import codes
from ..findings import DocumentError, Finding, errors
from ..invoice import InvoiceDocument
from ..markers import N_
from ..totals import Totals, compute_totals
from .common import CREDIT_NOTE_TYPE_CODES, GERMAN_ONLY_TYPE_CODES, INVOICE_TYPE_CODES, _code_unknown, _f, country_of
from .lines import _lines
from .national import national
from .parties import _party, _payee_and_representative
from .payment import _attachments, _payment, _sums
from .vat import _vat

__all__ = ["DocumentError", "Finding", "check_document"]


# -- our own checks -------------------------------------------------------------------

def check_document(doc: InvoiceDocument, *, pdf: bytes | None = None, totals: Totals | None = None) -> list[Finding]:
    """Every problem our own rules find in ``doc`` (errors and warnings), all at once.

    ``totals``: the document's :func:`compute_totals`, when the caller has them already.
    """

    findings = list(_document(doc))
    findings += _references(doc)
    findings += _party(doc, doc.seller, "seller")
    findings += _party(doc, doc.buyer, "buyer")
    findings += _payee_and_representative(doc)
    findings += _lines(doc)
    findings += _vat(doc)
    findings += _payment(doc)
    findings += _attachments(doc, pdf)
    findings += national(doc)
    if not errors(findings):  # sums are only meaningful on a well-formed document
        findings += _sums(doc, totals or compute_totals(doc))
    return findings


def _document(doc: InvoiceDocument) -> Iterator[Finding]:
    if not doc.number:
        yield _f("NUMBER_MISSING", "number", N_("The invoice has no number."),
                 N_("Save the invoice in the ERP so that it gets a number."), rules=("BR-02",))
    if doc.currency not in codes.CURRENCIES:
        yield _f("CURRENCY_UNKNOWN", "currency", N_("The currency {currency} is not an ISO 4217 currency."),
                 N_("Choose a valid currency on the invoice."), currency=doc.currency,
                 rules=("BR-05",) if not doc.currency else ("BR-CL-04", "BR-CL-03", "PEPPOL-EN16931-CL007"))
    if not doc.lines:
        yield _f("NO_LINES", "lines", N_("The invoice has no lines."), N_("Add at least one line to the invoice."),
                 rules=("BR-16",))
    if not (doc.buyer_reference or doc.order_reference):
        yield _f("BUYER_REFERENCE_MISSING", "buyer_reference",
                 N_("The invoice has neither the customer's reference nor their order number."),
                 N_("Fill in \"Your reference\" or the customer's order number on the invoice; e-invoices "
                    "cannot be sent without one."), rules=("PEPPOL-EN16931-R003",))
    yield from _type_code(doc)
    if doc.is_credit_note and not doc.billing_references:
        yield _f("CREDIT_NOTE_NO_INVOICE", "billing_references",
                 N_("The credit note does not say which invoice it credits."),
                 N_("Link the credit note to the original invoice in the ERP."), severity="warning")
    if doc.due_date and doc.due_date < doc.issue_date:
        yield _f("DUE_DATE_BEFORE_ISSUE", "due_date", N_("The due date is before the invoice date."),
                 N_("Check the payment terms on the invoice."), severity="warning")
    p = doc.invoice_period
    if p and p.start and p.end and p.end < p.start:
        yield _f("PERIOD_INVERTED", "invoice_period", N_("The invoice period ends before it starts."),
                 N_("Correct the period dates on the invoice."), rules=("BR-29",))
    if doc.tax_point_date_code:
        if doc.tax_point_date_code not in codes.TAX_POINT_DATE_CODES:
            yield _f("CODE_UNKNOWN", "tax_point_date_code", N_("{value} is not a valid {what}."),
                     N_("Use 3 (invoice date), 35 (delivery date) or 432 (payment date)."),
                     value=doc.tax_point_date_code, what=N_("VAT point date code"),
                     rules=("BR-CL-06", "PEPPOL-EN16931-CL006"))
        if doc.tax_point_date:
            yield _f("TAX_POINT_DATE_TWICE", "tax_point_date_code",
                     N_("The invoice gives both a VAT point date and a VAT point date code."),
                     N_("Give only one of them on the invoice."), rules=("BR-CO-03",))
    subject = re.match(r"[^#]*#([^#]{3})#", doc.note or "")
    if subject and subject.group(1) not in codes.NOTE_SUBJECT_CODES:
        yield _f("CODE_UNKNOWN", "note", N_("{value} is not a valid {what}."),
                 N_("Remove the #...# prefix from the note, or use a UNCL 4451 subject code such as AAI."),
                 value=subject.group(1), what=N_("note subject code"), rules=("BR-CL-08",))
    if doc.note and len(doc.note) > 10000:
        yield _f("NOTE_TOO_LONG", "note", N_("The invoice note is longer than {max} characters."),
                 N_("Shorten the note on the invoice."), max=10000)
    yield from _tax_currency(doc)


def _type_code(doc: InvoiceDocument) -> Iterator[Finding]:
    code = doc.type_code
    if not code:
        return
    german = country_of(doc.seller) == "DE" and country_of(doc.buyer) == "DE"
    if doc.is_credit_note:
        if code in CREDIT_NOTE_TYPE_CODES:
            return
        rules = ("PEPPOL-EN16931-P0101",) + (() if code in codes.CREDIT_NOTE_TYPE_CODES_UNTDID else ("BR-CL-01",))
        hint = (N_("Code {code} is for invoices: send the document as an invoice, or use 381 for a credit note.")
                if code in INVOICE_TYPE_CODES else N_("Use 381 for a credit note."))
        yield _f("TYPE_CODE_INVALID", "type_code", N_("A credit note cannot have the document type code {code}."),
                 hint, code=code, rules=rules)
        return
    if code in INVOICE_TYPE_CODES or (german and code in GERMAN_ONLY_TYPE_CODES):
        return
    if code in GERMAN_ONLY_TYPE_CODES:
        rules = ("PEPPOL-EN16931-P0112",)
    else:
        rules = ("PEPPOL-EN16931-P0100",) + (() if code in codes.INVOICE_TYPE_CODES_UNTDID else ("BR-CL-01",))
    hint = (N_("Code {code} is for credit notes: send the document as a credit note, or use 380 for an invoice.")
            if code in CREDIT_NOTE_TYPE_CODES else N_("Use 380 for an invoice."))
    yield _f("TYPE_CODE_INVALID", "type_code", N_("An invoice cannot have the document type code {code}."),
             hint, code=code, rules=rules)


def _tax_currency(doc: InvoiceDocument) -> Iterator[Finding]:
    if doc.tax_currency:
        if doc.tax_currency == doc.currency:
            yield _f("TAX_CURRENCY_SAME", "tax_currency",
                     N_("The VAT accounting currency is the same as the invoice currency."),
                     N_("Leave the VAT accounting currency empty for invoices in {currency}."), currency=doc.currency,
                     rules=("PEPPOL-EN16931-R005",))
        elif doc.tax_currency not in codes.CURRENCIES:
            yield _f("CURRENCY_UNKNOWN", "tax_currency", N_("The currency {currency} is not an ISO 4217 currency."),
                     N_("Choose a valid currency on the invoice."), currency=doc.tax_currency,
                     rules=("BR-CL-05", "BR-CL-03", "PEPPOL-EN16931-CL007"))
        if doc.tax_exchange_rate is None or doc.tax_exchange_rate <= 0:
            yield _f("TAX_EXCHANGE_RATE_MISSING", "tax_exchange_rate",
                     N_("The VAT total must also be given in {currency}, but the exchange rate is missing."),
                     N_("Fill in the exchange rate on the invoice."), currency=doc.tax_currency,
                     rules=("BR-53",) if doc.tax_exchange_rate is None else ("PEPPOL-EN16931-R055",))
    else:
        national = codes.COUNTRY_CURRENCY.get(country_of(doc.seller) or "")
        if national and doc.currency != national:
            yield _f("TAX_CURRENCY_MISSING", "tax_currency",
                     N_("The invoice is in {currency}, but VAT must be reported in {national}."),
                     N_("Give the exchange rate to {national} so the VAT total can be shown in {national}."),
                     severity="warning", currency=doc.currency, national=national)


def _references(doc: InvoiceDocument) -> Iterator[Finding]:
    for i, ref in enumerate(doc.billing_references):
        if not ref.number:
            yield _f("REFERENCE_NO_NUMBER", f"billing_references[{i}].number",
                     N_("A referenced invoice has no number."),
                     N_("Fill in the number of the credited invoice, or remove the reference."), rules=("BR-55",))
    schemes = [("invoiced_object_scheme", doc.invoiced_object_scheme)]
    schemes += [(f"lines[{i}].object_id_scheme", line.object_id_scheme) for i, line in enumerate(doc.lines)]
    for field, scheme in schemes:
        if scheme and scheme not in codes.OBJECT_SCHEMES:
            yield _code_unknown(field, scheme, N_("identifier scheme (UNTDID 1153)"), ("BR-CL-07",))



