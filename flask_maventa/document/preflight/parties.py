"""Pre-flight of the seller, the buyer, the payee and the tax representative (BG-4..BG-11)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypedDict

from .. import codes
from .. import identifiers as ids
from ..findings import Finding
from ..invoice import InvoiceDocument, Party
from ..markers import N_
from .common import (
    EIA_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    VAT_EXAMPLES,
    _code_unknown,
    _f,
    _only_outside_vat,
    country_of,
    peppol_seller_country,
)


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
    # BR-CO-26 counts the identifiers the UBL carries: outside the scope of VAT it carries no VAT number.
    vat_shown = bool(party.vat_number) and not _only_outside_vat(doc)
    if seller and not (vat_shown or party.legal_id or any(i.scheme != "SEPA" for i in party.identifiers)):
        message = (N_("The company has no organisation number, and an invoice outside the scope of VAT carries "
                      "no VAT number.") if party.vat_number else
                   N_("The company has neither an organisation number nor a VAT number."))
        yield _f("SELLER_NO_IDENTIFICATION", "seller.legal_id", message,
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


