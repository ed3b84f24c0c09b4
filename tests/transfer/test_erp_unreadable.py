"""An invoice the ERP cannot read for now (its database locked, restarting, away) waits and is sent later:
it never fails for a reason that says nothing about the invoice. One the ERP does not have fails, as before."""

from __future__ import annotations

import sqlite3
import threading

from flask_maventa.infra.models import Transfer
from flask_maventa.services import transfer
from flask_maventa.services.transfer import claiming, sending

from .conftest import BUYER_EIA, invoice_json
from .hostapp import host_invoice


def _hold_the_file(host, seconds: float) -> None:
    """Another connection holds the host database's exclusive lock (no reader gets in) for ``seconds``."""
    lock = sqlite3.connect(host.db.engine.url.database, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        lock.execute("ROLLBACK")
        lock.close()

    threading.Timer(seconds, release).start()


def test_an_invoice_the_erp_cannot_read_for_now_waits_and_goes_out_later(make_host, smtp_server):
    # SQLite waits 0.2 s for a lock, not its default 5 s: the read gives up while the lock is still held.
    host = make_host(smtp=smtp_server, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1", invoice_json("L-1"))
        (transfer_id,) = transfer.sweep(dispatch=False).created
        claimed, reconcile = claiming.claim(transfer_id)
        assert claimed.connection.active  # loaded with the claim, as a batch's claim does

        _hold_the_file(host, 1.5)  # the invoice is read while the file is locked; the pause is written after
        outcome = sending.attempt(claimed, reconcile)

        assert outcome.state == "queued", outcome
        (row,) = host.transfers("1")
        assert (row.state, row.last_error_code, row.attempts) == ("queued", "HOST_UNAVAILABLE", 0)
        assert row.next_attempt_at is not None and row.last_error_message.startswith(
            "The invoice could not be read from the ERP for now")
        assert row.last_error_message.endswith("The error: OperationalError: database is locked")  # its words
        assert "SELECT" not in row.last_error_message  # not the query SQLAlchemy adds to them
        assert host.status_of("1") == "ready"  # no failure status, no error email: nothing is wrong with it
        assert host.sandbox.invoices()["received_per_uuid"] == {}

        host.db.session.execute(Transfer.__table__.update().values(next_attempt_at=None))
        host.db.session.commit()
        assert transfer.send(transfer_id).state == "accepted"  # the next attempt, the ERP readable again
        assert host.status_of("1") == "transferred"


def test_an_invoice_the_erp_does_not_have_fails_and_says_so(host):
    host.connect()
    host.add_invoice("1", invoice_json("G-1"))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    host.db.session.execute(host_invoice.delete())  # gone from the ERP after it became due
    host.db.session.commit()
    assert transfer.send(transfer_id).state == "failed"
    (row,) = host.transfers("1")
    assert row.last_error_code == "NO_DOCUMENT"
    assert row.last_error_message.startswith("The ERP could not produce the invoice data. The error: LookupError")
