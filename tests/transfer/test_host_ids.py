"""Host data our columns cannot hold must never stop the rest: PostgreSQL refuses what SQLite would take."""

from __future__ import annotations

import logging

from flask_maventa.services import transfer

from .conftest import BUYER_EIA, invoice_json


def test_unkeepable_ids_are_skipped_and_named_and_a_long_number_is_clipped(make_host, postgres_url, monkeypatch,
                                                                           caplog):
    host = make_host(database_url=postgres_url)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1", invoice_json("N" * 150))  # longer than our column, within the document's 200
        host.add_invoice("2")
        listed = host.adapter.list_invoice_ids
        monkeypatch.setattr(host.adapter, "list_invoice_ids",
                            lambda company, status, limit: ["9" * 65, "x\x00y", *listed(company, status, limit)])
        with caplog.at_level(logging.ERROR, "flask_maventa.transfer"):
            result = transfer.sweep(dispatch=False)
        assert len(result.created) == 2 and result.unstorable == 2
        assert caplog.text.count("step=sweep_skip") == 2 and "9" * 65 in caplog.text
        assert transfer.send_due() == {"accepted": 2}  # Maventa took invoice 1 and its row says so
        (row,) = host.transfers("1")
        assert row.state == "accepted" and row.invoice_number == "N" * 63 + "\u2026"
        assert host.status_of("1") == "transferred"
