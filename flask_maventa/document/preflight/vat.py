"""Pre-flight of the VAT categories, rates, exemption reasons and VAT identifiers (BG-23)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TypedDict

from .. import codes
from ..findings import Finding
from ..invoice import InvoiceDocument
from ..markers import N_
from ..totals import vat_key
from .common import (
    REASON_FORBIDDEN,
    REASON_REQUIRED,
    RULE_PREFIX,
    VATEX_CATEGORY,
    VATEX_RULE,
    ZERO_CATEGORIES,
    _f,
    country_of,
)
from .lines import _allowance

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


