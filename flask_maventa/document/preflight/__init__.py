"""Pre-flight: an invoice is checked before it leaves, and one that fails is never sent.

:func:`check_document` is our own set of checks. Each finding names the JSON-form field, tells
a finance user what to change, and lists the official EN 16931 / Peppol BIS 3.0 rule ids it
stands for (``Finding.rules``): the checks refuse, before any XML is written, what those fatal
rules would refuse (``tests/ubl/test_rule_coverage.py`` measures how much). The builder runs
them too, so it never writes a document it cannot represent. The Peppol country rules are in
:mod:`flask_maventa.document.preflight.national`.

:func:`preflight` adds the official rules themselves when their files are configured
(``MAVENTA_PEPPOL_RULES_DIR``, needs the ``peppol`` extra: saxonche); their findings are mapped
back to the JSON-form field the failing element was written from.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

from .. import codes
from .. import identifiers as ids
from ..findings import DocumentError, Finding, Severity, errors
from ..invoice import AllowanceCharge, InvoiceDocument, Party, PaymentMeans
from ..markers import N_
from ..totals import VAT_TOLERANCE, ZERO, Totals, compute_totals, money, vat_key

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["OFFICIAL_RULE_FILES", "DocumentError", "Finding", "check_document", "preflight"]

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # Maventa: UBL attachments up to 10 MB each
ATTACHMENT_WARN_BYTES = 5 * 1024 * 1024  # some operators reject more than 5 MB
EIA_MAX_LENGTH = 128  # Maventa's recipient_eia
EMAIL_MAX_LENGTH = 255  # Maventa's recipient_email
# PEPPOL-EN16931-P0100 without 326/384 (Germany only, P0112)
INVOICE_TYPE_CODES = {"71", "80", "82", "84", "102", "218", "219", "331", "380", "382", "383", "386", "388", "393",
                      "395", "553", "575", "623", "780", "817", "870", "875", "876", "877"}
GERMAN_ONLY_TYPE_CODES = {"326", "384"}
CREDIT_NOTE_TYPE_CODES = {"381", "396", "81", "83", "532"}  # PEPPOL-EN16931-P0101
ZERO_CATEGORIES = {"Z", "E", "AE", "K", "G"}
REASON_REQUIRED = {"E", "AE", "K", "G", "O"}
REASON_FORBIDDEN = {"S", "Z", "L", "M"}
RULE_PREFIX = {"S": "S", "Z": "Z", "E": "E", "AE": "AE", "K": "IC", "G": "G", "O": "O", "L": "AF", "M": "AG"}
"""The EN 16931 rule family of each VAT category: BR-S-*, BR-IC-* (K), BR-AF-* (L, IGIC), ..."""
VATEX_CATEGORY = {"VATEX-EU-G": "G", "VATEX-EU-O": "O", "VATEX-EU-IC": "K", "VATEX-EU-AE": "AE",
                  "VATEX-EU-D": "E", "VATEX-EU-F": "E", "VATEX-EU-I": "E", "VATEX-EU-J": "E"}
VATEX_RULE = {"VATEX-EU-G": "P0104", "VATEX-EU-O": "P0105", "VATEX-EU-IC": "P0106", "VATEX-EU-AE": "P0107",
              "VATEX-EU-D": "P0108", "VATEX-EU-F": "P0109", "VATEX-EU-I": "P0110", "VATEX-EU-J": "P0111"}
CREDIT_TRANSFER = {"30", "31", "42", "58"}
VAT_EXAMPLES = {"NO": "NO123456785MVA", "SE": "SE556036079301", "FI": "FI20774740", "DK": "DK13585628",
                "DE": "DE136695976", "GB": "GB980780684", "CH": "CHE-109.456.246 MWST", "EL": "EL094259216",
                "IS": "IS123456"}
"""A well-formed VAT number per country, shown in hints (a country's own example, never another's)."""

_WHERE = {
    "seller": N_("open the company settings"),
    "buyer": N_("open the customer card"),
    "payee": N_("check the payee (factoring company) on the invoice"),
    "tax_representative": N_("open the company settings"),
    "payment_means": N_("check the bank and payment details in the company settings"),
}
_ON_INVOICE = N_("open the invoice in the ERP")


def where(field: str) -> str:
    """Where a finance user changes ``field`` (a marked string, translated when rendered)."""
    return _WHERE.get(re.split(r"[.\[]", field, maxsplit=1)[0], _ON_INVOICE)


def _f(code: str, field: str, message: str, hint: str = "", /, *, severity: Severity = "error",
       rules: tuple[str, ...] = (), **params: object) -> Finding:
    params.setdefault("where", where(field))
    return Finding(code, severity, field, message, hint, params, tuple(rules))


def country_of(party: Party | None) -> str | None:
    return party.address.country if party and party.address else None


def peppol_seller_country(doc: InvoiceDocument) -> str | None:
    """The seller's country as the Peppol country rules see it: the VAT number's prefix, else the
    tax representative's, else the address (``$supplierCountry`` in the Peppol Schematron)."""
    for vat in (doc.seller.vat_number, doc.tax_representative.vat_number if doc.tax_representative else None):
        if vat and not _only_outside_vat(doc):
            return vat[:2].upper()
    return country_of(doc.seller)


def _only_outside_vat(doc: InvoiceDocument) -> bool:
    categories = {line.vat_category for line in doc.lines} | {
        ac.vat_category for ac in doc.allowances_charges if ac.vat_category}
    return bool(categories) and categories == {"O"}


