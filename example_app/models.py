"""The example ERP's own tables: companies and departments, persons, customers, invoice
statuses and invoices with lines. Plain Flask-SQLAlchemy; the extension never sees them,
it asks the adapter (``adapter.py``)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column, relationship

db = SQLAlchemy()

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Company(db.Model):
    """A company, or a department when ``parent_id`` is set. A department that is its own
    organisation has its own VAT number and invoices in its own name."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    business_id: Mapped[str] = mapped_column(sa.String(32))  # NO organisasjonsnummer, FI Y-tunnus
    vat_number: Mapped[str | None] = mapped_column(sa.String(32))
    country: Mapped[str] = mapped_column(sa.String(2))
    street: Mapped[str | None] = mapped_column(sa.String(200))
    post_code: Mapped[str | None] = mapped_column(sa.String(16))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    currency: Mapped[str] = mapped_column(sa.String(3), default="NOK")
    bank_account: Mapped[str | None] = mapped_column(sa.String(40))  # IBAN
    bic: Mapped[str | None] = mapped_column(sa.String(11))

    parent: Mapped[Company | None] = relationship(remote_side=[id], back_populates="departments")
    departments: Mapped[list[Company]] = relationship(back_populates="parent", order_by="Company.name")
    persons: Mapped[list[Person]] = relationship(back_populates="company", order_by="Person.last_name")

    @property
    def invoicing_company(self) -> Company:
        """Who the invoices are from: itself when it has a VAT number, else its parent."""
        if self.vat_number or self.parent is None:
            return self
        return self.parent.invoicing_company


class Person(db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")

    company: Mapped[Company] = relationship(back_populates="persons")


class Customer(db.Model):
    """A customer. Reachable by e-invoice (Peppol address + operator), by email, or by post."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    business_id: Mapped[str | None] = mapped_column(sa.String(32))
    vat_number: Mapped[str | None] = mapped_column(sa.String(32))
    country: Mapped[str] = mapped_column(sa.String(2))
    street: Mapped[str | None] = mapped_column(sa.String(200))
    post_code: Mapped[str | None] = mapped_column(sa.String(16))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(200))  # customer card > Contacts & addresses
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    einvoice_scheme: Mapped[str | None] = mapped_column(sa.String(4))  # Peppol EAS, e.g. 0192
    einvoice_id: Mapped[str | None] = mapped_column(sa.String(100))
    einvoice_operator: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")

    @property
    def einvoice_address(self) -> str | None:
        return f"{self.einvoice_scheme}:{self.einvoice_id}" if self.einvoice_scheme and self.einvoice_id else None

    @property
    def channel(self) -> str:
        """How this customer can be reached: e-invoice, email or print."""
        if self.einvoice_address:
            return "e-invoice"
        return "email" if self.email else "print"

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS[self.channel])


CHANNEL_LABELS = {"e-invoice": lazy_gettext("e-invoice"), "email": lazy_gettext("email"),
                  "print": lazy_gettext("print")}


class InvoiceStatus(db.Model):
    """The ERP's invoice statuses with their flags (Settings > Invoicing > Invoice statuses)."""

    __tablename__ = "invoice_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    is_sent: Mapped[bool] = mapped_column(default=False)
    is_paid: Mapped[bool] = mapped_column(default=False)

    @property
    def label(self) -> str:
        """The name in the reader's language: the seeded statuses are in the ERP's catalogue (a
        status the user named shows as named)."""
        return gettext(self.name)


class Invoice(db.Model):
    __tablename__ = "invoice"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "number"),
        # The extension's sweep asks "invoices of this company in this status" every minute.
        sa.Index("ix_invoice_company_status", "company_id", "status_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"))  # the invoicing company
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
    status_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice_status.id"))
    number: Mapped[str] = mapped_column(sa.String(32))
    issue_date: Mapped[dt.date]
    due_date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(sa.String(3))
    buyer_reference: Mapped[str | None] = mapped_column(sa.String(200))
    order_reference: Mapped[str | None] = mapped_column(sa.String(200))
    payment_reference: Mapped[str | None] = mapped_column(sa.String(40))  # KID / viitenumero
    note: Mapped[str | None] = mapped_column(sa.Text)

    company: Mapped[Company] = relationship(foreign_keys=[company_id])
    department: Mapped[Company | None] = relationship(foreign_keys=[department_id])
    customer: Mapped[Customer] = relationship()
    status: Mapped[InvoiceStatus] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )

    # The ERP's own figures: what its PDF shows (VAT per rate on the rate's total, half up).
    @property
    def net_total(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), Decimal("0.00"))

    @property
    def vat_breakdown(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        """rate -> (taxable amount, VAT amount)."""
        taxable: dict[Decimal, Decimal] = {}
        for line in self.lines:
            taxable[line.vat_rate] = taxable.get(line.vat_rate, Decimal("0.00")) + line.net_amount
        return {rate: (amount, money(amount * rate / 100)) for rate, amount in sorted(taxable.items())}

    @property
    def vat_total(self) -> Decimal:
        return sum((vat for _, vat in self.vat_breakdown.values()), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.net_total + self.vat_total


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id"))
    position: Mapped[int] = mapped_column(default=1)
    description: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(12, 3))
    unit: Mapped[str] = mapped_column(sa.String(3), default="C62")  # UN/ECE rec. 20: HUR, C62, ...
    unit_price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    vat_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    @property
    def net_amount(self) -> Decimal:
        return money(Decimal(self.quantity) * Decimal(self.unit_price))
