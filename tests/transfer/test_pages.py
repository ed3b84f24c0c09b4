"""The transfer log page, retry actions, the company-page summary and the webhook endpoint."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Transfer, utcnow
from flask_maventa.services import transfer

from .conftest import BUYER_EIA, invoice_json

PREFIX = "/settings/integrations/maventa"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _failed_transfer(host, invoice_id="1", number="F-1"):
    host.add_invoice(invoice_id, invoice_json(number, buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                        "country": "NO"}}))
    (transfer_id,) = [t for t in transfer.sweep(dispatch=False).created]
    assert transfer.send(transfer_id).state == "failed"
    return transfer_id


def test_log_lists_filters_and_shows_the_error_and_hint(host):
    host.connect()
    failed_id = _failed_transfer(host)
    host.add_invoice("2", invoice_json("OK-2"))
    transfer.sweep(dispatch=False)
    client = host.app.test_client()

    html = client.get(f"{PREFIX}/transfers").get_data(as_text=True)
    assert f'id="transfer-{failed_id}"' in html and "F-1" in html
    assert host.transfers("1")[0].last_error_hint.split(".")[0] in html
    assert 'data-counter="failed"' in html and 'hx-trigger="every 5s' in html

    only_failed = client.get(f"{PREFIX}/transfers?state=failed").get_data(as_text=True)
    assert "F-1" in only_failed and 'data-state="queued"' not in only_failed
    by_number = client.get(f"{PREFIX}/transfers?number=OK-2", headers={"HX-Request": "true"})
    assert by_number.headers["Vary"] == "HX-Request"
    fragment = by_number.get_data(as_text=True)
    assert fragment.lstrip().startswith("{%") is False and "<html" not in fragment
    assert 'data-state="failed"' not in fragment
    future = client.get(f"{PREFIX}/transfers?date_from=2999-01-01").get_data(as_text=True)
    assert "No transfers match" in future
    other_company = client.get(f"{PREFIX}/transfers?company=c1-bergen").get_data(as_text=True)
    assert "F-1" not in other_company


def test_counters_fragment_and_company_section(host):
    host.connect()
    _failed_transfer(host)
    client = host.app.test_client()
    counters = client.get(f"{PREFIX}/transfers/counters", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(r'data-counter="failed">\s*<strong>1</strong>', counters)
    company = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert 'id="maventa-transfers-summary"' in company and "transfers?company=c1" in company


def test_timeline_shows_every_attempt_without_secrets(host):
    connection = host.connect()
    _failed_transfer(host)
    client = host.app.test_client()
    html = client.get(f"{PREFIX}/transfers/{connection.id}/invoices/1").get_data(as_text=True)
    assert "Queued for Maventa" in html and "transfer-failed" in html
    assert connection.api_key_encrypted not in html
    assert client.get(f"{PREFIX}/transfers/{connection.id}/invoices/nope").status_code == 404


def test_retry_button_single_and_refusal_for_non_failed(host):
    host.connect()
    failed_id = _failed_transfer(host)
    host.add_invoice("2", invoice_json("Q-2"))
    (queued_id,) = transfer.sweep(dispatch=False).created
    client = host.app.test_client()
    token = _csrf(client.get(f"{PREFIX}/transfers").get_data(as_text=True))

    refused = client.post(f"{PREFIX}/transfers/retry", data={"csrf_token": token, "ids": [str(queued_id)]},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "Only failed transfers can be retried" in refused.get_data(as_text=True)
    assert [t.revision for t in host.transfers("2")] == [1]

    no_csrf = client.post(f"{PREFIX}/transfers/retry", data={"ids": [str(failed_id)]})
    assert "form expired" in no_csrf.get_data(as_text=True) and len(host.transfers("1")) == 1

    done = client.post(f"{PREFIX}/transfers/retry", data={"csrf_token": token, "ids": [str(failed_id)]})
    assert done.status_code == 303
    assert [(t.revision, t.state) for t in host.transfers("1")] == [(1, "failed"), (2, "queued")]
    assert host.status_of("1") == "ready"


def test_bulk_retry_over_htmx_fires_an_event(host):
    host.connect()
    first = _failed_transfer(host, "1", "F-1")
    second = _failed_transfer(host, "2", "F-2")
    client = host.app.test_client()
    token = _csrf(client.get(f"{PREFIX}/transfers").get_data(as_text=True))
    response = client.post(f"{PREFIX}/transfers/retry", data={"csrf_token": token, "ids": [str(first), str(second)]},
                           headers={"HX-Request": "true"})
    assert "maventa:transfers-changed" in response.headers["HX-Trigger"]
    assert {t.invoice_id: t.revision for t in host.transfers() if t.state == "queued"} == {"1": 2, "2": 2}


# -- webhooks ----------------------------------------------------------------------------------------------


def _poll_jobs(host) -> list[str]:
    from rq import Queue

    return [job.func_name for job in Queue(transfer.queue_name(transfer.POLL), connection=host.ext.redis()).jobs]


def _accepted(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    connection = host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "accepted"
    return connection, host.transfers("1")[0]


def _webhook_path(host, connection) -> str:
    from flask_maventa.services.webhooks import new_webhook_secret

    secret = new_webhook_secret(connection)
    host.db.session.commit()
    return f"{PREFIX}/webhooks/{connection.id}/{secret}"


def test_webhook_with_a_wrong_token_is_403_and_changes_nothing(host):
    connection, row = _accepted(host)
    _webhook_path(host, connection)
    client = host.app.test_client()
    response = client.post(f"{PREFIX}/webhooks/{connection.id}/not-the-token", json={"id": row.maventa_invoice_id})
    assert response.status_code == 403
    assert host.transfers("1")[0].next_poll_at == row.next_poll_at
    assert _poll_jobs(host) == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"id": {"nested": 1}}', b'{"event": "x"}', b""])
def test_webhook_malformed_bodies_are_answered_and_ignored(host, body):
    connection, row = _accepted(host)
    response = host.app.test_client().post(_webhook_path(host, connection), data=body,
                                           content_type="application/json")
    assert response.status_code == 202
    assert host.transfers("1")[0].state == "accepted"
    assert _poll_jobs(host) == []


def test_webhook_unknown_invoice_and_replay_change_nothing(host):
    connection, row = _accepted(host)
    client = host.app.test_client()
    url = _webhook_path(host, connection)
    assert client.post(url, json={"id": "00000000-0000-0000-0000-000000000000"}).get_json()["ignored"]

    hinted = client.post(url, json={"event": "DOCUMENTS.INVOICE.DELIVERED", "id": row.maventa_invoice_id})
    assert hinted.status_code == 202 and hinted.get_json() == {"queued": "re-read"}
    assert _poll_jobs(host) == ["flask_maventa.runtime.jobs.poll_due"]  # the read is due now: a poller wakes up
    assert host.transfers("1")[0].next_poll_at <= utcnow()
    from tests.transfer.conftest import wait_for

    wait_for(lambda: transfer.poll(row.id).state == "delivered", what="delivered")
    replay = client.post(url, json={"event": "DOCUMENTS.INVOICE.DELIVERED", "id": row.maventa_invoice_id})
    assert replay.status_code == 202 and "delivered" in replay.get_json()["ignored"]
    assert host.transfers("1")[0].state == "delivered"


def test_webhook_is_exempt_from_the_hosts_csrf_protection(host):
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(host.app)
    connection, row = _accepted(host)
    client = host.app.test_client()
    assert client.post(_webhook_path(host, connection), json={"id": "x"}).status_code == 202
    assert client.post(f"{PREFIX}/transfers/retry", data={"ids": ["1"]}).status_code == 400  # still protected


def test_sweep_registers_the_webhook_with_maventa(make_host):
    host = make_host(MAVENTA_WEBHOOK_BASE_URL="http://erp.example")
    with host.app.app_context():
        connection = host.connect()
        transfer.sweep()
        host.db.session.refresh(connection)
        assert connection.webhook_id and connection.webhook_secret_hash
        company = host.ext.company_client(connection)
        hooks = company.list_webhooks()
        assert any(f"/webhooks/{connection.id}/" in h.get("destination", "") for h in hooks)


@pytest.mark.parametrize(("zone", "created", "on_the_day", "from_the_day"), [
    # 00:30 on 30 November in Oslo is still 29 November in UTC: the user's day is Oslo's.
    ("Europe/Oslo", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), True, True),
    ("Europe/Oslo", datetime(2026, 11, 30, 23, 30, tzinfo=UTC), False, True),  # 1 December in Oslo
    ("UTC", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), False, False),
])
def test_the_date_filter_takes_days_in_the_configured_zone(make_host, zone, created, on_the_day, from_the_day):
    host = make_host(MAVENTA_TIMEZONE=zone)
    with host.app.app_context():
        host.connect()
        transfer_id = _failed_transfer(host)
        session = current_maventa().session
        session.execute(sa.update(Transfer).where(Transfer.id == transfer_id).values(created_at=created.replace(tzinfo=None)))  # stored naive UTC
        session.commit()
        client = host.app.test_client()
        for query, listed in (("date_from=2026-11-30&date_to=2026-11-30", on_the_day),
                              ("date_from=2026-11-30", from_the_day)):
            html = client.get(f"{PREFIX}/transfers?{query}").get_data(as_text=True)
            assert (f'id="transfer-{transfer_id}"' in html) is listed, (zone, query)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14 and UTC-11
def test_the_first_and_last_days_a_date_can_hold_filter_in_any_zone(make_host, zone):
    host = make_host(MAVENTA_TIMEZONE=zone)
    with host.app.app_context():
        host.connect()
        _failed_transfer(host)
        client = host.app.test_client()
        html = client.get(f"{PREFIX}/transfers?date_from=0001-01-01&date_to=9999-12-31").get_data(as_text=True)
        assert "F-1" in html
        assert "No transfers match" in client.get(f"{PREFIX}/transfers?date_to=0001-01-01").get_data(as_text=True)