# -- our own checks -------------------------------------------------------------------

def check_document(doc: InvoiceDocument, *, pdf: bytes | None = None, totals: Totals | None = None) -> list[Finding]:
    """Every problem our own rules find in ``doc`` (errors and warnings), all at once.

    ``totals``: the document's :func:`compute_totals`, when the caller has them already.
    """
    from .national import national  # the country rules use the helpers above

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


def _code_unknown(field: str, value: str, what: str, rules: tuple[str, ...]) -> Finding:
    return _f("CODE_UNKNOWN", field, N_("{value} is not a valid {what}."), N_("Choose a valid {what} — {where}."),
              value=value, what=what, rules=rules)


class _Who(TypedDict):
    """The placeholder every finding about a party fills: which party it is."""

    who: str


def _party(doc: InvoiceDocument, party: Party, role: str) -> Iterator[Finding]:
    seller = role == "seller"
    who = N_("The company") if seller else N_("The customer")
    params: _Who = {"who": who}
    if not (party.name or party.registration_name):
        yield _f(f"{role.upper()}_NO_NAME", f"{role}.name", N_("{who} has no name."),
                 N_("Fill in the name — {where}."), rules=("BR-06",) if seller else ("BR-07",), **params)
    a = party.address
    if a is None or not a.country:
        rules = (("BR-08", "BR-09") if seller else ("BR-10", "BR-11")) if a is None else \
            (("BR-09",) if seller else ("BR-11",))
        yield _f(f"{role.upper()}_NO_COUNTRY", f"{role}.address.country", N_("{who} has no country in its address."),
                 N_("Fill in the address with its country — {where}."), rules=rules, **params)
    elif a.country not in codes.COUNTRIES:
        yield _f("COUNTRY_UNKNOWN", f"{role}.address.country",
                 N_("The country code {country} is not an ISO 3166 country."),
                 N_("Choose the country from the list — {where}."), country=a.country, rules=("BR-CL-14",), **params)
    if a is not None:
        for name, label in (("street", N_("street address")), ("city", N_("city")), ("post_code", N_("post code"))):
            if not getattr(a, name):
                yield _f(f"{role.upper()}_NO_{name.upper()}", f"{role}.address.{name}",
                         N_("{who} has no {part}."), N_("Fill in the address — {where}."), part=label,
                         rules=_national_address_rules(doc, role, name), **params)
    if role == "buyer" and len(party.identifiers) > 1:
        yield _f("BUYER_IDENTIFIERS", "buyer.identifiers", N_("The customer may carry only one extra identifier."),
                 N_("Keep one identifier (e.g. the GLN) — {where}."), rules=("UBL-SR-16",), **params)
    for i, ident in enumerate(party.identifiers):
        field = f"{role}.identifiers[{i}]"
        sepa = ident.scheme == "SEPA" and seller
        if ident.scheme and ident.scheme not in codes.ICD and not sepa:
            yield _code_unknown(f"{field}.scheme", ident.scheme, N_("identifier scheme (ISO 6523)"), ("BR-CL-10",))
        elif not ids.scheme_value_ok(ident.scheme, ident.value):
            yield _identifier_invalid(f"{field}.value", ident.scheme, ident.value)
    yield from _endpoint(party, role, params)
    yield from _legal_id(party, role, params)
    if party.vat_number:
        yield from _vat_number(doc, party.vat_number, f"{role}.vat_number", seller=seller)
    if party.email and len(party.email) > EMAIL_MAX_LENGTH:
        yield _f("EMAIL_TOO_LONG", f"{role}.email", N_("The email address is longer than {max} characters."),
                 N_("Correct the email address — {where}."), max=EMAIL_MAX_LENGTH, **params)
    if seller and not (party.vat_number or party.legal_id or any(i.scheme != "SEPA" for i in party.identifiers)):
        yield _f("SELLER_NO_IDENTIFICATION", "seller.legal_id",
                 N_("The company has neither an organisation number nor a VAT number."),
                 N_("Fill in the organisation number — {where}."), rules=("BR-CO-26",), **params)
    if seller and country_of(party) == "NO" and not party.tax_registration:
        yield _f("NO_FORETAKSREGISTERET", "seller.tax_registration",
                 N_("Norwegian limited companies must state \"Foretaksregisteret\" on their invoices."),
                 N_("Fill in \"Foretaksregisteret\" as tax registration — {where}."), severity="warning", **params)


def _national_address_rules(doc: InvoiceDocument, role: str, part: str) -> tuple[str, ...]:
    """The Peppol country rules that require this address part (besides our own print rule)."""
    s, b = country_of(doc.seller), country_of(doc.buyer)
    table: dict[str, str] = {}
    if role == "seller":
        if peppol_seller_country(doc) == "IT":
            table = {"street": "IT-R-002", "city": "IT-R-003", "post_code": "IT-R-004"}
        elif s == "NL":
            table = dict.fromkeys(("street", "city", "post_code"), "NL-R-002")
        elif s == "IS":
            table = {"street": "IS-R-003", "post_code": "IS-R-003"}
        elif s == "DE" and b == "DE":
            table = {"city": "DE-R-003", "post_code": "DE-R-004"}
    elif s == b:
        table = {"NL": dict.fromkeys(("street", "city", "post_code"), "NL-R-004"),
                 "IS": {"street": "IS-R-005", "post_code": "IS-R-005"},
                 "DE": {"city": "DE-R-008", "post_code": "DE-R-009"}}.get(s or "", {})
    return (table[part],) if part in table else ()


