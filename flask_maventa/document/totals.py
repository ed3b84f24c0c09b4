"""The arithmetic of an invoice, in one place: line net amounts, the VAT breakdown and the
document totals, computed from the lines so they always satisfy the EN 16931 sum rules
(BR-CO-10..16) and the Peppol line rule (PEPPOL-EN16931-R120).

Rounding: every monetary amount is rounded half up to cents where it is produced (line
net amount, allowance/charge amount, VAT per category); sums of rounded amounts are exact.
The VAT of a category is computed on its taxable total (BR-CO-17), never line by line --
unless the ERP sends its own VAT figures (``vat_amounts``, ``expected_vat_total``): those
are used as long as each category stays within the tolerance BR-CO-17 allows (less than one
currency unit), so the e-invoice shows exactly what the ERP's own invoice shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .invoice import AllowanceCharge, InvoiceDocument, InvoiceLine

CENT = Decimal("0.01")
VAT_TOLERANCE = Decimal(1)  # BR-CO-17 / BR-S-09: |VAT - taxable × rate| must stay below one unit
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    """Round half up to cents (the only rounding used for amounts)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allowance_amount(ac: AllowanceCharge) -> Decimal:
    """The amount of an allowance or charge: given, or ``base_amount * percent / 100``."""
    if ac.amount is not None:
        return money(ac.amount)
    if ac.percent is not None and ac.base_amount is not None:
        return money(ac.base_amount * ac.percent / HUNDRED)
    return ZERO  # incomplete; the pre-flight check reports it


def line_gross_amount(line: InvoiceLine) -> Decimal:
    """Quantity × net price / base quantity, rounded: the line amount before line allowances/charges."""
    base = line.price_base_quantity or Decimal(1)
    return money(line.quantity * line.unit_price / base)


def line_net_amount(line: InvoiceLine) -> Decimal:
    """BT-131: line amount + line charges − line allowances."""
    amount = line_gross_amount(line)
    for ac in line.allowances_charges:
        amount += allowance_amount(ac) if ac.is_charge else -allowance_amount(ac)
    return amount


def vat_key(category: str | None, rate: Decimal | None) -> tuple[str, Decimal | None]:
    """The breakdown key: category and normalised rate (none for O; 0 when a zero category has none)."""
    category = category or ""
    if category == "O":
        return category, None
    if rate is None:
        return category, None if category == "S" else ZERO
    return category, rate.normalize() if rate else ZERO


def erp_vat(doc: InvoiceDocument, computed: dict[tuple[str, Decimal | None], Decimal]
            ) -> dict[tuple[str, Decimal | None], Decimal]:
    """The VAT per breakdown row: the ERP's figure where it gives one within :data:`VAT_TOLERANCE`
    of ours (categories without a rate stay 0), else ours. ``expected_vat_total`` without
    per-category figures puts its difference on the category with the largest VAT."""
    vat = dict(computed)
    given = {vat_key(v.category, v.rate): money(v.amount) for v in doc.vat_amounts}
    for key, amount in given.items():
        if key in vat and key[1] and abs(amount - vat[key]) < VAT_TOLERANCE:
            vat[key] = amount
    if doc.expected_vat_total is not None and not given and vat:
        key = max(vat, key=lambda k: (abs(vat[k]), k[1] or 0))
        difference = money(doc.expected_vat_total) - sum(vat.values(), ZERO)
        if key[1] and difference and abs(difference) < VAT_TOLERANCE:
            vat[key] += difference
    return vat


@dataclass(frozen=True)
class VatSubtotal:
    """One row of the VAT breakdown [BG-23]."""

    category: str
    rate: Decimal | None
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


@dataclass(frozen=True)
class Totals:
    """The document totals [BG-22] and the VAT breakdown [BG-23], plus each line's net amount."""

    line_amounts: tuple[Decimal, ...]
    line_extension_amount: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive_amount: Decimal
    tax_amount: Decimal
    tax_inclusive_amount: Decimal
    prepaid_amount: Decimal
    rounding_amount: Decimal
    payable_amount: Decimal
    breakdown: tuple[VatSubtotal, ...]
    tax_amount_in_tax_currency: Decimal | None = None


def compute_totals(doc: InvoiceDocument) -> Totals:
    """All computed amounts of ``doc`` (see the module docstring for the rounding rules)."""
    taxable: dict[tuple[str, Decimal | None], Decimal] = {}
    reasons: dict[tuple[str, Decimal | None], tuple[str | None, str | None]] = {}

    def add(key: tuple[str, Decimal | None], amount: Decimal, reason: str | None, reason_code: str | None) -> None:
        taxable[key] = taxable.get(key, ZERO) + amount
        if key not in reasons or reasons[key] == (None, None):
            reasons[key] = (reason, reason_code)

    line_amounts = tuple(line_net_amount(line) for line in doc.lines)
    for line, amount in zip(doc.lines, line_amounts, strict=True):
        add(vat_key(line.vat_category, line.vat_rate), amount,
            line.vat_exemption_reason, line.vat_exemption_reason_code)

    allowance_total = charge_total = ZERO
    for ac in doc.allowances_charges:
        amount = allowance_amount(ac)
        if ac.is_charge:
            charge_total += amount
        else:
            allowance_total += amount
        add(vat_key(ac.vat_category, ac.vat_rate), amount if ac.is_charge else -amount,
            ac.vat_exemption_reason, ac.vat_exemption_reason_code)

    computed = {key: money(base * key[1] / HUNDRED) if key[1] else ZERO for key, base in taxable.items()}
    vat = erp_vat(doc, computed)
    breakdown = tuple(
        VatSubtotal(category, rate, base, vat[(category, rate)], *reasons[(category, rate)])
        for (category, rate), base in taxable.items()
    )
    line_extension = sum(line_amounts, ZERO)
    tax_exclusive = line_extension - allowance_total + charge_total
    tax_amount = sum((s.tax_amount for s in breakdown), ZERO)
    tax_inclusive = tax_exclusive + tax_amount
    prepaid = money(doc.prepaid_amount or ZERO)
    rounding = money(doc.rounding_amount or ZERO)
    in_tax_currency = None
    if doc.tax_currency and doc.tax_exchange_rate is not None:
        in_tax_currency = money(tax_amount * doc.tax_exchange_rate)
    return Totals(
        line_amounts=line_amounts,
        line_extension_amount=line_extension,
        allowance_total=allowance_total,
        charge_total=charge_total,
        tax_exclusive_amount=tax_exclusive,
        tax_amount=tax_amount,
        tax_inclusive_amount=tax_inclusive,
        prepaid_amount=prepaid,
        rounding_amount=rounding,
        payable_amount=tax_inclusive - prepaid + rounding,
        breakdown=breakdown,
        tax_amount_in_tax_currency=in_tax_currency,
    )
