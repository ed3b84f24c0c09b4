"""The Peppol BIS 3.0 country rules (DK, SE, IT, IS, NL, DE, GR) as pre-flight checks.

Each check applies when the Peppol Schematron would apply it (mostly: the seller's address
country, for some rules the buyer's too; Italy and Greece by the seller's VAT prefix) and
names the rule id it stands for; NO-R-001, SE-R-001/002/006 and GR-R-003 sit with the VAT
checks in :mod:`flask_maventa.document.preflight`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from .. import identifiers as ids
from ..findings import Finding
from ..invoice import InvoiceDocument
from ..markers import N_
from .common import _f, country_of, effective_payment_means, peppol_seller_country

__all__ = ["national"]

DK_DOMESTIC_MEANS = {"1", "10", "31", "42", "48", "49", "50", "58", "59", "93", "97"}
NL_DOMESTIC_MEANS = {"30", "48", "49", "57", "58", "59"}
GREEK_DOCUMENT_TYPES = {"1.1", "1.6", "2.1", "2.4", "5.1", "5.2"}
MARK, INVOICE_URL, EINDAGI = "##M.AR.K##", "##INVOICE|URL##", "EINDAGI"
SKONTO = re.compile(r"^#SKONTO#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$")

_SCHEME_MESSAGE = N_("{who}'s organisation number must have the scheme {scheme}.")
_SCHEME_HINT = N_("Set the scheme {scheme} on the organisation number — {where}.")


def national(doc: InvoiceDocument) -> Iterator[Finding]:
    """Every country rule finding of ``doc``."""
    s, b = country_of(doc.seller), country_of(doc.buyer)
    if s == "DK":
        yield from _denmark(doc, domestic=b == "DK")
    if s == "SE":
        yield from _sweden(doc)
    if peppol_seller_country(doc) == "IT":
        yield from _italy(doc)
    if s == "IS":
        yield from _iceland(doc, domestic=b == "IS")
    if s == "NL":
        yield from _netherlands(doc, domestic=b == "NL")
    if s == "DE" and b == "DE":
        yield from _germany(doc)
    if peppol_seller_country(doc) in ("GR", "EL") or _vat_country(doc.seller.vat_number, s) in ("GR", "EL"):
        yield from _greece(doc)


def _vat_country(vat: str | None, address_country: str | None) -> str | None:
    return vat[:2].upper() if vat else address_country


# -- Denmark ----------------------------------------------------------------------------

def _denmark(doc: InvoiceDocument, *, domestic: bool) -> Iterator[Finding]:
    seller = doc.seller
    if not seller.legal_id:
        yield _f("DK_SELLER_CVR", "seller.legal_id", N_("Danish sellers must give their CVR number (scheme 0184)."),
                 N_("Fill in the CVR number — {where}."), rules=("DK-R-002",))
    elif seller.legal_id_scheme != "0184":
        yield _f("DK_SELLER_CVR", "seller.legal_id_scheme", _SCHEME_MESSAGE, _SCHEME_HINT, who=N_("The company"),
                 scheme="0184", rules=("DK-R-014",))
    if not domestic:
        return
    if doc.buyer.legal_id and doc.buyer.legal_id_scheme != "0184":
        yield _f("DK_BUYER_CVR_SCHEME", "buyer.legal_id_scheme", _SCHEME_MESSAGE, _SCHEME_HINT,
                 who=N_("The customer"), scheme="0184", rules=("DK-R-017",))
    for role, party in (("seller", seller), ("buyer", doc.buyer)):
        for i, ident in enumerate(party.identifiers):
            if not ident.scheme:
                yield _f("DK_IDENTIFIER_SCHEME", f"{role}.identifiers[{i}].scheme",
                         N_("The identifier {value} has no scheme; Danish invoices need one."),
                         N_("Set the scheme of the identifier, e.g. 0088 for a GLN — {where}."), value=ident.value,
                         rules=("DK-R-013",))
    for i, line in enumerate(doc.lines):
        for j, c in enumerate(line.classifications):
            if c.list_id == "TST" and c.list_version not in ("19.05.01", "19.0501", "26.08.01", "26.0801"):
                yield _f("DK_UNSPSC_VERSION", f"lines[{i}].classifications[{j}].list_version",
                         N_("Danish invoices use UNSPSC version 19.05.01 or 26.08.01 (line {line})."),
                         N_("Set the UNSPSC version 26.08.01 on the item classification."), line=i + 1,
                         rules=("DK-R-003",))
    acs = [(f"allowances_charges[{j}]", ac) for j, ac in enumerate(doc.allowances_charges)]
    acs += [(f"lines[{i}].allowances_charges[{j}]", ac) for i, line in enumerate(doc.lines)
            for j, ac in enumerate(line.allowances_charges)]
    for field, ac in acs:
        reason = ac.reason or ""
        if ac.reason_code == "ZZZ" and not (re.fullmatch(r"[0-9]{4}", reason) or (
                "#" in reason and not reason.startswith("#") and not reason.endswith("#"))):
            yield _f("DK_TAX_REASON", f"{field}.reason",
                     N_("A Danish non-VAT tax (reason code ZZZ) needs its 4-digit tax category as the reason."),
                     N_("Write the tax category (e.g. 0102) as the reason of the fee."), rules=("DK-R-004",))
    if doc.is_credit_note:
        return
    for i, m in enumerate(doc.payment_means):
        f, pid, account = f"payment_means[{i}]", m.payment_id or "", (m.account or "").replace(" ", "")
        if m.code not in DK_DOMESTIC_MEANS:
            yield _f("DK_PAYMENT_CODE", f"{f}.code", N_("Danish invoices cannot use payment means code {code}."),
                     N_("Use 58 (SEPA transfer with IBAN) or 31/42 (account with registration number)."),
                     code=m.code, rules=("DK-R-005",))
        elif m.code in ("31", "42") and not (m.account and m.bic):
            yield _f("DK_PAYMENT_ACCOUNT", f"{f}.bic",
                     N_("Danish bank transfers need both the account and the registration number."),
                     N_("Add the company's bank account in the company settings."), rules=("DK-R-006",))
        elif m.code == "49" and not (m.mandate_id and m.payer_account):
            yield _f("DK_BETALINGSSERVICE", f"{f}.payer_account" if m.mandate_id else f"{f}.mandate_id",
                     N_("Betalingsservice (code 49) needs the mandate and the customer's account."),
                     N_("Fill in the Betalingsservice agreement and the customer's account on the customer card."),
                     rules=("DK-R-007",))
        elif m.code == "50":
            if not (pid[:3] in ("01#", "04#", "15#") and re.fullmatch(r"[0-9]{7,8}", account)):
                yield _f("DK_GIRO", f"{f}.payment_id",
                         N_("A Danish giro payment (code 50) needs a payment id starting 01#, 04# or 15# and a "
                            "7 or 8 digit giro account."), N_("Check the giro settings of the ERP."),
                         rules=("DK-R-008",))
            elif pid[:3] in ("04#", "15#") and len(pid) != 19:
                yield _f("DK_GIRO", f"{f}.payment_id",
                         N_("The giro payment id {ref} needs the 16-digit instruction id after the card type."),
                         N_("Check the giro settings of the ERP."), ref=pid, rules=("DK-R-009",))
        elif m.code == "93":
            if not (pid[:3] in ("71#", "73#", "75#") and len(account) == 8):
                yield _f("DK_FIK", f"{f}.payment_id",
                         N_("A Danish FIK payment (code 93) needs a payment id starting 71#, 73# or 75# and an "
                            "8-character creditor number."), N_("Check the FIK settings of the ERP."),
                         rules=("DK-R-010",))
            elif pid[:3] in ("71#", "75#") and len(pid) not in (18, 19):
                yield _f("DK_FIK", f"{f}.payment_id",
                         N_("The FIK payment id {ref} needs the 15 or 16 digit instruction id after the card type."),
                         N_("Check the FIK settings of the ERP."), ref=pid, rules=("DK-R-011",))


# -- Sweden, Italy ----------------------------------------------------------------------

def _sweden(doc: InvoiceDocument) -> Iterator[Finding]:
    seller = doc.seller
    if seller.legal_id:
        value = seller.legal_id
        rules = tuple(r for r, ok in (("SE-R-003", value.isdigit()), ("SE-R-004", len(value) == 10),
                                      ("SE-R-013", ids.luhn_ok(value))) if not ok)
        if rules:
            yield _f("LEGAL_ID_INVALID", "seller.legal_id",
                     N_("The Swedish organisation number {value} is not valid: it has 10 digits, like 5560360793."),
                     N_("Correct the organisation number — {where}."), value=value, rules=rules)
        if seller.tax_registration and seller.tax_registration.upper() != "GODKÄND FÖR F-SKATT":
            yield _f("SE_F_TAX_TEXT", "seller.tax_registration",
                     N_("Swedish sellers must write exactly \"Godkänd för F-skatt\" as tax registration."),
                     N_("Correct the tax registration text — {where}."), rules=("SE-R-005",))


def _italy(doc: InvoiceDocument) -> Iterator[Finding]:
    reg = doc.seller.tax_registration
    if reg and not re.fullmatch(r"[A-Z0-9]{11,16}", reg):
        yield _f("IT_TAX_REGISTRATION", "seller.tax_registration",
                 N_("An Italian seller's tax registration must be 11 to 16 letters or digits (codice fiscale)."),
                 N_("Correct the tax registration — {where}."), rules=("IT-R-001",))


# -- Iceland ----------------------------------------------------------------------------

def _iceland(doc: InvoiceDocument, *, domestic: bool) -> Iterator[Finding]:
    if not (doc.seller.legal_id and doc.seller.legal_id_scheme == "0196"):
        yield _f("IS_KENNITALA", "seller.legal_id", N_("Icelandic sellers must give their kennitala (scheme 0196)."),
                 N_("Fill in the kennitala with scheme 0196 — {where}."), rules=("IS-R-002",))
    if domestic and not (doc.buyer.legal_id and doc.buyer.legal_id_scheme == "0196"):
        yield _f("IS_KENNITALA", "buyer.legal_id", N_("Icelandic customers need their kennitala (scheme 0196)."),
                 N_("Fill in the kennitala with scheme 0196 — {where}."), rules=("IS-R-004",))
    for code, rule in (("9", "IS-R-006"), ("42", "IS-R-007")):
        means = [(i, m) for i, m in enumerate(doc.payment_means) if m.code == code]
        if means and len((means[0][1].account or "").replace(" ", "")) != 12:
            yield _f("IS_ACCOUNT", f"payment_means[{means[0][0]}].account",
                     N_("Icelandic payments with code {code} need the 12-digit account number."),
                     N_("Add the company's bank account in the company settings."), code=code, rules=(rule,))
    for i, a in enumerate(doc.attachments):
        if a.description != EINDAGI:
            continue
        try:
            final = dt.date.fromisoformat(a.id or "") if len(a.id or "") == 10 else None
        except ValueError:
            final = None
        if final is None:
            yield _f("IS_EINDAGI", f"attachments[{i}].id",
                     N_("The final due date (eindagi) must be a date YYYY-MM-DD."),
                     N_("Write the eindagi as YYYY-MM-DD on the invoice."), rules=("IS-R-008",))
        elif not doc.due_date:
            yield _f("IS_EINDAGI", "due_date", N_("An invoice with a final due date (eindagi) needs a due date."),
                     N_("Fill in the due date on the invoice."), rules=("IS-R-009",))
        elif doc.due_date > final:
            yield _f("IS_EINDAGI", f"attachments[{i}].id", N_("The final due date (eindagi) is before the due date."),
                     N_("Correct the eindagi or the due date on the invoice."), rules=("IS-R-010",))


# -- the Netherlands --------------------------------------------------------------------

def _netherlands(doc: InvoiceDocument, *, domestic: bool) -> Iterator[Finding]:
    from ..totals import compute_totals

    if doc.is_credit_note and not doc.billing_references:
        yield _f("CREDIT_NOTE_NO_INVOICE", "billing_references",
                 N_("The credit note does not say which invoice it credits."),
                 N_("Link the credit note to the original invoice in the ERP."), rules=("NL-R-001",))
    schemes = ("0106", "0190")
    parties = [("seller", doc.seller, "NL-R-003", N_("The company"))]
    if domestic:
        parties.append(("buyer", doc.buyer, "NL-R-005", N_("The customer")))
    for role, party, rule, who in parties:
        if party.legal_id and party.legal_id_scheme not in schemes:
            yield _f("NL_KVK", f"{role}.legal_id_scheme", _SCHEME_MESSAGE, _SCHEME_HINT, who=who,
                     scheme="0106 (KVK) / 0190 (OIN)", rules=(rule,))
    if doc.is_credit_note and doc.lines and not effective_payment_means(doc) and compute_totals(doc).payable_amount < 0:
        yield _f("SELLER_NO_BANK_ACCOUNT", "payment_means", N_("The invoice does not say where to pay."),
                 N_("Add the company's bank account in the company settings."), rules=("NL-R-007",))
    if domestic:
        for i, m in enumerate(effective_payment_means(doc)):
            if m.code not in NL_DOMESTIC_MEANS:
                yield _f("NL_PAYMENT_CODE", f"payment_means[{i}].code" if doc.payment_means else "due_date",
                         N_("Dutch invoices cannot use payment means code {code}."),
                         N_("Use 30 or 58 (credit transfer), 48 (card) or 49/59 (direct debit)."), code=m.code,
                         rules=("NL-R-008",))
    r = doc.tax_representative
    if r and r.address and r.address.country == "NL":
        for part in ("street", "city", "post_code"):
            if not getattr(r.address, part):
                yield _f("REPRESENTATIVE_ADDRESS", f"tax_representative.address.{part}",
                         N_("The Dutch tax representative's address needs street, city and post code."),
                         N_("Fill in the address — {where}."), rules=("NL-R-006",))
                break


# -- Germany ----------------------------------------------------------------------------

def _germany(doc: InvoiceDocument) -> Iterator[Finding]:
    seller = doc.seller
    if doc.is_credit_note and not doc.payment_means:  # an invoice without one is refused in preflight._payment
        yield _f("SELLER_NO_BANK_ACCOUNT", "payment_means", N_("The invoice does not say where to pay."),
                 N_("Add the company's bank account in the company settings."), rules=("DE-R-001",))
    if not doc.buyer_reference:
        yield _f("DE_BUYER_REFERENCE", "buyer_reference",
                 N_("German customers need their reference (Leitweg-ID or \"Ihr Zeichen\") on the invoice."),
                 N_("Fill in \"Your reference\" on the invoice."), rules=("DE-R-015",))
    contact = (("contact_name", N_("contact person"), "DE-R-005"), ("phone", N_("contact phone"), "DE-R-006"),
               ("email", N_("contact email"), "DE-R-007"))
    if not (seller.contact_name or seller.phone or seller.email):
        yield _f("DE_SELLER_CONTACT", "seller.contact_name", N_("{who} has no {part}."),
                 N_("Fill in the contact person, phone and email — {where}."), who=N_("The company"),
                 part=N_("contact person"), rules=("DE-R-002", "DE-R-005", "DE-R-006", "DE-R-007"))
    else:
        for name, part, rule in contact:
            if not getattr(seller, name):
                yield _f("DE_SELLER_CONTACT", f"seller.{name}", N_("{who} has no {part}."),
                         N_("Fill in the contact person, phone and email — {where}."), who=N_("The company"),
                         part=part, rules=(rule,))
    address = doc.delivery.address if doc.delivery else None
    for part, label, rule in (("city", N_("city"), "DE-R-010"), ("post_code", N_("post code"), "DE-R-011")):
        if address and not getattr(address, part):
            yield _f("DE_DELIVERY_ADDRESS", f"delivery.address.{part}", N_("The delivery address has no {part}."),
                     N_("Fill in the delivery address on the invoice."), part=label, rules=(rule,))
    categories = {line.vat_category for line in doc.lines} | {
        ac.vat_category for ac in doc.allowances_charges if ac.vat_category}
    if "O" in categories:
        yield _f("DE_VAT_RATE", "lines", N_("German invoices need a VAT rate in every VAT category, which category "
                 "O (outside the scope of VAT) cannot have."), N_("Use the VAT category E (exempt) with rate 0."),
                 rules=("DE-R-014",))
    if categories - {"O"} and not (seller.vat_number or seller.tax_registration or doc.tax_representative):
        yield _f("SELLER_NO_VAT", "seller.vat_number", N_("The company has no VAT number."),
                 N_("Fill in the VAT number in the company settings."), rules=("DE-R-016",))
    for line in (doc.payment_terms or "").splitlines():
        if line.strip().startswith("#") and not SKONTO.match(line.strip()):
            yield _f("DE_SKONTO", "payment_terms",
                     N_("The cash discount line {text} is not in the form #SKONTO#TAGE=14#PROZENT=2.00#."),
                     N_("Write each cash discount as #SKONTO#TAGE=days#PROZENT=percent.00# on its own line."),
                     text=line.strip(), rules=("DE-R-018",))
    names = [a.filename.lower() for a in doc.attachments if a.filename and a.content is not None]
    if len(names) != len(set(names)):
        yield _f("DE_ATTACHMENT_NAMES", "attachments", N_("Two attachments have the same file name."),
                 N_("Give every attachment its own file name."), rules=("DE-R-022",))
    sepa = any(i.scheme == "SEPA" for i in seller.identifiers) or (doc.payee and doc.payee.identifier_scheme == "SEPA")
    for i, m in enumerate(doc.payment_means):
        f, mandate = f"payment_means[{i}]", bool(m.mandate_id or m.payer_account)
        forbidden = {"30": (m.card, mandate, "DE-R-023-2"), "58": (m.card, mandate, "DE-R-023-2"),
                     "48": (m.account, mandate, "DE-R-024-2"), "54": (m.account, mandate, "DE-R-024-2"),
                     "55": (m.account, mandate, "DE-R-024-2"), "59": (m.account, m.card, "DE-R-025-2")}.get(m.code)
        if forbidden and (forbidden[0] or forbidden[1]):
            yield _f("DE_PAYMENT_MIXED", f"{f}.code",
                     N_("A German payment means {code} carries details of another way to pay."),
                     N_("Give only the bank account for a transfer, only the card for a card payment and only the "
                        "mandate for a direct debit."), code=m.code, rules=(forbidden[2],))
        if m.code in ("48", "54", "55") and not m.card:
            yield _f("DE_PAYMENT_CARD", f"{f}.card", N_("A card payment needs the card details."),
                     N_("Give the last digits of the card on the invoice."), rules=("DE-R-024-1",))
        if m.code == "59" and not mandate:
            yield _f("DE_DIRECT_DEBIT", f"{f}.mandate_id", N_("A direct debit needs the mandate reference."),
                     N_("Fill in the direct debit mandate on the customer card."), rules=("DE-R-025-1",))
        if mandate and not sepa:
            yield _f("DE_CREDITOR_ID", "seller.identifiers",
                     N_("A German direct debit needs the company's SEPA creditor identifier."),
                     N_("Add the SEPA creditor id as an identifier with scheme SEPA — {where}."),
                     rules=("DE-R-030",))
        if mandate and not m.payer_account:
            yield _f("DE_DEBITED_ACCOUNT", f"{f}.payer_account",
                     N_("A German direct debit needs the customer's account that is debited."),
                     N_("Fill in the customer's bank account on the customer card."), rules=("DE-R-031",))


# -- Greece -----------------------------------------------------------------------------

def _greece(doc: InvoiceDocument) -> Iterator[Finding]:
    seller_vat = doc.seller.vat_number or ""
    segments = doc.number.split("|")
    hint = N_("Number Greek invoices TIN|date|branch|type|series|number, e.g. 094259216|01/03/2025|0|1.1|A|1.")
    issue = doc.issue_date
    checks = (
        ("GR-R-001-1", len(segments) == 6),
        ("GR-R-001-2", len(segments[0]) == 9 and ids.greek_tin_ok(segments[0]) and segments[0] in (
            seller_vat[2:11], (doc.tax_representative.vat_number or "")[2:11] if doc.tax_representative else None)),
        ("GR-R-001-3", len(segments) > 1 and segments[1].split("/") == [f"{issue.day:02d}", f"{issue.month:02d}",
                                                                         str(issue.year)]),
        ("GR-R-001-4", len(segments) > 2 and segments[2].isdigit()),
        ("GR-R-001-5", len(segments) > 3 and segments[3] in GREEK_DOCUMENT_TYPES),
        ("GR-R-001-6", len(segments) > 4 and bool(segments[4])),
        ("GR-R-001-7", len(segments) > 5 and bool(segments[5])),
    )
    failed = tuple(rule for rule, ok in checks if not ok)
    if failed and doc.number:
        yield _f("GR_INVOICE_NUMBER", "number", N_("The Greek invoice number {number} does not have the six parts "
                 "the Greek rules require."), hint, number=doc.number, rules=failed)
    for role, party, rule in (("seller", doc.seller, "GR-R-002"), ("buyer", doc.buyer, "GR-R-005")):
        if not party.name:
            yield _f("GR_NAME", f"{role}.name", N_("{who} has no name."), N_("Fill in the name — {where}."),
                     who=N_("The company") if role == "seller" else N_("The customer"), rules=(rule,))
    greek_address = country_of(doc.seller) == "GR"
    marks = [(i, a) for i, a in enumerate(doc.attachments) if a.description == MARK]
    if greek_address and len(marks) != 1:
        yield _f("GR_MARK", "attachments", N_("Greek invoices carry exactly one MARK number."),
                 N_("Add the MARK number as a supporting document with description ##M.AR.K##."),
                 rules=("GR-R-004-1",))
    for i, a in marks:
        if greek_address and not re.match(r"^[1-9]", a.id or ""):
            yield _f("GR_MARK", f"attachments[{i}].id", N_("The MARK number must be a positive number."),
                     N_("Add the MARK number as a supporting document with description ##M.AR.K##."),
                     rules=("GR-R-004-2",))
    urls = [(i, a) for i, a in enumerate(doc.attachments) if a.description == INVOICE_URL]
    if greek_address and len(urls) > 1:
        yield _f("GR_URL", "attachments", N_("Greek invoices carry at most one invoice URL."),
                 N_("Keep one supporting document with description ##INVOICE|URL##."), rules=("GR-R-008-2",))
    for i, a in urls:
        if not a.uri:
            yield _f("GR_URL", f"attachments[{i}].uri", N_("The invoice URL document has no URL."),
                     N_("Give the URL of the invoice on the supporting document."), rules=("GR-R-008-3",))
    endpoint = doc.seller.effective_endpoint()
    if endpoint and endpoint.value and not (endpoint.scheme == "9933" and ids.greek_tin_ok(endpoint.value)):
        yield _f("GR_ENDPOINT", "seller.endpoint", N_("Greek sellers use their TIN with scheme 9933 as e-invoice "
                 "address."), N_("Set the e-invoice address 9933 and the TIN — {where}."), rules=("GR-R-009",))
    buyer_country = _vat_country(doc.buyer.vat_number, country_of(doc.buyer))
    if buyer_country in ("GR", "EL"):
        vat = doc.buyer.vat_number or ""
        if not (vat[:2] == "EL" and ids.greek_tin_ok(vat[2:])):
            yield _f("GR_BUYER_VAT", "buyer.vat_number", N_("A Greek customer needs its VAT number EL and the TIN."),
                     N_("Correct the VAT number, e.g. {example} — {where}."), example="EL094259216",
                     rules=("GR-R-006",))
        endpoint = doc.buyer.effective_endpoint()
        if endpoint and endpoint.value and not (endpoint.scheme == "9933" and ids.greek_tin_ok(endpoint.value)):
            yield _f("GR_ENDPOINT", "buyer.endpoint", N_("Greek customers are reached by their TIN with scheme 9933."),
                     N_("Set the e-invoice address 9933 and the TIN — {where}."), rules=("GR-R-010",))