def _identifier_invalid(field: str, scheme: str | None, value: str) -> Finding:
    rule = ids.SCHEME_RULES[scheme or ""][0]
    return _f("IDENTIFIER_INVALID", field, N_("The identifier {value} is not valid for scheme {scheme} "
              "(wrong length or check digit)."), N_("Correct the identifier — {where}."),
              value=value, scheme=scheme, rules=(rule,))


def _endpoint(party: Party, role: str, params: _Who) -> Iterator[Finding]:
    endpoint = party.effective_endpoint()
    field = f"{role}.endpoint"
    if endpoint is None or not endpoint.value:
        yield _f(f"{role.upper()}_NO_IDENTIFIER", field,
                 N_("{who} has neither an e-invoice address nor an organisation number."),
                 N_("Fill in the organisation number or the e-invoice address — {where}."),
                 rules=("PEPPOL-EN16931-R020",) if role == "seller" else ("PEPPOL-EN16931-R010",), **params)
        return
    if not endpoint.scheme:
        yield _f("ENDPOINT_NO_SCHEME", f"{field}.scheme", N_("The e-invoice address {value} has no scheme."),
                 N_("Fill in the scheme of the e-invoice address, e.g. 0192 for a Norwegian organisation number "
                    "— {where}."), value=endpoint.value, rules=("BR-62",) if role == "seller" else ("BR-63",),
                 **params)
    elif endpoint.scheme in codes.WITHDRAWN_EAS:
        replacement = codes.WITHDRAWN_EAS_REPLACEMENT.get(endpoint.scheme)
        hint = (N_("Use the scheme {replacement} instead — {where}.") if replacement
                else N_("Ask the customer for their current Peppol address — {where}."))
        yield _f("ENDPOINT_SCHEME_WITHDRAWN", f"{field}.scheme",
                 N_("The e-invoice address scheme {scheme} is no longer accepted in Peppol."), hint,
                 scheme=endpoint.scheme, replacement=replacement or "", rules=("PEPPOL-EN16931-CL008",), **params)
    elif endpoint.scheme not in codes.EAS:
        yield _f("ENDPOINT_SCHEME_UNKNOWN", f"{field}.scheme",
                 N_("The e-invoice address scheme {scheme} is not a Peppol scheme."),
                 N_("Correct the e-invoice address — {where}."), scheme=endpoint.scheme,
                 rules=("BR-CL-25", "PEPPOL-EN16931-CL008"), **params)
    elif not _endpoint_value_ok(endpoint.scheme, endpoint.value):
        rule = ids.SCHEME_RULES.get(endpoint.scheme)
        yield _f("ENDPOINT_INVALID", f"{field}.value" if party.endpoint else f"{role}.legal_id",
                 N_("The e-invoice address {eia} is not valid (wrong length or check digit)."),
                 N_("Correct the e-invoice address — {where}."), eia=endpoint.eia,
                 rules=(rule[0],) if rule else (), **params)
    if len(endpoint.eia) > EIA_MAX_LENGTH:
        yield _f("ENDPOINT_TOO_LONG", f"{field}.value", N_("The e-invoice address is too long."),
                 N_("Correct the e-invoice address — {where}."), **params)


def _endpoint_value_ok(scheme: str, value: str) -> bool:
    """The Peppol format rules, plus the Finnish OVT code's form (0037 + business id) Maventa routes by."""
    if scheme == "0216" and not re.fullmatch(r"0037[0-9]{8}[0-9A-Za-z]{0,5}", value):
        return False
    return ids.scheme_value_ok(scheme, value)


def _legal_id(party: Party, role: str, params: _Who) -> Iterator[Finding]:
    field = f"{role}.legal_id"
    if party.legal_id_scheme and party.legal_id_scheme not in codes.ICD:
        yield _f("LEGAL_ID_SCHEME_UNKNOWN", f"{field}_scheme",
                 N_("The identifier scheme {scheme} is not an ISO 6523 scheme."),
                 N_("Correct the organisation number — {where}."), scheme=party.legal_id_scheme,
                 rules=("BR-CL-11",), **params)
    elif party.legal_id and not ids.scheme_value_ok(party.legal_id_scheme, party.legal_id):
        rule = ids.SCHEME_RULES[party.legal_id_scheme or ""][0]
        yield _f("LEGAL_ID_INVALID", field, N_("The organisation number {value} is not valid."),
                 N_("Correct the organisation number — {where}."), value=party.legal_id, rules=(rule,), **params)


