"""A tiny host ERP for the transfer tests, importable by worker subprocesses.

    FLASK_APP=tests.transfer.hostapp:create_app flask maventa worker

Processes cannot share a MemoryAdapter, so the host's invoices live in a ``host_invoice`` table of
the same database as the extension's tables. The configuration comes from ``MAVENTA_TEST_CONFIG``
(JSON), so the test process and its workers build the very same app.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import sqlalchemy as sa
from flask import Flask, request
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy

from flask_maventa import HostAdapter, Maventa
from flask_maventa.document.invoice import InvoiceDocument
from flask_maventa.host import Address, Company
from flask_maventa.infra.models import metadata
from tests.fixtures.companies import FJORD, FJORD_BERGEN, FJORD_SUPPORT, PERSONS, STATUSES

# A third company of its own (not a department), so runs can spread invoices over three companies.
NORDLYS = Company("c2", "Nordlys Handel AS", "912345670", "NO", vat_number="NO912345670MVA",
                  address=Address(street="Sjøgata 5", post_code="9008", city="Tromsø", country="NO"), email="post@nordlys.example")

host_metadata = sa.MetaData()
host_invoice = sa.Table(
    "host_invoice", host_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("company_id", sa.String(64), nullable=False),
    sa.Column("status_id", sa.String(64), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("ix_host_invoice_status", "company_id", "status_id"),
)
# The invoice PDFs apart from the invoices, as ERPs keep files: the status written with every transfer
# step must not rewrite a 100 KB row (SQLite rewrites a whole row, its overflow pages too, on any UPDATE).
host_invoice_pdf = sa.Table(
    "host_invoice_pdf", host_metadata,
    sa.Column("invoice_id", sa.String(64), primary_key=True),
    sa.Column("pdf", sa.LargeBinary, nullable=False),
)
host_status_change = sa.Table(
    "host_status_change", host_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("invoice_id", sa.String(64), nullable=False),
    sa.Column("status_id", sa.String(64), nullable=False),
)

# The adapter's statements, built once with parameters (as an ERP's data layer keeps its queries): the
# worker runs them for every invoice it sends.
_DOCUMENT = sa.select(host_invoice.c.document).where(host_invoice.c.id == sa.bindparam("invoice_id"))
_PDF = sa.select(host_invoice_pdf.c.pdf).where(host_invoice_pdf.c.invoice_id == sa.bindparam("invoice_id"))
_DOCUMENTS = sa.select(host_invoice.c.id, host_invoice.c.document).where(
    host_invoice.c.id.in_(sa.bindparam("invoice_ids", expanding=True)))
_PDFS = sa.select(host_invoice_pdf.c.invoice_id, host_invoice_pdf.c.pdf).where(
    host_invoice_pdf.c.invoice_id.in_(sa.bindparam("invoice_ids", expanding=True)))
_SET_STATUS = (host_invoice.update().where(host_invoice.c.id == sa.bindparam("invoice_id"))
               .values(status_id=sa.bindparam("new_status")))
_STATUS_CHANGE = host_status_change.insert().values(invoice_id=sa.bindparam("invoice_id"),
                                                    status_id=sa.bindparam("new_status"))


class SqlAdapter(HostAdapter):
    """The demo companies and statuses, invoices in SQL; ``send_mail`` is the default SMTP one."""

    def __init__(self, db: SQLAlchemy):
        self.db = db
        self.companies = {c.id: c for c in (FJORD, FJORD_BERGEN, FJORD_SUPPORT, NORDLYS)}
        self.statuses = list(STATUSES)

    def list_companies(self):
        return list(self.companies.values())

    def list_persons(self, company_id):
        return list(PERSONS)

    def list_invoice_statuses(self, company_id):
        return list(self.statuses)

    def list_invoice_ids(self, company_id: str, status_id: str, limit: int) -> Sequence[str]:
        rows = self.db.session.execute(
            sa.select(host_invoice.c.id)
            .where(host_invoice.c.company_id == company_id, host_invoice.c.status_id == status_id)
            .order_by(host_invoice.c.id).limit(limit))
        return [r[0] for r in rows]

    def get_invoice_document(self, invoice_id: str) -> InvoiceDocument:
        document = self.db.session.execute(_DOCUMENT, {"invoice_id": invoice_id}).scalar()
        if document is None:
            raise LookupError(f"no invoice {invoice_id}")
        return InvoiceDocument.from_json(document)

    def get_invoice_pdf(self, invoice_id: str):
        return self.db.session.execute(_PDF, {"invoice_id": invoice_id}).scalar()

    def get_invoice_documents(self, invoice_ids: Sequence[str]) -> dict[str, InvoiceDocument]:
        rows = self.db.session.execute(_DOCUMENTS, {"invoice_ids": list(invoice_ids)})
        return {invoice_id: InvoiceDocument.from_json(document) for invoice_id, document in rows}

    def get_invoice_pdfs(self, invoice_ids: Sequence[str]) -> dict[str, bytes | None]:
        found = {invoice_id: pdf for invoice_id, pdf in self.db.session.execute(_PDFS, {"invoice_ids": list(invoice_ids)})}
        return {invoice_id: found.get(invoice_id) for invoice_id in invoice_ids}

    def set_invoice_status(self, invoice_id: str, status_id: str) -> None:
        params = {"invoice_id": invoice_id, "new_status": status_id}
        self.db.session.execute(_SET_STATUS, params)
        self.db.session.execute(_STATUS_CHANGE, params)

    def can_manage(self, company_id: str) -> bool:
        return True

    def current_actor(self):
        return "tester@example.com"

    # -- test helpers (not part of HostAdapter) ----------------------------------------------

    def add_invoice(self, invoice_id: str, document: dict, *, company_id: str = "c1", status_id: str = "ready",
                    pdf: bytes | None = None) -> None:
        self.db.session.execute(host_invoice.insert().values(
            id=invoice_id, company_id=company_id, status_id=status_id, document=json.dumps(document)))
        if pdf is not None:
            self.db.session.execute(host_invoice_pdf.insert().values(invoice_id=invoice_id, pdf=pdf))
        self.db.session.commit()

    def status_of(self, invoice_id: str) -> str | None:
        self.db.session.commit()  # see other processes' commits
        return self.db.session.execute(
            sa.select(host_invoice.c.status_id).where(host_invoice.c.id == invoice_id)).scalar()


def create_app(**overrides) -> Flask:
    config = json.loads(os.environ.get("MAVENTA_TEST_CONFIG", "{}"))
    config.update(overrides)
    app = Flask("maventa_transfer_host")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key", MAVENTA_ENVIRONMENT="sandbox",
                      WTF_CSRF_ENABLED=True)
    app.config.update(config)
    db = SQLAlchemy()
    db.init_app(app)
    # The reader's language from the browser (Accept-Language), English when it names none of ours.
    Babel(app, locale_selector=lambda: request.accept_languages.best_match(("en", "nb", "fi", "sv"), "en"))
    adapter = SqlAdapter(db)
    Maventa(app, db=db, adapter=adapter)
    with app.app_context():
        metadata.create_all(db.engine)
        host_metadata.create_all(db.engine)
    app.extensions["test.db"] = db
    return app
