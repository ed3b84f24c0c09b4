"""Pre-flight of the invoice lines and the allowances and charges (BG-20..BG-31)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .. import codes
from ..findings import Finding
from ..invoice import AllowanceCharge, InvoiceDocument
from ..markers import N_
from ..totals import money
from .common import _code_unknown, _f, country_of


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