def _vat_number(doc: InvoiceDocument, vat: str, field: str, *, seller: bool) -> Iterator[Finding]:
    """BR-CO-09 asks only for an ISO 3166 prefix (``EL`` for Greece): a Swiss ``CHE-109.456.246 MWST``
    is fine. A country's own format is checked where a Peppol rule (NO, SE, GR sellers) or the
    country itself (python-stdnum) defines it; the hint shows that country's own example."""
    prefix = vat[:2].upper()
    if vat[:2] not in codes.VAT_PREFIXES:
        yield _f("VAT_NUMBER_NO_PREFIX", field,
                 N_("The VAT number {value} does not start with a country code (ISO 3166, EL for Greece)."),
                 N_("Write the country code in front of the number, e.g. {example} — {where}."), value=vat,
                 example=VAT_EXAMPLES.get(country_of(doc.seller if seller else doc.buyer) or "", "DE136695976"),
                 rules=("BR-CO-09",))
        return
    rules: tuple[str, ...] = ()
    if seller and prefix == "NO" and not (re.fullmatch(r"NO[0-9]{9}MVA", vat) and ids.mod11_no_ok(vat[2:11])):
        rules = ("NO-R-001",)
    elif seller and prefix == "SE" and country_of(doc.seller) == "SE":
        rules = tuple(r for r, ok in (("SE-R-001", len(vat) == 14), ("SE-R-002", vat[2:].isdigit())) if not ok)
    elif seller and prefix in ("EL", "GR") and not (prefix == "EL" and ids.greek_tin_ok(vat[2:])):
        rules = ("GR-R-003",)
    valid = ids.vat_number_valid(vat)
    if rules or valid is False:
        example = VAT_EXAMPLES.get(prefix)
        message = {
            "NO": N_("The Norwegian VAT number {value} is not valid: it is NO, the 9-digit organisation number "
                     "and MVA, like {example}."),
            "SE": N_("The Swedish VAT number {value} is not valid: it is SE, 12 digits (the organisation number "
                     "and 01), like {example}."),
            "EL": N_("The Greek VAT number {value} is not valid: it is EL and the 9-digit TIN, like {example}."),
        }.get(prefix, N_("The VAT number {value} is not valid for {country} (format or check digit)."))
        hint = N_("Correct the VAT number, e.g. {example} — {where}.") if example else \
            N_("Correct the VAT number — {where}.")
        nordic = prefix in ("NO", "SE", "FI", "DK")
        yield _f("VAT_NUMBER_INVALID", field, message, hint, value=vat, example=example or "", country=prefix,
                 severity="error" if rules or nordic else "warning", rules=rules)


def _payee_and_representative(doc: InvoiceDocument) -> Iterator[Finding]:
    p = doc.payee
    if p:
        if not p.name:
            yield _f("PAYEE_NO_NAME", "payee.name", N_("The payee has no name."),
                     N_("Fill in the name of the payee (e.g. the factoring company) — {where}."), rules=("BR-17",))
        elif p.name == doc.seller.name or (p.identifier and p.identifier in {i.value for i in doc.seller.identifiers}):
            yield _f("PAYEE_IS_SELLER", "payee", N_("The payee is the company itself."),
                     N_("Leave the payee out when the company is paid itself."), rules=("BR-17",))
        if p.identifier_scheme and p.identifier_scheme not in codes.ICD and p.identifier_scheme != "SEPA":
            yield _code_unknown("payee.identifier_scheme", p.identifier_scheme, N_("identifier scheme (ISO 6523)"),
                                ("BR-CL-10",))
        elif p.identifier and not ids.scheme_value_ok(p.identifier_scheme, p.identifier):
            yield _identifier_invalid("payee.identifier", p.identifier_scheme, p.identifier)
        if p.legal_id_scheme and p.legal_id_scheme not in codes.ICD:
            yield _code_unknown("payee.legal_id_scheme", p.legal_id_scheme, N_("identifier scheme (ISO 6523)"),
                                ("BR-CL-11",))
        elif p.legal_id and not ids.scheme_value_ok(p.legal_id_scheme, p.legal_id):
            yield _identifier_invalid("payee.legal_id", p.legal_id_scheme, p.legal_id)
    r = doc.tax_representative
    if r:
        who = N_("The tax representative")
        if not r.name:
            yield _f("REPRESENTATIVE_NO_NAME", "tax_representative.name", N_("{who} has no name."),
                     N_("Fill in the name — {where}."), who=who, rules=("BR-18",))
        if r.address is None:
            yield _f("REPRESENTATIVE_NO_ADDRESS", "tax_representative.address", N_("{who} has no address."),
                     N_("Fill in the address with its country — {where}."), who=who, rules=("BR-19",))
        elif not r.address.country:
            yield _f("REPRESENTATIVE_NO_COUNTRY", "tax_representative.address.country",
                     N_("{who} has no country in its address."),
                     N_("Fill in the address with its country — {where}."), who=who, rules=("BR-20",))
        elif r.address.country not in codes.COUNTRIES:
            yield _f("COUNTRY_UNKNOWN", "tax_representative.address.country",
                     N_("The country code {country} is not an ISO 3166 country."),
                     N_("Choose the country from the list — {where}."), country=r.address.country,
                     rules=("BR-CL-14",))
        if not r.vat_number:
            yield _f("REPRESENTATIVE_NO_VAT", "tax_representative.vat_number", N_("{who} has no VAT number."),
                     N_("Fill in the VAT number — {where}."), who=who, rules=("BR-56",))
        else:
            yield from _vat_number(doc, r.vat_number, "tax_representative.vat_number", seller=False)
    d = doc.delivery
    if d:
        if d.address and not d.address.country:
            yield _f("DELIVERY_NO_COUNTRY", "delivery.address.country",
                     N_("The delivery address has no country."),
                     N_("Fill in the country of the delivery address on the invoice."), rules=("BR-57",))
        elif d.address and d.address.country not in codes.COUNTRIES:
            yield _f("COUNTRY_UNKNOWN", "delivery.address.country",
                     N_("The country code {country} is not an ISO 3166 country."),
                     N_("Choose the country from the list — {where}."), country=d.address.country,
                     rules=("BR-CL-14",))
        if d.location_scheme and d.location_scheme not in codes.ICD:
            yield _code_unknown("delivery.location_scheme", d.location_scheme, N_("identifier scheme (ISO 6523)"),
                                ("BR-CL-26",))


