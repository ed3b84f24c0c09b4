"""The example ERP's side of the boundary: ``flask_maventa.HostAdapter`` over its models.

Ids cross the boundary as strings. Nothing here commits: the extension commits our
status change together with its own rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import has_request_context, url_for
from sqlalchemy.orm import joinedload, selectinload

from flask_maventa import Address, Company, HostAdapter, InvoiceStatus, Person
from flask_maventa.document import invoice as doc

from . import auth
from .models import Company as CompanyRow
from .models import Customer, Invoice, db
from .models import InvoiceStatus as StatusRow
from .pdf import invoice_pdf

# Organisation-number schemes (ISO 6523) and the matching Peppol address of a seller.
LEGAL_SCHEME = {"NO": "0192", "SE": "0007", "FI": "0212", "DK": "0184"}
TAX_REGISTRATION = {"NO": "Foretaksregisteret", "SE": "Godkänd för F-skatt"}


def _int_id(value: str) -> int | None:
    """Ids from URLs and from the extension's rows are strings; anything else is unknown."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def seller_endpoint(company: CompanyRow) -> doc.Endpoint:
    digits = company.business_id.replace("-", "")
    if company.country == "FI":  # Finnish Y-tunnus 1234567-8 -> OVT code 003712345678
        return doc.Endpoint("0216", "0037" + digits)
    return doc.Endpoint(LEGAL_SCHEME.get(company.country, "0192"), digits)


