"""The UBL invoice (or credit note) line: quantity, amount, item, its VAT category and its price."""

from __future__ import annotations

from decimal import Decimal

from ..invoice import InvoiceLine
from ..totals import vat_key
from .amounts import AmountWriter
from .nodes import Node

GTIN_SCHEME = "0160"


class LineWriter(AmountWriter):
    """Writes the lines (their allowances, charges and tax categories through :class:`AmountWriter`)."""

    def line(self, root: Node, index: int, line: InvoiceLine, amount: Decimal) -> None:
        credit = self.doc.is_credit_note
        src = f"lines[{index - 1}]"
        el = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine", src)
        self.cbc(el, "ID", line.id or str(index), f"{src}.id")
        self.cbc(el, "Note", line.note, f"{src}.note")
        self.cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", line.quantity, f"{src}.quantity",
                 unitCode=line.unit_code)
        self.amount(el, "LineExtensionAmount", amount, src=src)
        self.cbc(el, "AccountingCost", line.accounting_cost, f"{src}.accounting_cost")
        if line.period:
            self.period(el, line.period, f"{src}.period")
        if line.order_line_reference:
            self.cbc(self.cac(el, "OrderLineReference", f"{src}.order_line_reference"), "LineID",
                     line.order_line_reference, f"{src}.order_line_reference")
        if line.object_id:
            ref = self.cac(el, "DocumentReference", f"{src}.object_id")
            self.cbc(ref, "ID", line.object_id, f"{src}.object_id", schemeID=line.object_id_scheme)
            self.cbc(ref, "DocumentTypeCode", "130")
        for j, ac in enumerate(line.allowances_charges):
            self.allowance_charge(el, ac, f"{src}.allowances_charges[{j}]", with_tax=False)
        item = self.cac(el, "Item", src)
        self.cbc(item, "Description", line.description, f"{src}.description")
        self.cbc(item, "Name", line.name, f"{src}.name")
        for name, value in (("BuyersItemIdentification", line.buyer_item_id),
                            ("SellersItemIdentification", line.seller_item_id)):
            field = f"{src}.{'buyer' if name.startswith('Buyers') else 'seller'}_item_id"
            if value:
                self.cbc(self.cac(item, name, field), "ID", value, field)
        if line.standard_item_id:
            self.cbc(self.cac(item, "StandardItemIdentification", f"{src}.standard_item_id"), "ID",
                     line.standard_item_id, f"{src}.standard_item_id",
                     schemeID=line.standard_item_scheme or GTIN_SCHEME)
        if line.origin_country:
            self.cbc(self.cac(item, "OriginCountry", f"{src}.origin_country"), "IdentificationCode",
                     line.origin_country, f"{src}.origin_country")
        for j, c in enumerate(line.classifications):
            csrc = f"{src}.classifications[{j}]"
            self.cbc(self.cac(item, "CommodityClassification", csrc), "ItemClassificationCode", c.code,
                     f"{csrc}.code", listID=c.list_id, listVersionID=c.list_version)
        category, rate = vat_key(line.vat_category, line.vat_rate)
        self.tax_category(item, "ClassifiedTaxCategory", category, rate, src)
        for j, a in enumerate(line.attributes):
            asrc = f"{src}.attributes[{j}]"
            prop = self.cac(item, "AdditionalItemProperty", asrc)
            self.cbc(prop, "Name", a.name, f"{asrc}.name")
            self.cbc(prop, "Value", a.value, f"{asrc}.value")
        price = self.cac(el, "Price", f"{src}.unit_price")
        self.amount(price, "PriceAmount", line.unit_price, src=f"{src}.unit_price")
        if line.price_base_quantity is not None:
            self.cbc(price, "BaseQuantity", line.price_base_quantity, f"{src}.price_base_quantity",
                     unitCode=line.unit_code)
        if line.gross_price is not None:
            discount = self.cac(price, "AllowanceCharge", f"{src}.gross_price")
            self.cbc(discount, "ChargeIndicator", "false")
            self.amount(discount, "Amount", line.gross_price - line.unit_price, src=f"{src}.gross_price")
            self.amount(discount, "BaseAmount", line.gross_price, src=f"{src}.gross_price")