def _lines(doc: InvoiceDocument) -> Iterator[Finding]:
    hint = N_("Correct line {line} of the invoice.")
    period = doc.invoice_period
    nl_seller = country_of(doc.seller) == "NL"
    for i, line in enumerate(doc.lines):
        f, n = f"lines[{i}]", i + 1
        if not line.name:
            yield _f("LINE_NO_NAME", f"{f}.name", N_("Line {line} has no item name."), hint, line=n, rules=("BR-25",))
        if line.unit_price < 0:
            yield _f("LINE_NEGATIVE_PRICE", f"{f}.unit_price",
                     N_("Line {line} has a negative price; a price can never be negative."),
                     N_("Make the price positive and the quantity negative to credit something on line {line}."),
                     line=n, rules=("BR-27",))
        if line.gross_price is not None and line.gross_price < 0:
            yield _f("LINE_NEGATIVE_PRICE", f"{f}.gross_price",
                     N_("Line {line} has a negative list price; a price can never be negative."), hint, line=n,
                     rules=("BR-28",))
        elif line.gross_price is not None and line.gross_price < line.unit_price:
            yield _f("LINE_GROSS_BELOW_NET", f"{f}.gross_price",
                     N_("On line {line} the list price is lower than the discounted price."), hint, line=n)
        if line.price_base_quantity is not None and line.price_base_quantity <= 0:
            yield _f("LINE_BASE_QUANTITY", f"{f}.price_base_quantity",
                     N_("On line {line} the price unit quantity must be above zero."), hint, line=n,
                     rules=("PEPPOL-EN16931-R121",))
        if line.unit_code not in codes.UNIT_CODES:
            yield _f("LINE_UNIT_UNKNOWN", f"{f}.unit_code",
                     N_("Line {line} uses the unit {unit}, which is not a UN/ECE unit code."),
                     N_("Map the ERP unit to a UN/ECE unit code (e.g. HUR for hours, C62 for pieces)."),
                     line=n, unit=line.unit_code, rules=("BR-CL-23",))
        if line.origin_country and line.origin_country not in codes.COUNTRIES:
            yield _f("COUNTRY_UNKNOWN", f"{f}.origin_country",
                     N_("The country code {country} is not an ISO 3166 country."), hint, country=line.origin_country,
                     line=n, rules=("BR-CL-15",))
        if line.standard_item_scheme and line.standard_item_scheme not in codes.ICD:
            yield _code_unknown(f"{f}.standard_item_scheme", line.standard_item_scheme,
                                N_("identifier scheme (ISO 6523)"), ("BR-CL-21",))
        for j, c in enumerate(line.classifications):
            if not c.list_id:
                yield _f("CLASSIFICATION_NO_SCHEME", f"{f}.classifications[{j}].list_id",
                         N_("An item classification on line {line} has no scheme."),
                         N_("Give the scheme of the classification, e.g. TST for UNSPSC or STL for CPV."), line=n,
                         rules=("BR-65",))
            elif c.list_id not in codes.ITEM_CLASSIFICATION_SCHEMES:
                yield _code_unknown(f"{f}.classifications[{j}].list_id", c.list_id,
                                    N_("item classification scheme (UNTDID 7143)"), ("BR-CL-13",))
        for j, a in enumerate(line.attributes):
            if not (a.name and a.value):
                yield _f("ATTRIBUTE_INCOMPLETE", f"{f}.attributes[{j}]",
                         N_("An item attribute on line {line} lacks its name or its value."),
                         N_("Give every item attribute both a name and a value."), line=n, rules=("BR-54",))
        lp = line.period
        if lp and lp.start and lp.end and lp.end < lp.start:
            yield _f("PERIOD_INVERTED", f"{f}.period", N_("The period of line {line} ends before it starts."),
                     hint, line=n, rules=("BR-30",))
        if lp and period:
            outside = tuple(r for r, bad in (
                ("PEPPOL-EN16931-R110", lp.start and period.start and
                 not (period.start <= lp.start <= (period.end or lp.start))),
                ("PEPPOL-EN16931-R111", lp.end and period.end and
                 not ((period.start or lp.end) <= lp.end <= period.end))) if bad)
            if outside:
                yield _f("LINE_PERIOD_OUTSIDE", f"{f}.period",
                         N_("The period of line {line} is outside the invoice period."), hint, line=n, rules=outside)
        if nl_seller and line.order_line_reference and not doc.order_reference:
            yield _f("ORDER_REFERENCE_MISSING", "order_reference",
                     N_("Line {line} refers to an order line, but the invoice has no order number."),
                     N_("Fill in the customer's order number on the invoice."), line=n, rules=("NL-R-009",))
        for j, ac in enumerate(line.allowances_charges):
            yield from _allowance(ac, f"{f}.allowances_charges[{j}]", document_level=False)


