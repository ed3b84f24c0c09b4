"""The example ERP's HostAdapter against its real models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from example_app.models import Company, Invoice, InvoiceStatus, db
from flask_maventa import current_maventa
from flask_maventa.host import HostAdapter

from .conftest import make_erp


@pytest.fixture(params=["sqlite", "postgresql"])
def erp_db(request, monkeypatch, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    app = make_erp(monkeypatch, tmp_path, url)
    with app.test_request_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def adapter(erp_db) -> HostAdapter:
    return current_maventa().adapter


def company_id(name: str) -> str:
    return str(db.session.scalar(sa.select(Company.id).where(Company.name == name)))


def status_id(name: str) -> str:
    return str(db.session.scalar(sa.select(InvoiceStatus.id).where(InvoiceStatus.name == name)))


def invoice(number: str) -> Invoice:
    return db.session.scalars(sa.select(Invoice).where(Invoice.number == number)).one()


def test_the_app_registers_its_own_adapter(erp_db):
    from example_app.adapter import ExampleAdapter

    assert isinstance(current_maventa().adapter, ExampleAdapter)
    assert erp_db.config["MAVENTA_BASE_TEMPLATE"] == "example/layout.html"


def test_companies_and_departments_cross_as_dataclasses(adapter):
    companies = {c.name: c for c in adapter.list_companies()}
    assert set(companies) == {"Fjordline Consulting AS", "Fjordline Bergen AS", "Fjordline Support", "Revontuli Oy"}
    parent, bergen, support = (companies[n] for n in ("Fjordline Consulting AS", "Fjordline Bergen AS",
                                                       "Fjordline Support"))
    assert parent.parent_id is None and parent.vat_number == "NO923456783MVA"
    assert bergen.parent_id == parent.id and bergen.eligible
    assert support.parent_id == parent.id and not support.eligible and support.vat_number is None
    assert parent.address.city == "Oslo" and parent.address.country == "NO"
    assert all(isinstance(c.id, str) for c in companies.values())
    assert adapter.get_company(bergen.id) == bergen
    assert adapter.get_company("999") is None and adapter.get_company("not-a-number") is None


def test_a_departments_persons_come_first_then_its_parents(adapter):
    persons = adapter.list_persons(company_id("Fjordline Support"))
    assert [p.name for p in persons] == ["Erik Svensson", "Lars Berg", "Kari Nordmann"]
    assert persons[0].language == "sv" and persons[0].email == "erik.svensson@fjordline.example"
    assert [p.language for p in adapter.list_persons(company_id("Revontuli Oy"))] == ["sv", "fi"]
    assert adapter.list_persons("999") == [] and adapter.list_persons("x") == []


def test_invoice_statuses_carry_the_sent_flag(adapter):
    statuses = {s.name: s for s in adapter.list_invoice_statuses(company_id("Fjordline Consulting AS"))}
    assert statuses["Ready for Maventa"].is_sent is False
    assert statuses["Ready to send"].is_sent is True  # wrongly flagged: the validation demo
    assert statuses["Sent"].is_sent and statuses["Paid"].is_sent
    assert not statuses["Draft"].is_sent
    assert adapter.status_settings_url("1") == "/invoice-statuses"


def test_invoice_ids_in_a_status(adapter):
    fjordline, draft = company_id("Fjordline Consulting AS"), status_id("Draft")
    ids = adapter.list_invoice_ids(fjordline, draft, 100)
    # The Support department has no VAT number: its invoice 10003 is Fjordline's.
    assert ids == [str(invoice("10001").id), str(invoice("10003").id)]
    assert adapter.list_invoice_ids(fjordline, draft, 1) == ids[:1]
    assert adapter.list_invoice_ids(company_id("Fjordline Support"), draft, 100) == []
    assert adapter.list_invoice_ids(fjordline, status_id("Ready for Maventa"), 100) == []
    assert adapter.list_invoice_ids("x", draft, 100) == [] and adapter.list_invoice_ids(fjordline, "x", 100) == []


def test_list_invoice_ids_is_one_indexed_query(adapter):
    fjordline, draft = company_id("Fjordline Consulting AS"), status_id("Draft")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        adapter.list_invoice_ids(fjordline, draft, 10)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if "FROM invoice" in s]) == 1

    query = "SELECT id FROM invoice WHERE company_id = :c AND status_id = :s ORDER BY id LIMIT 10"
    params = {"c": int(fjordline), "s": int(draft)}
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(row) for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + query), params))
    else:  # the demo table is tiny: forbid the sequential scan to see that the index serves the query
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db.session.execute(sa.text("EXPLAIN " + query), params))
        db.session.rollback()
    assert "ix_invoice_company_status" in plan


def test_set_invoice_status_never_commits(adapter, erp_db):
    target = invoice("10001")
    number, original = target.number, target.status_id
    adapter.set_invoice_status(str(target.id), status_id("Transferred to Maventa"))
    assert target.status.name == "Transferred to Maventa"  # visible in the session...
    with db.engine.connect() as other:  # ...but not in the database
        stored = other.execute(sa.text("SELECT status_id FROM invoice WHERE id = :i"), {"i": target.id}).scalar()
    assert stored == original
    db.session.rollback()
    assert invoice(number).status_id == original

    # The extension commits: then it is stored.
    adapter.set_invoice_status(str(target.id), status_id("Transferred to Maventa"))
    db.session.commit()
    with db.engine.connect() as other:
        stored = other.execute(sa.text("SELECT status_id FROM invoice WHERE id = :i"), {"i": target.id}).scalar()
    assert str(stored) == status_id("Transferred to Maventa")


def test_unknown_invoice_or_status_is_a_lookup_error(adapter):
    with pytest.raises(LookupError, match="no invoice '999'"):
        adapter.set_invoice_status("999", status_id("Sent"))
    with pytest.raises(LookupError, match="no invoice status 'nope'"):
        adapter.set_invoice_status(str(invoice("10001").id), "nope")
    with pytest.raises(LookupError):
        adapter.get_invoice_document("abc")
    with pytest.raises(LookupError):
        adapter.get_invoice_pdf("999")


def test_documents_carry_what_maventa_routes_by(adapter):
    nordlys = adapter.get_invoice_document(str(invoice("10001").id))
    assert nordlys.seller.name == "Fjordline Consulting AS" and nordlys.seller.vat_number == "NO923456783MVA"
    assert nordlys.seller.endpoint.eia == "0192:923456783"
    assert nordlys.buyer.endpoint.eia == "0192:998877660" and nordlys.buyer.einvoice_operator == "PEPPOL"
    assert nordlys.buyer.email == "invoice@nordlys.example" and nordlys.language == "nb"
    assert nordlys.payment_means[0].account == "NO9386011117947"
    assert nordlys.payment_means[0].payment_id.startswith("10001")
    assert nordlys.buyer_reference == "Per Olsen"
    assert [(line.quantity, line.unit_price, line.vat_rate) for line in nordlys.lines] == [
        (Decimal("12.5"), Decimal("1450.00"), Decimal("25")), (Decimal("1"), Decimal("2380.00"), Decimal("25"))]
    # 12.5 * 1450 + 2380 = 20505; VAT 25 % = 5126.25
    assert nordlys.expected_total == Decimal("25631.25") and nordlys.expected_vat_total == Decimal("5126.25")

    email_only = adapter.get_invoice_document(str(invoice("20001").id))
    assert email_only.seller.name == "Fjordline Bergen AS"
    assert email_only.buyer.endpoint is None and email_only.buyer.einvoice_operator is None
    assert email_only.buyer.email == "post@bakeriet.example"

    neither = adapter.get_invoice_document(str(invoice("10003").id))
    assert neither.seller.name == "Fjordline Consulting AS"  # the Support department's invoice
    assert neither.buyer.endpoint is None and neither.buyer.email is None
    assert neither.routing().has_postal_address

    finnish = adapter.get_invoice_document(str(invoice("30001").id))
    assert finnish.currency == "EUR" and finnish.seller.endpoint.eia == "0216:003723456780"
    assert finnish.buyer.endpoint.eia == "0216:003715728600" and finnish.language == "fi"


def test_the_batch_reads_give_every_invoice_what_the_one_by_one_reads_give(adapter):
    """What a worker's batch reads (three queries for all) must equal the one-by-one reads, invoice by
    invoice; an id the ERP does not know is left out, so the worker reads it alone and reports its error."""
    ids = [str(i) for i in db.session.scalars(sa.select(Invoice.id).order_by(Invoice.id))]
    assert len(ids) > 5
    asked = [*ids, "999999", "abc"]
    documents, pdfs = adapter.get_invoice_documents(asked), adapter.get_invoice_pdfs(asked)
    assert sorted(documents) == sorted(pdfs) == sorted(ids)
    for invoice_id in ids:
        assert documents[invoice_id] == adapter.get_invoice_document(invoice_id)
        assert pdfs[invoice_id] == adapter.get_invoice_pdf(invoice_id)
    assert len({d.number for d in documents.values()}) == len(ids)  # each its own, not one repeated
    assert adapter.get_invoice_documents([]) == {}


def test_every_seeded_invoice_passes_preflight(adapter):
    preflight = pytest.importorskip("flask_maventa.document.official").preflight
    problems = {}
    for row in db.session.scalars(sa.select(Invoice)):
        findings = preflight(adapter.get_invoice_document(str(row.id)))
        errors = [f"{f.code} {f.field}" for f in findings if f.severity == "error"]
        if errors:
            problems[row.number] = errors
    assert problems == {}


def test_every_seeded_invoice_builds_ubl_with_its_pdf(adapter):
    ubl = pytest.importorskip("flask_maventa.document.ubl")
    for row in db.session.scalars(sa.select(Invoice)):
        xml = ubl.build_ubl(adapter.get_invoice_document(str(row.id)), pdf=adapter.get_invoice_pdf(str(row.id)))
        assert f"<cbc:ID>{row.number}</cbc:ID>".encode() in xml
        assert b"application/pdf" in xml


def test_the_pdf_is_a_well_formed_pdf(adapter):
    pdf = adapter.get_invoice_pdf(str(invoice("20001").id))
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 7\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset):].startswith(b"%d 0 obj" % number)
    assert b"Invoice 20001" in pdf and b"Bakeriet p\xe5 Hj\xf8rnet AS" in pdf  # WinAnsi æøå


def test_can_manage_follows_the_restricted_companies_setting(monkeypatch, tmp_path):
    app = make_erp(monkeypatch, tmp_path, EXAMPLE_RESTRICTED_COMPANIES="4")
    with app.test_request_context():
        adapter = current_maventa().adapter
        assert adapter.can_manage("1") and not adapter.can_manage("4")
        assert adapter.current_actor() == "kari.nordmann@fjordline.example"
