"""Counters, states and messages that tell the truth: per invoice (its latest revision), the company's
real status, the refusal and save messages of the real state, times with their zone, the audit trail."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from flask_maventa.infra.config import ConfigurationError
from flask_maventa.infra.models import Connection, Event
from flask_maventa.services import transfer
from flask_maventa.services.companies import company_rows
from flask_maventa.services.settings import StatusMapping, mapping_problems

from .conftest import invoice_json
from .hostapp import create_app, host_invoice

PREFIX = "/settings/integrations/maventa"
BAD_BUYER = {"address": {"city": "Bergen", "post_code": "5003", "country": "NO"}}


def _failed_and_retried(host, times: int = 2) -> None:
    """Invoice 1 fails ``times`` times (each retry a new revision), invoice 2 is accepted."""
    host.add_invoice("1", invoice_json("F-1", buyer=BAD_BUYER))
    host.add_invoice("2", invoice_json("OK-2"))
    for transfer_id in transfer.sweep(dispatch=False).created:
        transfer.send(transfer_id)
    for _ in range(times - 1):
        latest = host.transfers("1")[-1]
        new = transfer.retry(latest)
        assert transfer.send(new.id).state == "failed"


def _fix(host, invoice_id: str, document: dict) -> None:
    host.db.session.execute(host_invoice.update().where(host_invoice.c.id == invoice_id)
                            .values(document=json.dumps(document)))
    host.db.session.commit()


def test_counters_and_log_are_per_invoice_not_per_revision(host):
    connection = host.connect()
    _failed_and_retried(host, times=3)
    assert [t.revision for t in host.transfers("1")] == [1, 2, 3]
    counts = transfer.counters([connection.id])
    assert counts["failed"] == 1 and counts["accepted"] == 1  # not 3 failed: two were retried
    assert sum(transfer.state_counts([connection.id]).values()) == 2  # two invoices

    # Invoice 1's latest revision is fixed and delivered-to-be: nothing counts as failed any more.
    _fix(host, "1", invoice_json("F-1"))
    fixed = transfer.retry(host.transfers("1")[-1])
    assert transfer.send(fixed.id).state == "accepted"
    assert transfer.counters([connection.id])["failed"] == 0

    page = host.app.test_client().get(f"{PREFIX}/transfers").get_data(as_text=True)
    rows = re.findall(r'<tr id="transfer-(\d+)" data-state="(\w+)"', page)
    assert len(rows) == 2 and {state for _, state in rows} == {"accepted"}
    assert ">Retry<" not in page and 'name="ids" value' not in page  # no Retry on superseded revisions
    assert re.search(r'data-counter="failed">\s*<strong>0</strong>', page)
    timeline = host.app.test_client().get(f"{PREFIX}/transfers/{connection.id}/invoices/1").get_data(as_text=True)
    assert all(f"Revision {r}" in timeline for r in (1, 2, 3, 4))  # older revisions live in the timeline
    assert ">Retry<" not in timeline


def test_stuck_counts_invoices_not_superseded_revisions(host):
    connection = host.connect()
    _failed_and_retried(host, times=2)
    host.db.session.query(Connection).update({"active": False})
    _fix(host, "1", invoice_json("F-1"))
    transfer.retry(host.transfers("1")[-1])  # revision 3 waits in the queue
    from datetime import timedelta

    from flask_maventa.infra.models import Transfer, utcnow
    host.db.session.query(Transfer).update({"created_at": utcnow() - timedelta(hours=2)})
    host.db.session.commit()
    counts = transfer.counters([connection.id])
    assert counts["stuck"] == 1 and counts["failed"] == 0 and counts["queued"] == 1


def test_the_index_status_is_the_real_one(host):
    host.connect("c1")
    host.connect("c2", company_uuid=None, api_key_encrypted=None, needs_manual_credentials=True, active=False,
                 registered_via="register")
    client = host.app.test_client()
    with host.app.test_request_context():
        rows = {row.company.id: row for row in company_rows()}
    assert rows["c1"].status == "active"
    assert rows["c2"].status == "key_needed"  # registered as an existing Maventa user: no key yet
    page = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "Registered, API key needed" in page and ">Registered<" not in page

    # The Sent flag set on the transfer status after activation: active, but nothing is sent.
    host.adapter.statuses = [dataclasses.replace(s, is_sent=True) if s.id == "ready" else s
                             for s in host.adapter.statuses]
    with host.app.test_request_context():
        rows = {row.company.id: row for row in company_rows()}
    assert rows["c1"].status == "blocked"
    page = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "Active, not sending" in page


def test_the_sent_flag_hint_matches_the_switch(host):
    connection = host.connect()
    from flask_maventa.host import InvoiceStatus

    statuses = [InvoiceStatus("ready", "Ready", is_sent=True), InvoiceStatus("transferred", "Transferred"),
                InvoiceStatus("failed", "Failed")]
    mapping = StatusMapping("ready", "transferred", "failed")
    with host.app.test_request_context():
        (active,) = [p for p in mapping_problems(connection, statuses, mapping=mapping)
                     if p.code == "transfer_status_sent"]
        connection.active = False
        (inactive,) = [p for p in mapping_problems(connection, statuses, mapping=mapping)
                       if p.code == "transfer_status_sent"]
    assert "can be activated" not in active.hint and "sent again" in active.hint
    assert "can be activated" in inactive.hint


def test_saving_while_active_says_it_is_active(host):
    host.connect()
    client = host.app.test_client()
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    saved = client.post(f"{PREFIX}/companies/c1/settings", data={
        "csrf_token": token, "send_customer_email": "y", "error_emails": "errors@fjord.example",
        "transfer_status_id": "ready", "success_status_id": "transferred", "failure_status_id": "failed",
    }, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "The integration is active" in saved and "activate it with the switch" not in saved


def test_times_show_their_zone(make_host, smtp_server):
    host = make_host(smtp=smtp_server, MAVENTA_TIMEZONE="Europe/Helsinki")
    with host.app.app_context():
        connection = host.connect()
        host.add_invoice("1", invoice_json("N-1"))
        transfer.sweep(dispatch=False)
        client = host.app.test_client()
        log = client.get(f"{PREFIX}/transfers").get_data(as_text=True)
        timeline = client.get(f"{PREFIX}/transfers/{connection.id}/invoices/1").get_data(as_text=True)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d EE[S]?T", log)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d EE[S]?T", timeline)


def test_a_time_zone_that_does_not_exist_is_refused_at_start_up(tmp_path):
    with pytest.raises(ConfigurationError, match=r"MAVENTA_TIMEZONE.*Europe/Helsinki"):
        create_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}", MAVENTA_TIMEZONE="Mars/Olympus")


def test_the_company_page_shows_who_changed_what_newest_first(host):
    connection = host.connect(active=False)
    for i in range(25):
        host.db.session.add(Event(kind="settings.saved", message="Settings saved.",
                                  text={"id": "Settings saved."}, actor=f"admin{i}@fjord.example",
                                  connection_id=connection.id))
    host.db.session.commit()
    client = host.app.test_client()
    page = client.get(f"{PREFIX}/companies/c1", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    section = page.split('id="maventa-history"')[1]
    actors = re.findall(r"admin(\d+)@fjord.example", section)
    assert actors[0] == "24" and len(actors) == 20  # newest first, a bounded list
    assert "Settings saved." not in section  # translated when read (Finnish page)
    fragment = client.get(f"{PREFIX}/companies/c1/history", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="maventa-history"' in fragment.get_data(as_text=True)