def _allowance(ac: AllowanceCharge, field: str, *, document_level: bool) -> Iterator[Finding]:
    hint = N_("Correct the discounts and fees of the invoice.")
    what = N_("fee") if ac.is_charge else N_("discount")
    kind = (("BR-36", "BR-38", "BR-CO-22") if ac.is_charge else ("BR-31", "BR-33", "BR-CO-21")) if document_level \
        else (("BR-43", "BR-44", "BR-CO-24") if ac.is_charge else ("BR-41", "BR-42", "BR-CO-23"))
    if ac.amount is None and (ac.percent is None or ac.base_amount is None):
        yield _f("ALLOWANCE_NO_AMOUNT", field, N_("A {what} has neither an amount nor a percentage with its base."),
                 hint, what=what, rules=kind[:1])
    elif ac.amount is not None and ac.percent is not None and ac.base_amount is not None and \
            abs(money(ac.amount) - money(ac.base_amount) * ac.percent / 100) > Decimal("0.02"):
        yield _f("SUMS_INCONSISTENT", f"{field}.amount",
                 N_("A {what} of {percent} % of {base} should be {expected}, not {amount}."), hint, what=what,
                 percent=ac.percent, base=ac.base_amount, amount=ac.amount,
                 expected=money(ac.base_amount * ac.percent / 100), rules=("PEPPOL-EN16931-R040",))
    if ac.amount is not None and ac.amount < 0:
        yield _f("ALLOWANCE_NEGATIVE", f"{field}.amount", N_("A {what} has a negative amount."),
                 N_("Use a discount instead of a negative fee (and the other way round)."), what=what)
    if not (ac.reason or ac.reason_code):
        yield _f("ALLOWANCE_NO_REASON", f"{field}.reason", N_("A {what} has no reason."),
                 N_("Give the discount or fee a description on the invoice."), what=what, rules=kind[1:])
    valid = codes.CHARGE_REASONS if ac.is_charge else codes.ALLOWANCE_REASONS
    if ac.reason_code and ac.reason_code not in valid:
        yield _f("ALLOWANCE_REASON_CODE", f"{field}.reason_code",
                 N_("The reason code {code} is not allowed for a {what}."),
                 N_("Remove the reason code or use one from the Peppol list."), code=ac.reason_code, what=what,
                 rules=("BR-CL-20", "PEPPOL-EN16931-CL003") if ac.is_charge else ("BR-CL-19", "PEPPOL-EN16931-CL002"))
    if document_level and not ac.vat_category:
        yield _f("ALLOWANCE_NO_VAT", f"{field}.vat_category",
                 N_("A {what} on the whole invoice has no VAT category."),
                 N_("Choose the VAT code of the discount or fee on the invoice."), what=what,
                 rules=("BR-37",) if ac.is_charge else ("BR-32",))


# (field, VAT category, rate, exemption reason, its code, what it is, its number, rule number 05/06/07)
VatItem = tuple[str, str, Decimal | None, str | None, str | None, str, int, str]


class _VatItemParams(TypedDict):
    """The placeholders of the findings about one VAT item."""

    category: str
    item: str
    n: int
    rate: Decimal | None


def _vat(doc: InvoiceDocument) -> Iterator[Finding]:
    """VAT categories, rates and exemption reasons of lines and document allowances/charges, by the
    rule family of each category (BR-S-*, BR-Z-*, BR-E-*, BR-AE-*, BR-IC-*, BR-G-*, BR-O-*, BR-AF-*,
    BR-AG-*): rule 05/06/07 the rate of a line/allowance/charge, 02/03/04 the VAT identifiers, 10
    the exemption reason."""
    for j, ac in enumerate(doc.allowances_charges):
        yield from _allowance(ac, f"allowances_charges[{j}]", document_level=True)
    items: list[VatItem] = [(f"lines[{i}]", line.vat_category, line.vat_rate, line.vat_exemption_reason,
              line.vat_exemption_reason_code, N_("line {n}"), i + 1, "05") for i, line in enumerate(doc.lines)]
    items += [(f"allowances_charges[{j}]", ac.vat_category, ac.vat_rate, ac.vat_exemption_reason,
               ac.vat_exemption_reason_code, N_("discount or fee {n}"), j + 1, "07" if ac.is_charge else "06")
              for j, ac in enumerate(doc.allowances_charges) if ac.vat_category]
    se_vat = country_of(doc.seller) == "SE" and (doc.seller.vat_number or "")[:2] == "SE"
    hint = N_("Check the VAT code of {item} on the invoice.")
    reasons_by_key: dict[tuple[str, Decimal | None], set[tuple[str | None, str | None]]] = {}
    for field, category, rate, reason, reason_code, item, n, number in items:
        p: _VatItemParams = {"category": category, "item": item, "n": n, "rate": rate}
        family = RULE_PREFIX.get(category, category)
        rule = (f"BR-{family}-{number}",)
        if not category:
            yield _f("VAT_CATEGORY_MISSING", f"{field}.vat_category", N_("{item} has no VAT category."), hint,
                     rules=("BR-CO-04",), **p)
        elif category == "S":
            if rate is None or rate <= 0:
                yield _f("VAT_RATE_MISSING", f"{field}.vat_rate", N_("{item} is taxed at the standard VAT category "
                         "but has no VAT rate above zero."), hint, rules=rule, **p)
            elif se_vat and rate not in (25, 12, 6):
                yield _f("VAT_RATE_INVALID", f"{field}.vat_rate", N_("{rate} % is not a Swedish VAT rate."),
                         N_("Use 25, 12 or 6 % on {item}."), rules=("SE-R-006",), **p)
        elif category in ZERO_CATEGORIES and rate not in (None, 0):
            yield _f("VAT_RATE_NOT_ZERO", f"{field}.vat_rate",
                     N_("{item} has VAT category {category}, whose rate must be 0 %."), hint, rules=rule, **p)
        elif category in ("L", "M") and rate is not None and rate < 0:
            yield _f("VAT_RATE_NEGATIVE", f"{field}.vat_rate", N_("{item} has a negative VAT rate."), hint,
                     rules=rule, **p)
        elif category == "O" and rate not in (None, 0):
            yield _f("VAT_RATE_NOT_ZERO", f"{field}.vat_rate",
                     N_("{item} is outside the scope of VAT and cannot have a VAT rate."), hint, rules=rule, **p)
        if category in REASON_FORBIDDEN and (reason or reason_code):
            yield _f("VAT_REASON_NOT_ALLOWED", f"{field}.vat_exemption_reason",
                     N_("{item} has VAT category {category}, which must not carry an exemption reason."), hint,
                     rules=(f"BR-{family}-10",), **p)
        if reason_code:
            code = reason_code.upper()
            if code not in codes.VATEX:
                yield _f("VAT_REASON_CODE_UNKNOWN", f"{field}.vat_exemption_reason_code",
                         N_("{code} is not a VAT exemption reason code."), hint, code=reason_code,
                         rules=("BR-CL-22",), **p)
            elif VATEX_CATEGORY.get(code, category) != category:
                yield _f("VAT_REASON_CODE_MISMATCH", f"{field}.vat_exemption_reason_code",
                         N_("The exemption reason {code} needs VAT category {expected}, not {category}."), hint,
                         code=reason_code, expected=VATEX_CATEGORY[code],
                         rules=(f"PEPPOL-EN16931-{VATEX_RULE[code]}",), **p)
        if reason or reason_code:
            reasons_by_key.setdefault(vat_key(category, rate), set()).add((reason, reason_code))
    categories = {x[1] for x in items}
    for key in {vat_key(x[1], x[2]) for x in items}:
        if key[0] in REASON_REQUIRED and key not in reasons_by_key:
            yield _f("VAT_REASON_MISSING", "lines", N_("Lines with VAT category {category} need an exemption reason "
                     "(why no VAT is charged)."),
                     N_("Fill in the VAT exemption reason on the VAT code {category} in the ERP's VAT settings."),
                     category=key[0], rules=(f"BR-{RULE_PREFIX[key[0]]}-10",))
        elif len(reasons_by_key.get(key, ())) > 1:
            yield _f("VAT_REASON_CONFLICT", "lines", N_("Lines with VAT category {category} give different "
                     "exemption reasons; only the first one is sent."),
                     N_("Use one exemption reason per VAT code."), severity="warning", category=key[0])
    yield from _vat_identifiers(doc, items, categories)


