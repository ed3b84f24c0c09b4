"""What every pre-flight check shares: the constants of the rules, where a finance user fixes a field, and
the small helpers the country rules use too."""

from __future__ import annotations

import re

from ..findings import Finding, Severity
from ..invoice import InvoiceDocument, Party, PaymentMeans
from ..markers import N_

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


def effective_payment_means(doc: InvoiceDocument) -> tuple[PaymentMeans, ...]:
    """The payment means the UBL carries (see ``ubl.writer.UblWriter.payment_means_list``)."""
    if doc.is_credit_note and doc.due_date and not doc.payment_means:
        return (PaymentMeans(code="1"),)
    return doc.payment_means


def _code_unknown(field: str, value: str, what: str, rules: tuple[str, ...]) -> Finding:
    return _f("CODE_UNKNOWN", field, N_("{value} is not a valid {what}."), N_("Choose a valid {what} — {where}."),
              value=value, what=what, rules=rules)
