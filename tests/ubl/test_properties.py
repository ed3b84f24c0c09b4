"""Property tests: random lines, rates and allowances always give totals that satisfy the
EN 16931 sum rules, and the documents stay valid under the official rules."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_maventa.document.invoice import AllowanceCharge, InvoiceLine
from flask_maventa.document.totals import compute_totals, line_net_amount, money
from flask_maventa.document.ubl import build_ubl

from .conftest import CASES, load_case

BASE = load_case(next(p for p in CASES if p.stem == "no_domestic_basic"))
RATES = [Decimal(r) for r in ("25", "15", "12", "11.11", "6")]

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
quantities = st.decimals(min_value=Decimal("-20"), max_value=Decimal("500"), places=3).filter(lambda q: q != 0)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("9999"), places=4)


@st.composite
def allowance(draw, *, document_level: bool):
    is_charge = draw(st.booleans())
    kw = {"vat_category": "S", "vat_rate": draw(st.sampled_from(RATES))} if document_level else {}
    if draw(st.booleans()):
        return AllowanceCharge(is_charge=is_charge, amount=draw(amounts), reason="r", **kw)
    return AllowanceCharge(is_charge=is_charge, percent=draw(st.decimals(min_value=1, max_value=50, places=1)),
                           base_amount=draw(amounts), reason="r", **kw)


@st.composite
def line(draw):
    category = draw(st.sampled_from(["S", "S", "S", "Z", "E"]))
    return InvoiceLine(
        name="item", quantity=draw(quantities), unit_price=draw(prices), vat_category=category,
        vat_rate=draw(st.sampled_from(RATES)) if category == "S" else Decimal(0),
        vat_exemption_reason="Exempt" if category == "E" else None,
        price_base_quantity=draw(st.sampled_from([None, Decimal(1), Decimal(100)])),
        allowances_charges=tuple(draw(st.lists(allowance(document_level=False), max_size=2))),
    )


documents = st.builds(
    lambda lines, acs, prepaid, rounding: dataclasses.replace(
        BASE, lines=tuple(lines), allowances_charges=tuple(acs), prepaid_amount=prepaid, rounding_amount=rounding),
    st.lists(line(), min_size=1, max_size=8),
    st.lists(allowance(document_level=True), max_size=3),
    st.none() | amounts,
    st.none() | st.decimals(min_value=Decimal("-0.99"), max_value=Decimal("0.99"), places=2),
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_totals_satisfy_the_en16931_sum_rules(doc):
    t = compute_totals(doc)
    two = Decimal("0.01")
    for amount in (t.line_extension_amount, t.tax_exclusive_amount, t.tax_amount, t.payable_amount):
        assert amount == amount.quantize(two)  # BR-DEC: two decimals at most
    assert t.line_extension_amount == sum(t.line_amounts)  # BR-CO-10
    assert t.allowance_total == sum(money(a.amount if a.amount is not None else a.base_amount * a.percent / 100)
                                    for a in doc.allowances_charges if not a.is_charge)  # BR-CO-11
    assert t.tax_exclusive_amount == t.line_extension_amount - t.allowance_total + t.charge_total  # BR-CO-13
    assert t.tax_amount == sum(s.tax_amount for s in t.breakdown)  # BR-CO-14
    assert t.tax_inclusive_amount == t.tax_exclusive_amount + t.tax_amount  # BR-CO-15
    assert t.payable_amount == t.tax_inclusive_amount - t.prepaid_amount + t.rounding_amount  # BR-CO-16
    assert sum(s.taxable_amount for s in t.breakdown) == t.tax_exclusive_amount  # BR-CO-18 + BR-S-08 sums
    for s in t.breakdown:  # BR-CO-17: category VAT = taxable × rate, rounded
        assert s.tax_amount == money(s.taxable_amount * (s.rate or 0) / 100)
    for line_, amount in zip(doc.lines, t.line_amounts, strict=True):  # PEPPOL-EN16931-R120 within its 0.02 slack
        base = line_.price_base_quantity or 1
        exact = line_.quantity * line_.unit_price / base + sum(
            (money(a.amount if a.amount is not None else a.base_amount * a.percent / 100) * (1 if a.is_charge else -1)
             for a in line_.allowances_charges), Decimal(0))
        assert abs(amount - exact) <= Decimal("0.005") and amount == line_net_amount(line_)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents)
def test_generated_documents_stay_valid(assert_valid, doc):
    assert_valid(build_ubl(doc), "generated")