def _vat_identifiers(doc: InvoiceDocument, items: list[VatItem], categories: set[str]) -> Iterator[Finding]:
    """Rules 02/03/04 of each category family: which VAT identifiers the document must (or, outside
    the scope of VAT, must not) carry; and the O exclusivity rules BR-O-11..14."""
    def rules_for(category: str) -> tuple[str, ...]:
        family = RULE_PREFIX[category]
        numbers = {"02" if x[0].startswith("lines") else x[7].replace("06", "03").replace("07", "04")
                   for x in items if x[1] == category}
        return tuple(sorted(f"BR-{family}-{n}" for n in numbers))

    rep_vat = bool(doc.tax_representative and doc.tax_representative.vat_number)
    if "O" in categories and len(categories) > 1:
        mixed = ["BR-O-11"] + [r for r, kinds in (("BR-O-12", "05"), ("BR-O-13", "06"), ("BR-O-14", "07"))
                               if any(x[1] != "O" and x[7] == kinds for x in items)]
        yield _f("VAT_OUTSIDE_SCOPE_MIXED", "lines", N_("An invoice outside the scope of VAT (category O) cannot "
                 "have lines with other VAT categories."), N_("Split the invoice in two."),
                 rules=tuple(mixed) + rules_for("O"))
    elif categories == {"O"} and rep_vat:
        yield _f("VAT_OUTSIDE_SCOPE_REPRESENTATIVE", "tax_representative",
                 N_("An invoice outside the scope of VAT cannot name a VAT representative."),
                 N_("Leave the tax representative out of this invoice."), rules=rules_for("O"))
    charging = sorted(categories - {"O"})
    if charging and not (doc.seller.vat_number or rep_vat):
        # a tax registration text (BT-32) satisfies the rules except for K and G, but whoever
        # charges or exempts VAT needs a VAT number: refused either way, named by the rules it breaks
        official = [c for c in charging if c in ("K", "G") or not doc.seller.tax_registration]
        yield _f("SELLER_NO_VAT", "seller.vat_number", N_("The company has no VAT number."),
                 N_("Fill in the VAT number in the company settings."),
                 rules=tuple(r for c in official for r in rules_for(c)))
    for category in charging:
        if category == "AE" and not (doc.buyer.vat_number or doc.buyer.legal_id):
            yield _f("BUYER_NO_VAT", "buyer.vat_number",
                     N_("Reverse charge and intra-community supplies need the customer's VAT number."),
                     N_("Fill in the VAT number — open the customer card."), rules=rules_for(category))
        if category == "K" and not doc.buyer.vat_number:
            yield _f("BUYER_NO_VAT", "buyer.vat_number",
                     N_("Reverse charge and intra-community supplies need the customer's VAT number."),
                     N_("Fill in the VAT number — open the customer card."), rules=rules_for(category))
    if "K" in categories:
        d = doc.delivery
        if not ((d and d.date) or doc.invoice_period or doc.tax_point_date_code):
            yield _f("IC_NO_DELIVERY_DATE", "delivery.date",
                     N_("An intra-community supply needs the delivery date or the invoice period."),
                     N_("Fill in the delivery date on the invoice."), rules=("BR-IC-11",))
        if not (d and d.address and d.address.country):
            yield _f("IC_NO_DELIVERY_COUNTRY", "delivery.address.country",
                     N_("An intra-community supply needs the country the goods were delivered to."),
                     N_("Fill in the delivery address on the invoice."), rules=("BR-IC-12",))


