"""Pre-flight of the payment means and payment ids (BG-16..BG-19), attachments (BG-24) and the sums (BG-22)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from .. import codes
from .. import identifiers as ids
from ..findings import Finding
from ..invoice import InvoiceDocument
from ..markers import N_
from ..totals import VAT_TOLERANCE, ZERO, Totals, money, vat_key
from .common import ATTACHMENT_MAX_BYTES, ATTACHMENT_WARN_BYTES, CREDIT_TRANSFER, _f, country_of


def _payment(doc: InvoiceDocument) -> Iterator[Finding]:
    seller_country = country_of(doc.seller)
    german = seller_country == "DE" == country_of(doc.buyer)
    where_account = N_("Add the company's bank account in the company settings.")
    for i, m in enumerate(doc.payment_means):
        f = f"payment_means[{i}]"
        if m.code not in codes.PAYMENT_MEANS:
            yield _f("PAYMENT_CODE_UNKNOWN", f"{f}.code", N_("The payment means code {code} is not valid."),
                     N_("Use 30 (credit transfer) or 58 (SEPA credit transfer)."), code=m.code, rules=("BR-CL-16",))
        if m.code in CREDIT_TRANSFER and not m.account:
            yield _f("SELLER_NO_BANK_ACCOUNT", f"{f}.account", N_("The bank transfer has no account number."),
                     where_account, rules=(("BR-61",) + (("DE-R-023-1",) if german else ()))
                     if m.code in ("30", "58") else ())
        if m.code in ("49", "59") and not m.mandate_id:
            yield _f("PAYMENT_NO_MANDATE", f"{f}.mandate_id", N_("A direct debit needs the mandate reference."),
                     N_("Fill in the direct debit mandate on the customer card."), rules=("PEPPOL-EN16931-R061",))
        if m.account and ids.looks_like_iban(m.account) and not ids.iban_ok(m.account):
            yield _f("IBAN_INVALID", f"{f}.account", N_("The IBAN {iban} is not valid (check digits)."),
                     N_("Correct the bank account in the company settings."), iban=m.account)
        if m.bic and re.fullmatch(r"[A-Za-z]{6}\w*", m.bic) and not ids.bic_ok(m.bic):
            yield _f("BIC_INVALID", f"{f}.bic", N_("The BIC {bic} is not valid."),
                     N_("Correct the bank account in the company settings."), bic=m.bic)
        if m.payment_id:
            yield from _payment_id(m.payment_id, seller_country, f"{f}.payment_id")
    means = doc.payment_means
    for rule, values, field, message in (
            ("UBL-SR-44", {m.payment_id for m in means if m.payment_id}, "payment_id",
             N_("The payment means give different payment references.")),
            ("UBL-SR-47", {m.code for m in means}, "code", N_("The payment means give different payment means codes.")),
            ("UBL-SR-54", [m.card for m in means if m.card], "card",
             N_("The invoice names more than one payment card.")),
            ("UBL-SR-55", [m for m in means if m.mandate_id or m.payer_account], "mandate_id",
             N_("The invoice names more than one direct debit mandate."))):
        if len(values) > 1:
            yield _f("PAYMENT_MEANS_CONFLICT", f"payment_means[1].{field}", message,
                     N_("Send one payment means, or give them all the same code and reference."), rules=(rule,))
    if not doc.is_credit_note and doc.lines and not doc.payment_means:
        yield _f("SELLER_NO_BANK_ACCOUNT", "payment_means", N_("The invoice does not say where to pay."),
                 where_account, rules=("DE-R-001",) if german else ("NL-R-007",) if seller_country == "NL" else ())


def _payment_id(pid: str, seller_country: str | None, field: str) -> Iterator[Finding]:
    compact = pid.replace(" ", "")
    if compact.upper().startswith("RF"):
        if not ids.rf_reference_ok(compact):
            yield _f("PAYMENT_ID_INVALID", field, N_("The RF reference {ref} has a wrong check digit."),
                     N_("Check the reference number settings of the ERP."), ref=pid)
    elif seller_country == "NO" and not ids.kid_ok(compact):
        yield _f("PAYMENT_ID_INVALID", field, N_("The KID {ref} is not valid (2–25 digits with a check digit)."),
                 N_("Check the KID settings of the ERP."), ref=pid)
    elif seller_country == "FI" and not ids.finnish_reference_ok(compact):
        yield _f("PAYMENT_ID_INVALID", field, N_("The reference number {ref} is not a valid Finnish reference."),
                 N_("Check the reference number settings of the ERP."), ref=pid)
    elif seller_country == "SE" and compact.isdigit() and not ids.luhn_ok(compact):
        yield _f("PAYMENT_ID_INVALID", field, N_("The OCR number {ref} has a wrong check digit."),
                 N_("Check the OCR settings of the ERP."), ref=pid, severity="warning")




def _attachments(doc: InvoiceDocument, pdf: bytes | None) -> Iterator[Finding]:
    files = [(f"attachments[{i}]", a) for i, a in enumerate(doc.attachments)]
    if pdf is not None:
        from ..invoice import Attachment

        files.insert(0, ("pdf", Attachment(filename="PDF", mime_code="application/pdf", content=pdf, id="PDF")))
    for field, a in files:
        name = a.filename or a.id or a.uri or ""
        if not (a.id or a.filename):
            yield _f("ATTACHMENT_NO_ID", f"{field}.id", N_("A supporting document has no reference."),
                     N_("Give the supporting document its reference or file name."), rules=("BR-52",))
        if a.content is None:
            if (a.mime_code or a.filename) and not a.uri:  # a file was meant, but none came
                yield _f("ATTACHMENT_EMPTY", f"{field}.content", N_("The attachment {name} is empty."),
                         N_("Remove the attachment or attach the file again."), name=name)
            continue
        if not a.mime_code:
            yield _f("ATTACHMENT_TYPE", f"{field}.mime_code", N_("The attachment {name} has no file type."),
                     N_("Attach it as PDF, PNG, JPEG, CSV, XLSX or ODS."), name=name, rules=("UBL-DT-06",))
        elif a.mime_code not in codes.MIME_CODES:
            yield _f("ATTACHMENT_TYPE", f"{field}.mime_code",
                     N_("The attachment {name} is of a type e-invoices cannot carry ({mime})."),
                     N_("Attach it as PDF, PNG, JPEG, CSV, XLSX or ODS."), name=name, mime=a.mime_code,
                     rules=("BR-CL-24", "PEPPOL-EN16931-CL001"))
        if not a.filename:
            yield _f("ATTACHMENT_NO_FILENAME", f"{field}.filename", N_("The attachment {name} has no file name."),
                     N_("Give the attachment its file name."), name=name, rules=("UBL-DT-07",))
        if not a.content:
            yield _f("ATTACHMENT_EMPTY", f"{field}.content", N_("The attachment {name} is empty."),
                     N_("Remove the attachment or attach the file again."), name=name)
        elif len(a.content) > ATTACHMENT_MAX_BYTES:
            yield _f("ATTACHMENT_TOO_LARGE", f"{field}.content",
                     N_("The attachment {name} is larger than 10 MB."), N_("Attach a smaller file."), name=name)
        elif len(a.content) > ATTACHMENT_WARN_BYTES:
            yield _f("ATTACHMENT_LARGE", f"{field}.content", N_("The attachment {name} is larger than 5 MB; some "
                     "receivers reject such invoices."), N_("Attach a smaller file if you can."), name=name,
                     severity="warning")


def _sums(doc: InvoiceDocument, t: Totals) -> Iterator[Finding]:
    hint = N_("Check the line amounts, discounts and rounding on the invoice, then save it again.")
    rows = {(s.category, s.rate): s for s in t.breakdown}
    for i, given in enumerate(doc.vat_amounts):
        key = vat_key(given.category, given.rate)
        row = rows.get(key)
        if row is None or abs(money(given.amount) - row.tax_amount) >= (VAT_TOLERANCE if key[1] else Decimal("0.01")):
            yield _f("SUMS_INCONSISTENT", f"vat_amounts[{i}].amount",
                     N_("The VAT in the ERP ({expected}) differs from the VAT of the lines ({computed})."), hint,
                     expected=given.amount, computed=row.tax_amount if row else ZERO)
    for field, expected, computed in (("expected_total", doc.expected_total, t.payable_amount),
                                      ("expected_vat_total", doc.expected_vat_total, t.tax_amount)):
        if expected is not None and money(expected) != computed:
            yield _f("SUMS_INCONSISTENT", field,
                     N_("The total in the ERP ({expected}) differs from the total of the lines ({computed})."),
                     hint, expected=expected, computed=computed)
    if doc.rounding_amount is not None and abs(doc.rounding_amount) >= 1:
        yield _f("ROUNDING_TOO_LARGE", "rounding_amount", N_("The rounding amount {amount} is one unit or more."),
                 hint, severity="warning", amount=doc.rounding_amount)
    if t.payable_amount < ZERO:
        if doc.is_credit_note:
            dk = country_of(doc.seller) == "DK" and country_of(doc.buyer) == "DK"
            yield _f("NEGATIVE_TOTAL", "lines", N_("The credit note has a negative total."),
                     N_("Make the credited quantities positive."), severity="error" if dk else "warning",
                     rules=("DK-R-016",) if dk else ())
        else:
            yield _f("NEGATIVE_TOTAL", "lines", N_("The invoice has a negative total."),
                     N_("Send a credit note instead."), severity="warning")


