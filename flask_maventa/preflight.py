"""Pre-flight: an invoice is checked before it leaves, and one that fails is never sent.

:func:`check_document` is our own set of checks, each finding naming the field and telling
a finance user where to fix it; the builder runs it too, so it never writes a document it
cannot represent. :func:`preflight` adds the official EN 16931 + Peppol BIS 3.0 rules when
their files are configured (``MAVENTA_PEPPOL_RULES_DIR``, needs the ``peppol`` extra:
saxonche), run straight from that folder the way ``validate_peppol.py`` runs them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from . import identifiers as ids
from . import peppol_codes as codes
from .findings import DocumentError, Finding, errors
from .i18n_markers import N_
from .invoice import AllowanceCharge, InvoiceDocument, Party
from .totals import ZERO, Totals, compute_totals, vat_key

__all__ = ["DocumentError", "Finding", "check_document", "preflight", "OFFICIAL_RULE_FILES"]

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # Maventa: UBL attachments up to 10 MB each
ATTACHMENT_WARN_BYTES = 5 * 1024 * 1024  # some operators reject more than 5 MB
EIA_MAX_LENGTH = 128  # Maventa's recipient_eia
EMAIL_MAX_LENGTH = 255  # Maventa's recipient_email
INVOICE_TYPE_CODES = set("71 80 82 84 102 218 219 331 380 382 383 386 388 393 395 553 575 623 780 817 870 875 "
                         "876 877".split())  # PEPPOL-EN16931-P0100 without 326/384 (Germany only, P0112)
CREDIT_NOTE_TYPE_CODES = {"381", "396", "81", "83", "532"}  # PEPPOL-EN16931-P0101
ZERO_CATEGORIES = {"Z", "E", "AE", "K", "G"}
REASON_REQUIRED = {"E", "AE", "K", "G", "O"}
VATEX_CATEGORY = {"VATEX-EU-G": "G", "VATEX-EU-O": "O", "VATEX-EU-IC": "K", "VATEX-EU-AE": "AE",
                  "VATEX-EU-D": "E", "VATEX-EU-F": "E", "VATEX-EU-I": "E", "VATEX-EU-J": "E"}
CREDIT_TRANSFER = {"30", "31", "42", "58"}
DK_DOMESTIC_MEANS = {"1", "10", "31", "42", "48", "49", "50", "58", "59", "93", "97"}

_WHERE = {
    "seller": N_("open the company settings"),
    "buyer": N_("open the customer card"),
}


def _f(code, field, message, hint="", /, *, severity="error", **params) -> Finding:
    return Finding(code, severity, field, message, hint, params)


# -- our own checks -------------------------------------------------------------------

def check_document(doc: InvoiceDocument, *, pdf: bytes | None = None, totals: Totals | None = None) -> list[Finding]:
    """Every problem our own rules find in ``doc`` (errors and warnings), all at once.

    ``totals``: the document's :func:`compute_totals`, when the caller has them already.
    """
    findings = list(_document(doc))
    findings += _party(doc, doc.seller, "seller")
    findings += _party(doc, doc.buyer, "buyer")
    findings += _lines(doc)
    findings += _vat(doc)
    findings += _payment(doc)
    findings += _attachments(doc, pdf)
    if not errors(findings):  # sums are only meaningful on a well-formed document
        findings += _sums(doc, totals or compute_totals(doc))
    return findings


def _document(doc: InvoiceDocument) -> Iterator[Finding]:
    if not doc.number.strip():
        yield _f("NUMBER_MISSING", "number", N_("The invoice has no number."),
                 N_("Save the invoice in the ERP so that it gets a number."))
    if doc.currency not in codes.CURRENCIES:
        yield _f("CURRENCY_UNKNOWN", "currency", N_("The currency {currency} is not an ISO 4217 currency."),
                 N_("Choose a valid currency on the invoice."), currency=doc.currency)
    if not doc.lines:
        yield _f("NO_LINES", "lines", N_("The invoice has no lines."), N_("Add at least one line to the invoice."))
    if not (doc.buyer_reference or doc.order_reference):
        yield _f("BUYER_REFERENCE_MISSING", "buyer_reference",
                 N_("The invoice has neither the customer's reference nor their order number."),
                 N_("Fill in \"Your reference\" or the customer's order number on the invoice; e-invoices "
                    "cannot be sent without one."))
    allowed = CREDIT_NOTE_TYPE_CODES if doc.is_credit_note else INVOICE_TYPE_CODES
    if doc.type_code and doc.type_code not in allowed:
        yield _f("TYPE_CODE_INVALID", "type_code", N_("The document type code {code} is not allowed in Peppol."),
                 N_("Use 380 for an invoice or 381 for a credit note."), code=doc.type_code)
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
                 N_("Correct the period dates on the invoice."))
    if doc.note and len(doc.note) > 10000:
        yield _f("NOTE_TOO_LONG", "note", N_("The invoice note is longer than {max} characters."),
                 N_("Shorten the note on the invoice."), max=10000)
    if doc.tax_currency:
        if doc.tax_currency == doc.currency:
            yield _f("TAX_CURRENCY_SAME", "tax_currency",
                     N_("The VAT accounting currency is the same as the invoice currency."),
                     N_("Leave the VAT accounting currency empty for invoices in {currency}."), currency=doc.currency)
        elif doc.tax_currency not in codes.CURRENCIES:
            yield _f("CURRENCY_UNKNOWN", "tax_currency", N_("The currency {currency} is not an ISO 4217 currency."),
                     N_("Choose a valid currency on the invoice."), currency=doc.tax_currency)
        if doc.tax_exchange_rate is None or doc.tax_exchange_rate <= 0:
            yield _f("TAX_EXCHANGE_RATE_MISSING", "tax_exchange_rate",
                     N_("The VAT total must also be given in {currency}, but the exchange rate is missing."),
                     N_("Fill in the exchange rate on the invoice."), currency=doc.tax_currency)
    else:
        seller_country = doc.seller.address.country if doc.seller.address else None
        national = codes.COUNTRY_CURRENCY.get(seller_country or "")
        if national and doc.currency != national:
            yield _f("TAX_CURRENCY_MISSING", "tax_currency",
                     N_("The invoice is in {currency}, but VAT must be reported in {national}."),
                     N_("Give the exchange rate to {national} so the VAT total can be shown in {national}."),
                     severity="warning", currency=doc.currency, national=national)


def _party(doc: InvoiceDocument, party: Party, role: str) -> Iterator[Finding]:
    where = _WHERE[role]
    who = N_("The company") if role == "seller" else N_("The customer")
    params = {"who": who, "where": where}
    if not (party.name or party.registration_name):
        yield _f(f"{role.upper()}_NO_NAME", f"{role}.name", N_("{who} has no name."),
                 N_("Fill in the name — {where}."), **params)
    a = party.address
    if a is None or not a.country:
        yield _f(f"{role.upper()}_NO_COUNTRY", f"{role}.address.country", N_("{who} has no country in its address."),
                 N_("Fill in the address with its country — {where}."), **params)
    elif a.country not in codes.COUNTRIES:
        yield _f("COUNTRY_UNKNOWN", f"{role}.address.country",
                 N_("The country code {country} is not an ISO 3166 country."),
                 N_("Choose the country from the list — {where}."), country=a.country, **params)
    if a is not None:
        for name, label in (("street", N_("street address")), ("city", N_("city")), ("post_code", N_("post code"))):
            if not getattr(a, name):
                yield _f(f"{role.upper()}_NO_{name.upper()}", f"{role}.address.{name}",
                         N_("{who} has no {part}."), N_("Fill in the address — {where}."), part=label, **params)
    if role == "buyer" and len(party.identifiers) > 1:  # UBL-SR-16
        yield _f("BUYER_IDENTIFIERS", "buyer.identifiers", N_("The customer may carry only one extra identifier."),
                 N_("Keep one identifier (e.g. the GLN) — {where}."), **params)
    yield from _endpoint(party, role, params)
    yield from _legal_id(party, role, params)
    if party.vat_number:
        yield from _vat_number(party, role, params)
    if party.email and len(party.email) > EMAIL_MAX_LENGTH:
        yield _f("EMAIL_TOO_LONG", f"{role}.email", N_("The email address is longer than {max} characters."),
                 N_("Correct the email address — {where}."), max=EMAIL_MAX_LENGTH, **params)
    country = a.country if a else None
    if role == "seller" and country == "SE" and party.tax_registration and \
            party.tax_registration.strip().upper() != "GODKÄND FÖR F-SKATT":
        yield _f("SE_F_TAX_TEXT", "seller.tax_registration",
                 N_("Swedish sellers must write exactly \"Godkänd för F-skatt\" as tax registration."),
                 N_("Correct the tax registration text — {where}."), **params)
    if role == "seller" and country == "NO" and not party.tax_registration:
        yield _f("NO_FORETAKSREGISTERET", "seller.tax_registration",
                 N_("Norwegian limited companies must state \"Foretaksregisteret\" on their invoices."),
                 N_("Fill in \"Foretaksregisteret\" as tax registration — {where}."), severity="warning", **params)


def _endpoint(party: Party, role: str, params) -> Iterator[Finding]:
    endpoint = party.effective_endpoint()
    field = f"{role}.endpoint"
    if endpoint is None:
        yield _f(f"{role.upper()}_NO_IDENTIFIER", field,
                 N_("{who} has neither an e-invoice address nor an organisation number."),
                 N_("Fill in the organisation number or the e-invoice address — {where}."), **params)
        return
    if endpoint.scheme in codes.WITHDRAWN_EAS:
        replacement = codes.WITHDRAWN_EAS_REPLACEMENT.get(endpoint.scheme)
        hint = (N_("Use the scheme {replacement} instead — {where}.") if replacement
                else N_("Ask the customer for their current Peppol address — {where}."))
        yield _f("ENDPOINT_SCHEME_WITHDRAWN", f"{field}.scheme",
                 N_("The e-invoice address scheme {scheme} is no longer accepted in Peppol."), hint,
                 scheme=endpoint.scheme, replacement=replacement or "", **params)
    elif endpoint.scheme not in codes.EAS:
        yield _f("ENDPOINT_SCHEME_UNKNOWN", f"{field}.scheme",
                 N_("The e-invoice address scheme {scheme} is not a Peppol scheme."),
                 N_("Correct the e-invoice address — {where}."), scheme=endpoint.scheme, **params)
    elif not _identifier_ok(endpoint.scheme, endpoint.value):
        yield _f("ENDPOINT_INVALID", f"{field}.value",
                 N_("The e-invoice address {eia} is not valid (wrong length or check digit)."),
                 N_("Correct the e-invoice address — {where}."), eia=endpoint.eia, **params)
    if len(endpoint.eia) > EIA_MAX_LENGTH:
        yield _f("ENDPOINT_TOO_LONG", f"{field}.value", N_("The e-invoice address is too long."),
                 N_("Correct the e-invoice address — {where}."), **params)


def _identifier_ok(scheme: str, value: str) -> bool:
    """The format checks the Peppol rules make (PEPPOL-COMMON-R040..R049) for our countries."""
    value = value.strip()
    if scheme == "0192":
        return ids.mod11_no_ok(value)
    if scheme == "0007":
        return bool(re.fullmatch(r"[0-9]{10}", value)) and ids.luhn_ok(value)
    if scheme == "0184":
        return bool(re.fullmatch(r"(DK)?[0-9]{8}", value))
    if scheme == "0088":
        return ids.gln_ok(value)
    if scheme == "0216":
        return bool(re.fullmatch(r"0037[0-9]{8}[0-9A-Za-z]{0,5}", value))
    return bool(value)


def _legal_id(party: Party, role: str, params) -> Iterator[Finding]:
    country = party.address.country if party.address else None
    field = f"{role}.legal_id"
    if party.legal_id_scheme and party.legal_id_scheme not in codes.ICD:
        yield _f("LEGAL_ID_SCHEME_UNKNOWN", f"{field}_scheme",
                 N_("The identifier scheme {scheme} is not an ISO 6523 scheme."),
                 N_("Correct the organisation number — {where}."), scheme=party.legal_id_scheme, **params)
    elif party.legal_id and party.legal_id_scheme and not _identifier_ok(party.legal_id_scheme, party.legal_id):
        yield _f("LEGAL_ID_INVALID", field, N_("The organisation number {value} is not valid."),
                 N_("Correct the organisation number — {where}."), value=party.legal_id, **params)
    if role == "seller" and country == "DK" and (not party.legal_id or party.legal_id_scheme != "0184"):
        yield _f("DK_SELLER_CVR", field, N_("Danish sellers must give their CVR number (scheme 0184)."),
                 N_("Fill in the CVR number — {where}."), **params)
    if role == "buyer" and country == "DK" and party.legal_id and not party.legal_id_scheme:  # DK-R-017
        yield _f("DK_BUYER_CVR_SCHEME", f"{field}_scheme", N_("A Danish customer's CVR number needs scheme 0184."),
                 N_("Set the identifier scheme 0184 — {where}."), **params)


def _vat_number(party: Party, role: str, params) -> Iterator[Finding]:
    vat = party.vat_number.strip()
    country = party.address.country if party.address else None
    pattern = codes.VAT_NUMBER_PATTERNS.get(country or "")
    ok = bool(re.fullmatch(r"[A-Z]{2}[0-9A-Za-z+*.]{2,13}", vat))
    if ok and pattern and vat[:2] == country:
        ok = bool(re.fullmatch(pattern, vat)) and (country != "NO" or ids.mod11_no_ok(vat[2:11]))
    if not ok:
        example = {"NO": "NO123456785MVA", "SE": "SE556036079301", "FI": "FI12345678", "DK": "DK12345678"}
        yield _f("VAT_NUMBER_INVALID", f"{role}.vat_number",
                 N_("The VAT number {value} is not valid: it must start with the country code, like {example}."),
                 N_("Correct the VAT number — {where}."), value=vat,
                 example=example.get(country or "", "FI12345678"), **params)


def _lines(doc: InvoiceDocument) -> Iterator[Finding]:
    hint = N_("Correct line {line} of the invoice.")
    period = doc.invoice_period
    for i, line in enumerate(doc.lines):
        f, n = f"lines[{i}]", i + 1
        if not line.name:
            yield _f("LINE_NO_NAME", f"{f}.name", N_("Line {line} has no item name."), hint, line=n)
        if line.unit_price < 0:
            yield _f("LINE_NEGATIVE_PRICE", f"{f}.unit_price",
                     N_("Line {line} has a negative price; a price can never be negative."),
                     N_("Make the price positive and the quantity negative to credit something on line {line}."),
                     line=n)
        if line.gross_price is not None and line.gross_price < line.unit_price:
            yield _f("LINE_GROSS_BELOW_NET", f"{f}.gross_price",
                     N_("On line {line} the list price is lower than the discounted price."), hint, line=n)
        if line.price_base_quantity is not None and line.price_base_quantity <= 0:
            yield _f("LINE_BASE_QUANTITY", f"{f}.price_base_quantity",
                     N_("On line {line} the price unit quantity must be above zero."), hint, line=n)
        if line.unit_code not in codes.UNIT_CODES:
            yield _f("LINE_UNIT_UNKNOWN", f"{f}.unit_code",
                     N_("Line {line} uses the unit {unit}, which is not a UN/ECE unit code."),
                     N_("Map the ERP unit to a UN/ECE unit code (e.g. HUR for hours, C62 for pieces)."),
                     line=n, unit=line.unit_code)
        if line.origin_country and line.origin_country not in codes.COUNTRIES:
            yield _f("COUNTRY_UNKNOWN", f"{f}.origin_country",
                     N_("The country code {country} is not an ISO 3166 country."), hint, country=line.origin_country,
                     line=n)
        lp = line.period
        if lp and lp.start and lp.end and lp.end < lp.start:
            yield _f("PERIOD_INVERTED", f"{f}.period", N_("The period of line {line} ends before it starts."),
                     hint, line=n)
        if lp and period and ((lp.start and period.start and lp.start < period.start)
                              or (lp.end and period.end and lp.end > period.end)):
            yield _f("LINE_PERIOD_OUTSIDE", f"{f}.period",
                     N_("The period of line {line} is outside the invoice period."), hint, line=n)
        for j, ac in enumerate(line.allowances_charges):
            yield from _allowance(ac, f"{f}.allowances_charges[{j}]", document_level=False)


def _allowance(ac: AllowanceCharge, field: str, *, document_level: bool) -> Iterator[Finding]:
    hint = N_("Correct the discounts and fees of the invoice.")
    what = N_("fee") if ac.is_charge else N_("discount")
    if ac.amount is None and (ac.percent is None or ac.base_amount is None):
        yield _f("ALLOWANCE_NO_AMOUNT", field, N_("A {what} has neither an amount nor a percentage with its base."),
                 hint, what=what)
    elif ac.amount is not None and ac.percent is not None and ac.base_amount is not None and \
            abs(ac.amount - ac.base_amount * ac.percent / 100) > Decimal("0.02"):
        yield _f("SUMS_INCONSISTENT", f"{field}.amount",
                 N_("A {what} of {percent} % of {base} should be {expected}, not {amount}."), hint, what=what,
                 percent=ac.percent, base=ac.base_amount, amount=ac.amount,
                 expected=(ac.base_amount * ac.percent / 100).quantize(Decimal("0.01")))
    if ac.amount is not None and ac.amount < 0:
        yield _f("ALLOWANCE_NEGATIVE", f"{field}.amount", N_("A {what} has a negative amount."),
                 N_("Use a discount instead of a negative fee (and the other way round)."), what=what)
    if not (ac.reason or ac.reason_code):
        yield _f("ALLOWANCE_NO_REASON", f"{field}.reason", N_("A {what} has no reason."),
                 N_("Give the discount or fee a description on the invoice."), what=what)
    valid = codes.CHARGE_REASONS if ac.is_charge else codes.ALLOWANCE_REASONS
    if ac.reason_code and ac.reason_code not in valid:
        yield _f("ALLOWANCE_REASON_CODE", f"{field}.reason_code",
                 N_("The reason code {code} is not allowed for a {what}."),
                 N_("Remove the reason code or use one from the Peppol list."), code=ac.reason_code, what=what)
    if document_level and not ac.vat_category:
        yield _f("ALLOWANCE_NO_VAT", f"{field}.vat_category",
                 N_("A {what} on the whole invoice has no VAT category."),
                 N_("Choose the VAT code of the discount or fee on the invoice."), what=what)


def _vat(doc: InvoiceDocument) -> Iterator[Finding]:
    """VAT categories, rates and exemption reasons of lines and document allowances/charges."""
    for j, ac in enumerate(doc.allowances_charges):
        yield from _allowance(ac, f"allowances_charges[{j}]", document_level=True)
    items = [(f"lines[{i}]", line.vat_category, line.vat_rate, line.vat_exemption_reason,
              line.vat_exemption_reason_code, N_("line {n}"), i + 1) for i, line in enumerate(doc.lines)]
    items += [(f"allowances_charges[{j}]", ac.vat_category, ac.vat_rate, None, None,
               N_("discount or fee {n}"), j + 1) for j, ac in enumerate(doc.allowances_charges) if ac.vat_category]
    seller_country = doc.seller.address.country if doc.seller.address else None
    hint = N_("Check the VAT code of {item} on the invoice.")
    reasons_by_key: dict = {}
    for field, category, rate, reason, reason_code, item, n in items:
        p = {"category": category, "item": item, "n": n, "rate": rate}
        if category == "S":
            if rate is None or rate <= 0:
                yield _f("VAT_RATE_MISSING", f"{field}.vat_rate", N_("{item} is taxed at the standard VAT category "
                         "but has no VAT rate above zero."), hint, **p)
            elif seller_country == "SE" and rate not in (25, 12, 6):
                yield _f("VAT_RATE_INVALID", f"{field}.vat_rate", N_("{rate} % is not a Swedish VAT rate."),
                         N_("Use 25, 12 or 6 % on {item}."), **p)
        elif category in ZERO_CATEGORIES or category in ("L", "M"):
            if category in ZERO_CATEGORIES and rate not in (None, 0):
                yield _f("VAT_RATE_NOT_ZERO", f"{field}.vat_rate",
                         N_("{item} has VAT category {category}, whose rate must be 0 %."), hint, **p)
        elif category == "O" and rate not in (None, 0):
            yield _f("VAT_RATE_NOT_ZERO", f"{field}.vat_rate",
                     N_("{item} is outside the scope of VAT and cannot have a VAT rate."), hint, **p)
        if category in ("S", "Z") and (reason or reason_code):
            yield _f("VAT_REASON_NOT_ALLOWED", f"{field}.vat_exemption_reason",
                     N_("{item} has VAT category {category}, which must not carry an exemption reason."), hint, **p)
        if reason_code:
            code = reason_code.upper()
            if code not in codes.VATEX:
                yield _f("VAT_REASON_CODE_UNKNOWN", f"{field}.vat_exemption_reason_code",
                         N_("{code} is not a VAT exemption reason code."), hint, code=reason_code, **p)
            elif VATEX_CATEGORY.get(code, category) != category:
                yield _f("VAT_REASON_CODE_MISMATCH", f"{field}.vat_exemption_reason_code",
                         N_("The exemption reason {code} needs VAT category {expected}, not {category}."), hint,
                         code=reason_code, expected=VATEX_CATEGORY[code], **p)
        if reason or reason_code:
            reasons_by_key.setdefault(vat_key(category, rate), set()).add((reason, reason_code))
    categories = {c for _, c, *_ in items}
    for key in {vat_key(c, r) for _, c, r, *_ in items}:
        if key[0] in REASON_REQUIRED and key not in reasons_by_key:
            yield _f("VAT_REASON_MISSING", "lines", N_("Lines with VAT category {category} need an exemption reason "
                     "(why no VAT is charged)."),
                     N_("Fill in the VAT exemption reason on the VAT code {category} in the ERP's VAT settings."),
                     category=key[0])
        elif len(reasons_by_key.get(key, ())) > 1:
            yield _f("VAT_REASON_CONFLICT", "lines", N_("Lines with VAT category {category} give different "
                     "exemption reasons; only the first one is sent."),
                     N_("Use one exemption reason per VAT code."), severity="warning", category=key[0])
    if "O" in categories and len(categories) > 1:
        yield _f("VAT_OUTSIDE_SCOPE_MIXED", "lines", N_("An invoice outside the scope of VAT (category O) cannot "
                 "have lines with other VAT categories."), N_("Split the invoice in two."))
    if categories - {"O"} and not doc.seller.vat_number:  # BR-S/Z/E/AE/IC/G-02
        yield _f("SELLER_NO_VAT", "seller.vat_number", N_("The company has no VAT number."),
                 N_("Fill in the VAT number in the company settings."))
    if categories & {"AE", "K"} and not doc.buyer.vat_number and not ("AE" in categories and "K" not in categories
                                                                    and doc.buyer.legal_id):
        yield _f("BUYER_NO_VAT", "buyer.vat_number",
                 N_("Reverse charge and intra-community supplies need the customer's VAT number."),
                 N_("Fill in the VAT number — open the customer card."))
    if "K" in categories:
        d = doc.delivery
        if not ((d and d.date) or (doc.invoice_period and (doc.invoice_period.start or doc.invoice_period.end))):
            yield _f("IC_NO_DELIVERY_DATE", "delivery.date",
                     N_("An intra-community supply needs the delivery date or the invoice period."),
                     N_("Fill in the delivery date on the invoice."))
        if not (d and d.address and d.address.country):
            yield _f("IC_NO_DELIVERY_COUNTRY", "delivery.address.country",
                     N_("An intra-community supply needs the country the goods were delivered to."),
                     N_("Fill in the delivery address on the invoice."))


def _payment(doc: InvoiceDocument) -> Iterator[Finding]:
    seller_country = doc.seller.address.country if doc.seller.address else None
    buyer_country = doc.buyer.address.country if doc.buyer.address else None
    where = N_("Add the company's bank account in the company settings.")
    for i, m in enumerate(doc.payment_means):
        f = f"payment_means[{i}]"
        if m.code not in codes.PAYMENT_MEANS:
            yield _f("PAYMENT_CODE_UNKNOWN", f"{f}.code", N_("The payment means code {code} is not valid."),
                     N_("Use 30 (credit transfer) or 58 (SEPA credit transfer)."), code=m.code)
        if m.code in CREDIT_TRANSFER and not m.account:
            yield _f("SELLER_NO_BANK_ACCOUNT", f"{f}.account", N_("The bank transfer has no account number."), where)
        if m.code in ("49", "59") and not m.mandate_id:
            yield _f("PAYMENT_NO_MANDATE", f"{f}.mandate_id", N_("A direct debit needs the mandate reference."),
                     N_("Fill in the direct debit mandate on the customer card."))
        if m.account and ids.looks_like_iban(m.account) and not ids.iban_ok(m.account):
            yield _f("IBAN_INVALID", f"{f}.account", N_("The IBAN {iban} is not valid (check digits)."),
                     N_("Correct the bank account in the company settings."), iban=m.account)
        if m.bic and re.fullmatch(r"[A-Za-z]{6}\w*", m.bic) and not ids.bic_ok(m.bic):
            yield _f("BIC_INVALID", f"{f}.bic", N_("The BIC {bic} is not valid."),
                     N_("Correct the bank account in the company settings."), bic=m.bic)
        if m.payment_id:
            yield from _payment_id(m.payment_id, seller_country, f"{f}.payment_id")
        if seller_country == "DK" and buyer_country == "DK" and not doc.is_credit_note:
            if m.code not in DK_DOMESTIC_MEANS:
                yield _f("DK_PAYMENT_CODE", f"{f}.code", N_("Danish invoices cannot use payment means code {code}."),
                         N_("Use 58 (SEPA transfer with IBAN) or 31/42 (account with registration number)."),
                         code=m.code)
            elif m.code in ("31", "42") and not (m.account and m.bic):
                yield _f("DK_PAYMENT_ACCOUNT", f"{f}.bic",
                         N_("Danish bank transfers need both the account and the registration number."), where)
    if not doc.is_credit_note and doc.lines and not doc.payment_means:
        yield _f("SELLER_NO_BANK_ACCOUNT", "payment_means", N_("The invoice does not say where to pay."), where)


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
    files = [(f"attachments[{i}]", a.filename, a.mime_code, a.content) for i, a in enumerate(doc.attachments)]
    if pdf is not None:
        files.insert(0, ("pdf", "PDF", "application/pdf", pdf))
    for field, name, mime, content in files:
        if mime not in codes.MIME_CODES:
            yield _f("ATTACHMENT_TYPE", f"{field}.mime_code",
                     N_("The attachment {name} is of a type e-invoices cannot carry ({mime})."),
                     N_("Attach it as PDF, PNG, JPEG, CSV, XLSX or ODS."), name=name, mime=mime)
        if not content:
            yield _f("ATTACHMENT_EMPTY", f"{field}.content", N_("The attachment {name} is empty."),
                     N_("Remove the attachment or attach the file again."), name=name)
        elif len(content) > ATTACHMENT_MAX_BYTES:
            yield _f("ATTACHMENT_TOO_LARGE", f"{field}.content",
                     N_("The attachment {name} is larger than 10 MB."), N_("Attach a smaller file."), name=name)
        elif len(content) > ATTACHMENT_WARN_BYTES:
            yield _f("ATTACHMENT_LARGE", f"{field}.content", N_("The attachment {name} is larger than 5 MB; some "
                     "receivers reject such invoices."), N_("Attach a smaller file if you can."), name=name,
                     severity="warning")


def _sums(doc: InvoiceDocument, t: Totals) -> Iterator[Finding]:
    hint = N_("Check the line amounts, discounts and rounding on the invoice, then save it again.")
    for field, expected, computed in (("expected_total", doc.expected_total, t.payable_amount),
                                      ("expected_vat_total", doc.expected_vat_total, t.tax_amount)):
        if expected is not None and expected.quantize(Decimal("0.01")) != computed:
            yield _f("SUMS_INCONSISTENT", field,
                     N_("The total in the ERP ({expected}) differs from the total of the lines ({computed})."),
                     hint, expected=expected, computed=computed)
    if doc.rounding_amount is not None and abs(doc.rounding_amount) >= 1:
        yield _f("ROUNDING_TOO_LARGE", "rounding_amount", N_("The rounding amount {amount} is one unit or more."),
                 hint, severity="warning", amount=doc.rounding_amount)
    if t.payable_amount < ZERO:
        if doc.is_credit_note:
            dk = [p.address.country if p.address else None for p in (doc.seller, doc.buyer)] == ["DK", "DK"]
            yield _f("NEGATIVE_TOTAL", "lines", N_("The credit note has a negative total."),
                     N_("Make the credited quantities positive."), severity="error" if dk else "warning")
        else:
            yield _f("NEGATIVE_TOTAL", "lines", N_("The invoice has a negative total."),
                     N_("Send a credit note instead."), severity="warning")


# -- the official rules -----------------------------------------------------------------

OFFICIAL_RULE_FILES = ("rules/CEN-EN16931-UBL.xslt", "rules/PEPPOL-EN16931-UBL.xslt")
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_compiled: dict[str, tuple] = {}
_compile_lock = threading.Lock()


def preflight(doc: InvoiceDocument, *, rules_dir: str | Path | None = None,
              pdf: bytes | None = None) -> list[Finding]:
    """All findings for ``doc``: our own checks, then (when ``rules_dir`` is given, saxonche is
    installed and our checks passed) the official EN 16931 and Peppol BIS 3.0 rules."""
    findings = check_document(doc, pdf=pdf)
    if rules_dir is None or errors(findings):
        return findings
    from .ubl import build_ubl  # the builder runs check_document itself; import late to avoid a cycle

    try:
        xml = build_ubl(doc, pdf=pdf)
    except DocumentError as e:  # pragma: no cover - check_document found no error just above
        return findings + e.findings
    return findings + official_findings(xml, rules_dir)


def official_findings(xml: bytes, rules_dir: str | Path) -> list[Finding]:
    """Run the official schematron XSLTs from ``rules_dir`` over ``xml`` (compiled once per process)."""
    try:
        processor, executables = _executables(Path(rules_dir))
    except ImportError:
        return [_f("OFFICIAL_RULES_UNAVAILABLE", "", N_("The official Peppol rules could not be run: "
                   "the saxonche package is not installed."),
                   N_("Install flask-maventa[peppol] or unset MAVENTA_PEPPOL_RULES_DIR."), severity="warning")]
    from lxml import etree

    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    found = []
    for exe in executables:
        try:
            svrl = exe.transform_to_string(xdm_node=node)
        except Exception as e:  # noqa: BLE001 - a dynamic error inside a rule fails the document, as officially
            found.append(_f("OFFICIAL-RUNTIME-ERROR", "", N_("The official rules failed on this invoice: {error}"),
                            N_("Send the invoice data to support."), error=" ".join(str(e).split())))
            continue
        for fa in etree.fromstring(svrl.encode("utf-8")).iter(_SVRL + "failed-assert", _SVRL + "successful-report"):
            rule = fa.get("id") or "(no id)"
            text = " ".join(" ".join(t.itertext()) for t in fa.findall(_SVRL + "text")).split()
            message = re.sub(r"^\[" + re.escape(rule) + r"\]\s*-?\s*", "", " ".join(text))
            severity = "warning" if (fa.get("flag") or "fatal").lower() == "warning" else "error"
            found.append(Finding(rule, severity, fa.get("location") or "", "{rule}: {text}",
                                 N_("The e-invoice breaks an official Peppol rule; send the details to support."),
                                 {"rule": rule, "text": message}))
    return found


def _executables(rules_dir: Path):
    key = str(rules_dir.resolve())
    with _compile_lock:
        if key not in _compiled:
            from saxonche import PySaxonProcessor

            missing = [p for p in OFFICIAL_RULE_FILES if not (rules_dir / p).is_file()]
            if missing:
                raise FileNotFoundError(f"MAVENTA_PEPPOL_RULES_DIR={rules_dir} lacks {', '.join(missing)}")
            processor = PySaxonProcessor(license=False)
            xslt = processor.new_xslt30_processor()
            _compiled[key] = (processor, [xslt.compile_stylesheet(stylesheet_file=str(rules_dir / p))
                                          for p in OFFICIAL_RULE_FILES])
        return _compiled[key]