def effective_payment_means(doc: InvoiceDocument) -> tuple[PaymentMeans, ...]:
    """The payment means the UBL carries (see ``_UblWriter.payment_means_list``)."""
    if doc.is_credit_note and doc.due_date and not doc.payment_means:
        return (PaymentMeans(code="1"),)
    return doc.payment_means


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


# -- the official rules -----------------------------------------------------------------

OFFICIAL_RULE_FILES = ("rules/CEN-EN16931-UBL.xslt", "rules/PEPPOL-EN16931-UBL.xslt")
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
class _SaxonProcessor(Protocol):
    """What we use of saxonche's ``PySaxonProcessor`` (a compiled module without types)."""

    def parse_xml(self, *, xml_text: str) -> object: ...


class _SaxonExecutable(Protocol):
    """What we use of a compiled stylesheet (saxonche's ``PyXsltExecutable``)."""

    def transform_to_string(self, *, xdm_node: object) -> str: ...


_compiled: dict[str, tuple[_SaxonProcessor, list[_SaxonExecutable]]] = {}
_compile_lock = threading.Lock()


def preflight(doc: InvoiceDocument, *, rules_dir: str | Path | None = None,
              pdf: bytes | None = None) -> list[Finding]:
    """All findings for ``doc``: our own checks, then (when ``rules_dir`` is given, saxonche is
    installed and our checks passed) the official EN 16931 and Peppol BIS 3.0 rules."""
    findings = check_document(doc, pdf=pdf)
    if rules_dir is None or errors(findings):
        return findings
    from ..ubl import write_ubl

    xml, origin = write_ubl(doc, pdf=pdf)
    return findings + official_findings(xml, rules_dir, origin=origin)


def official_findings(xml: bytes, rules_dir: str | Path, *, origin: Mapping[str, str] | None = None) -> list[Finding]:
    """Run the official schematron XSLTs from ``rules_dir`` over ``xml`` (compiled once per process).

    Each failed assertion becomes a finding on the JSON-form field the failing element was
    written from (``origin``, from :func:`flask_maventa.document.ubl.write_ubl`), with a hint saying where
    to change it; the official rule text is kept as the message's detail.
    """
    try:
        processor, executables = _executables(Path(rules_dir))
    except ImportError:
        return [_f("OFFICIAL_RULES_UNAVAILABLE", "", N_("The official Peppol rules could not be run: "
                   "the saxonche package is not installed."),
                   N_("Install flask-maventa[peppol] or unset MAVENTA_PEPPOL_RULES_DIR."), severity="warning")]
    from lxml import etree

    tree = etree.fromstring(xml)
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    found = []
    for exe in executables:
        try:
            svrl = exe.transform_to_string(xdm_node=node)
        except Exception as e:  # noqa: BLE001 - a dynamic error inside a rule fails the document, as officially
            found.append(_f("OFFICIAL-RUNTIME-ERROR", "", N_("The official rules failed on this invoice: {error}"),
                            N_("Check the amounts and dates of the invoice."), error=" ".join(str(e).split())))
            continue
        for fa in etree.fromstring(svrl.encode("utf-8")).iter(_SVRL + "failed-assert", _SVRL + "successful-report"):
            rule = fa.get("id") or "(no id)"
            text = " ".join(" ".join(t.itertext()) for t in fa.findall(_SVRL + "text")).split()
            message = re.sub(r"^\[" + re.escape(rule) + r"\]\s*-?\s*", "", " ".join(text))
            severity: Severity = "warning" if (fa.get("flag") or "fatal").lower() == "warning" else "error"
            field = _field_of(tree, fa.get("location") or "", origin or {})
            found.append(Finding(rule, severity, field, N_("The e-invoice breaks the Peppol rule {rule}: {text}"),
                                 N_("Check {field} — {where}."),
                                 {"rule": rule, "text": message, "field": field or N_("the invoice"),
                                  "where": where(field)}, (rule,)))
    return found


def _field_of(tree: etree._Element, location: str, origin: Mapping[str, str]) -> str:
    """The JSON-form field of the element an SVRL ``location`` points at (its nearest written ancestor)."""
    steps = re.findall(r"\*:([A-Za-z]+)(?:\[namespace-uri\(\)='[^']*'\])?\[(\d+)\]", location)
    if not steps or not origin:
        return ""
    path = "/" + "/".join(f"*[local-name()='{name}'][{index}]" for name, index in steps)
    try:
        hits = tree.getroottree().xpath(path)
    except Exception:  # noqa: BLE001 - an unusual location: report on the document
        return ""
    element = hits[0] if hits else None
    while element is not None:
        field = origin.get(element.getroottree().getpath(element))
        if field:
            return field
        element = element.getparent()
    return ""


def _executables(rules_dir: Path) -> tuple[_SaxonProcessor, list[_SaxonExecutable]]:
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