class ExampleAdapter(HostAdapter):
    # -- companies, persons, statuses ------------------------------------------------

    def list_companies(self) -> Sequence[Company]:
        rows = db.session.scalars(sa.select(CompanyRow).order_by(CompanyRow.id))
        return [self._company(row) for row in rows]

    @staticmethod
    def _company(row: CompanyRow) -> Company:
        address = None
        if row.street and row.post_code and row.city:
            address = Address(street=row.street, post_code=row.post_code, city=row.city, country=row.country)
        return Company(
            id=str(row.id), name=row.name, business_id=row.business_id, country=row.country,
            vat_number=row.vat_number or None, address=address, email=row.email,
            parent_id=str(row.parent_id) if row.parent_id else None,
        )

    def list_persons(self, company_id: str) -> Sequence[Person]:
        company = db.session.get(CompanyRow, _int_id(company_id)) if _int_id(company_id) else None
        if company is None:
            return []
        # A department's own people first, then the parent company's (who may sign for it).
        people, seen = [], set()
        while company is not None:
            for p in company.persons:
                if p.email not in seen:
                    seen.add(p.email)
                    people.append(Person(str(p.id), p.first_name, p.last_name, p.email, p.language))
            company = company.parent
        return people

    def list_invoice_statuses(self, company_id: str) -> Sequence[InvoiceStatus]:
        # The statuses are the ERP's, shared by every company; named in the reader's language.
        rows = db.session.scalars(sa.select(StatusRow).order_by(StatusRow.position, StatusRow.id))
        return [InvoiceStatus(str(s.id), s.label, is_sent=s.is_sent) for s in rows]

    def status_settings_url(self, company_id: str) -> str | None:
        if has_request_context():
            return url_for("example.statuses")
        return "/invoice-statuses"

    def status_url(self, company_id: str, status_id: str) -> str | None:
        # The row of that status (its id is status-<id>): the page scrolls to it and highlights it.
        return f"{self.status_settings_url(company_id)}#status-{status_id}"

    # -- invoices ---------------------------------------------------------------

    def list_invoice_ids(self, company_id: str, status_id: str, limit: int) -> Sequence[str]:
        company, status = _int_id(company_id), _int_id(status_id)
        if company is None or status is None:
            return []
        # Served by ix_invoice_company_status: cost grows with the due invoices only.
        ids = db.session.scalars(
            sa.select(Invoice.id)
            .where(Invoice.company_id == company, Invoice.status_id == status)
            .order_by(Invoice.id)
            .limit(limit)
        )
        return [str(i) for i in ids]

    def _invoice(self, invoice_id: str) -> Invoice:
        invoice = db.session.get(Invoice, _int_id(invoice_id)) if _int_id(invoice_id) else None
        if invoice is None:
            raise LookupError(f"The example ERP has no invoice {invoice_id!r}.")
        return invoice

    def set_invoice_status(self, invoice_id: str, status_id: str) -> None:
        invoice = self._invoice(invoice_id)
        status = db.session.get(StatusRow, _int_id(status_id)) if _int_id(status_id) else None
        if status is None:
            raise LookupError(f"The example ERP has no invoice status {status_id!r}.")
        invoice.status = status  # the extension commits, with its own rows

    def get_invoice_pdf(self, invoice_id: str) -> bytes | None:
        return invoice_pdf(self._invoice(invoice_id))

    def get_invoice_document(self, invoice_id: str) -> doc.InvoiceDocument:
        return self._document(self._invoice(invoice_id))

    # A worker's batch: its invoices with their lines, seller and customer in three queries, not ~4 each.
    def _invoices(self, invoice_ids: Sequence[str]) -> Sequence[Invoice]:
        ids = [i for i in map(_int_id, invoice_ids) if i is not None]
        return db.session.scalars(sa.select(Invoice).where(Invoice.id.in_(ids)).options(
            selectinload(Invoice.lines), joinedload(Invoice.company), joinedload(Invoice.customer))).unique().all()

    def get_invoice_documents(self, invoice_ids: Sequence[str]) -> dict[str, doc.InvoiceDocument]:
        return {str(invoice.id): self._document(invoice) for invoice in self._invoices(invoice_ids)}

    def get_invoice_pdfs(self, invoice_ids: Sequence[str]) -> dict[str, bytes | None]:
        return {str(invoice.id): invoice_pdf(invoice) for invoice in self._invoices(invoice_ids)}

    def _document(self, invoice: Invoice) -> doc.InvoiceDocument:
        seller, customer = invoice.company, invoice.customer
        return doc.InvoiceDocument(
            number=invoice.number,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            currency=invoice.currency,
            language=customer.language,
            seller=self._seller(seller),
            buyer=self._buyer(customer),
            lines=tuple(
                doc.InvoiceLine(
                    id=str(line.position), name=line.description, quantity=line.quantity,
                    unit_code=line.unit, unit_price=line.unit_price,
                    vat_category="S" if line.vat_rate else "Z", vat_rate=line.vat_rate,
                )
                for line in invoice.lines
            ),
            buyer_reference=invoice.buyer_reference or customer.contact_name or None,
            order_reference=invoice.order_reference,
            note=invoice.note,
            payment_means=(
                doc.PaymentMeans(code="58" if seller.country == "FI" else "30", account=seller.bank_account,
                                 account_name=seller.name, bic=seller.bic, payment_id=invoice.payment_reference),
            ) if seller.bank_account else (),
            payment_terms=f"{(invoice.due_date - invoice.issue_date).days} days net",
            expected_total=invoice.total,
            expected_vat_total=invoice.vat_total,
        )

    @staticmethod
    def _address(row) -> doc.Address:
        return doc.Address(street=row.street, city=row.city, post_code=row.post_code, country=row.country)

    def _seller(self, company: CompanyRow) -> doc.Party:
        return doc.Party(
            name=company.name, registration_name=company.name, vat_number=company.vat_number,
            legal_id=company.business_id, legal_id_scheme=LEGAL_SCHEME.get(company.country),
            endpoint=seller_endpoint(company), address=self._address(company), email=company.email,
            phone=company.phone, tax_registration=TAX_REGISTRATION.get(company.country),
        )

    def _buyer(self, customer: Customer) -> doc.Party:
        endpoint = None
        if customer.einvoice_scheme and customer.einvoice_id:
            endpoint = doc.Endpoint(customer.einvoice_scheme, customer.einvoice_id)
        return doc.Party(
            name=customer.name, registration_name=customer.name, vat_number=customer.vat_number,
            legal_id=customer.business_id,
            legal_id_scheme=LEGAL_SCHEME.get(customer.country) if customer.business_id else None,
            endpoint=endpoint, address=self._address(customer), email=customer.email,
            contact_name=customer.contact_name, einvoice_operator=customer.einvoice_operator,
        )

    # -- the current user ---------------------------------------------------------

    def can_manage(self, company_id: str) -> bool:
        return auth.current_user().may_manage(company_id)

    def current_actor(self) -> str | None:
        return auth.current_user().email


class MailLog:
    """The demo's mailer (``Maventa(mailer=...)``): it has no mail server, so the error emails are appended
    to the file EXAMPLE_MAIL_LOG names."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(f"To: {', '.join(to)}\nSubject: {subject}\n\n{body}\n{'-' * 60}\n")
