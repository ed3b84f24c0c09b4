"""The UBL groups of the amounts: allowances and charges, VAT categories, the VAT breakdown and the
document totals (every figure from :func:`~flask_maventa.document.totals.compute_totals`)."""

from __future__ import annotations

from decimal import Decimal

from ..invoice import AllowanceCharge
from ..totals import allowance_amount, money, vat_key
from .nodes import ElementWriter, Node


class AmountWriter(ElementWriter):
    """Writes allowances and charges, tax categories, the tax total and the monetary total."""

    def tax_category(self, parent: Node, name: str, category: str, rate: Decimal | None, src: str,
                     reason: str | None = None, reason_code: str | None = None) -> None:
        el = self.cac(parent, name, src)
        self.cbc(el, "ID", category, f"{src}.vat_category")
        if category != "O":
            self.cbc(el, "Percent", rate if rate is not None else Decimal(0), f"{src}.vat_rate")
        self.cbc(el, "TaxExemptionReasonCode", reason_code, f"{src}.vat_exemption_reason_code")
        self.cbc(el, "TaxExemptionReason", reason, f"{src}.vat_exemption_reason")
        self.cbc(self.cac(el, "TaxScheme"), "ID", "VAT")

    def allowance_charge(self, parent: Node, ac: AllowanceCharge, src: str, *, with_tax: bool) -> None:
        el = self.cac(parent, "AllowanceCharge", src)
        self.cbc(el, "ChargeIndicator", "true" if ac.is_charge else "false", f"{src}.is_charge")
        self.cbc(el, "AllowanceChargeReasonCode", ac.reason_code, f"{src}.reason_code")
        self.cbc(el, "AllowanceChargeReason", ac.reason, f"{src}.reason")
        # Percent and base amount go together or not at all (PEPPOL-EN16931-R041/R042)
        base = ac.base_amount if ac.percent is not None else None
        if base is not None:
            self.cbc(el, "MultiplierFactorNumeric", ac.percent, f"{src}.percent")
        if ac.amount is not None or base is not None:  # no amount to write: pre-flight refuses it (BR-31/36/41/43)
            self.amount(el, "Amount", allowance_amount(ac), src=f"{src}.amount")
        if base is not None:
            self.amount(el, "BaseAmount", money(base), src=f"{src}.base_amount")
        if with_tax:
            category, rate = vat_key(ac.vat_category, ac.vat_rate)
            self.tax_category(el, "TaxCategory", category, rate, src)

    def tax_total(self, root: Node) -> None:
        t = self.totals
        total = self.cac(root, "TaxTotal", "lines")
        self.amount(total, "TaxAmount", t.tax_amount, src="expected_vat_total")
        for s in t.breakdown:
            src = self.breakdown_source(s.category, s.rate)
            sub = self.cac(total, "TaxSubtotal", src)
            self.amount(sub, "TaxableAmount", s.taxable_amount, src=src)
            self.amount(sub, "TaxAmount", s.tax_amount, src=src)
            self.tax_category(sub, "TaxCategory", s.category, s.rate, src, s.exemption_reason,
                              s.exemption_reason_code)
        if t.tax_amount_in_tax_currency is not None:
            self.amount(self.cac(root, "TaxTotal", "tax_exchange_rate"), "TaxAmount", t.tax_amount_in_tax_currency,
                        currency=self.doc.tax_currency, src="tax_exchange_rate")

    def breakdown_source(self, category: str, rate: Decimal | None) -> str:
        """The first line (else document allowance/charge) of a VAT breakdown row: where its
        category, rate and exemption reason come from."""
        for i, line in enumerate(self.doc.lines):
            if vat_key(line.vat_category, line.vat_rate) == (category, rate):
                return f"lines[{i}]"
        for i, ac in enumerate(self.doc.allowances_charges):
            if vat_key(ac.vat_category, ac.vat_rate) == (category, rate):
                return f"allowances_charges[{i}]"
        return "lines"

    def monetary_total(self, root: Node) -> None:
        t = self.totals
        el = self.cac(root, "LegalMonetaryTotal", "lines")
        self.amount(el, "LineExtensionAmount", t.line_extension_amount)
        self.amount(el, "TaxExclusiveAmount", t.tax_exclusive_amount)
        self.amount(el, "TaxInclusiveAmount", t.tax_inclusive_amount)
        if self.doc.allowances_charges:
            self.amount(el, "AllowanceTotalAmount", t.allowance_total, src="allowances_charges")
            self.amount(el, "ChargeTotalAmount", t.charge_total, src="allowances_charges")
        if self.doc.prepaid_amount is not None:
            self.amount(el, "PrepaidAmount", t.prepaid_amount, src="prepaid_amount")
        if self.doc.rounding_amount is not None:
            self.amount(el, "PayableRoundingAmount", t.rounding_amount, src="rounding_amount")
        self.amount(el, "PayableAmount", t.payable_amount, src="expected_total")
