"""A send job reads its batch's invoices from the host in two calls (reading.py); whatever that read does not
give -- an invoice left out, a wrong value, a failed batch read -- the attempt reads on its own, as before."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from flask_maventa.infra.models import Event, Transfer
from flask_maventa.services import transfer
from flask_maventa.services.transfer import claiming, reading

from .conftest import BUYER_EIA, invoice_json

PDF = b"%PDF-1.4\n%read ahead\n%%EOF\n"


@pytest.fixture
def calls(host, monkeypatch):
    """Every read of the host adapter, with its arguments."""
    seen: list[tuple[str, tuple]] = []
    adapter = type(host.adapter)
    for name in ("get_invoice_document", "get_invoice_pdf", "get_invoice_documents", "get_invoice_pdfs"):
        original = getattr(adapter, name)

        def call(self, *args, _original=original, _name=name):
            seen.append((_name, args))
            return _original(self, *args)
        monkeypatch.setattr(adapter, name, call)
    return seen


def _invoices(host, company_id: str, numbers: range, *, pdf: bool) -> None:
    for n in numbers:
        host.add_invoice(f"{company_id}-{n}", invoice_json(f"RA-{company_id}-{n}", buyer={"einvoice_operator": None}),
                         company_id=company_id, pdf=PDF if pdf else None)


def _sent_numbers(host) -> dict[str, str]:
    """Each transfer's invoice id and the invoice number its upload carried (from its document)."""
    return {t.invoice_id: t.invoice_number for t in host.transfers()}


def test_a_batch_is_read_in_two_calls_and_each_invoice_sends_its_own_document(host, calls):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect("c1", send_pdf=True)
    host.connect("c2", send_pdf=False)
    _invoices(host, "c1", range(3), pdf=True)
    _invoices(host, "c2", range(3), pdf=False)
    transfer.sweep(dispatch=False)

    assert transfer.send_due() == {"accepted": 6}

    reads = [(name, sorted(args[0])) for name, args in calls]
    assert reads == [("get_invoice_documents", sorted(f"{c}-{n}" for c in ("c1", "c2") for n in range(3))),
                     ("get_invoice_pdfs", ["c1-0", "c1-1", "c1-2"])]  # only the company that sends PDFs
    assert _sent_numbers(host) == {f"{c}-{n}": f"RA-{c}-{n}" for c in ("c1", "c2") for n in range(3)}
    received = host.sandbox.invoices()
    assert set(received["received_per_uuid"].values()) == {1}
    assert received["invoices_per_number"] == {f"RA-{c}-{n}": 1 for c in ("c1", "c2") for n in range(3)}
    requests = {e.transfer_id: e.data for e in host.db.session.scalars(
        sa.select(Event).where(Event.kind == "transfer.request"))}
    with_pdf = {t.invoice_id: requests[t.id]["with_pdf"] for t in host.transfers()}
    assert with_pdf == {f"{c}-{n}": c == "c1" for c in ("c1", "c2") for n in range(3)}


def test_what_the_batch_read_leaves_out_or_gets_wrong_is_read_by_its_own_attempt(host, calls, monkeypatch):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect("c1", send_pdf=True)
    _invoices(host, "c1", range(4), pdf=True)
    transfer.sweep(dispatch=False)
    adapter = type(host.adapter)
    documents, pdfs = adapter.get_invoice_documents, adapter.get_invoice_pdfs

    def partial_documents(self, ids):
        got = dict(documents(self, ids))
        got.pop("c1-0")  # left out: cannot read it in a batch
        got["c1-1"] = "not a document"  # a wrong value is not used
        got["other"] = got["c1-2"]  # an id not asked for is ignored
        return got

    def partial_pdfs(self, ids):
        got = dict(pdfs(self, ids))
        got.pop("c1-3")
        return got
    monkeypatch.setattr(adapter, "get_invoice_documents", partial_documents)
    monkeypatch.setattr(adapter, "get_invoice_pdfs", partial_pdfs)

    assert transfer.send_due() == {"accepted": 4}

    singles = sorted((name, args[0]) for name, args in calls if not name.endswith("s"))
    assert singles == [("get_invoice_document", "c1-0"), ("get_invoice_document", "c1-1"),
                       ("get_invoice_pdf", "c1-0"), ("get_invoice_pdf", "c1-1"), ("get_invoice_pdf", "c1-3")]
    assert _sent_numbers(host) == {f"c1-{n}": f"RA-c1-{n}" for n in range(4)}
    assert host.sandbox.invoices()["invoices_per_number"] == {f"RA-c1-{n}": 1 for n in range(4)}


def test_a_failed_batch_read_is_logged_and_every_attempt_reads_its_own_invoice(host, calls, monkeypatch, caplog):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect("c1", send_pdf=True)
    _invoices(host, "c1", range(3), pdf=True)
    transfer.sweep(dispatch=False)

    def broken(self, ids):
        self.db.session.execute(sa.text("SELECT * FROM no_such_table"))  # leaves the transaction failed
    monkeypatch.setattr(type(host.adapter), "get_invoice_pdfs", broken)

    with caplog.at_level(logging.WARNING, "flask_maventa.transfer"):
        assert transfer.send_due() == {"accepted": 3}

    assert [r.message for r in caplog.records if "read_ahead" in r.message] == ["step=read_ahead_failed invoices=3"]
    singles = sorted((name, args[0]) for name, args in calls if not name.endswith("s"))
    assert singles == sorted([(n, f"c1-{i}") for n in ("get_invoice_document", "get_invoice_pdf") for i in range(3)])
    assert _sent_numbers(host) == {f"c1-{n}": f"RA-c1-{n}" for n in range(3)}


def test_an_invoice_to_reconcile_is_not_read_ahead(host, calls):
    """Maventa may have it already: then nothing needs its document."""
    host.connect("c1", send_pdf=True)
    _invoices(host, "c1", range(2), pdf=True)
    transfer.sweep(dispatch=False)
    host.db.session.execute(Transfer.__table__.update().where(Transfer.invoice_id == "c1-0").values(state="in_doubt"))
    host.db.session.commit()

    batch = {t.invoice_id: (reconcile, ahead) for t, reconcile, ahead in reading.read_ahead(claiming.claim_batch(10))}

    assert calls == [("get_invoice_documents", (["c1-1"],)), ("get_invoice_pdfs", (["c1-1"],))]
    assert batch["c1-0"] == (True, reading.NOTHING)
    reconcile, ahead = batch["c1-1"]
    assert not reconcile and ahead.document.number == "RA-c1-1" and (ahead.pdf, ahead.pdf_read) == (PDF, True)
    assert not host.db.session().in_transaction()  # the reads' transaction ended with them
