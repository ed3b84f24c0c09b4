"""The settings form over HTTP: saved and read back, inline validation, bad input."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from flask_maventa.host import InvoiceStatus
from flask_maventa.infra.models import Connection, Event

from .conftest import HTMX, PREFIX, csrf_token, offline_connection

SENT_MESSAGE = "Status of invoices to be transferred can not be sent"
URL = f"{PREFIX}/companies/c1/settings"


def form(client, **changes):
    data = {"csrf_token": csrf_token(client), "send_pdf": "y", "send_customer_email": "y",
            "error_emails": "errors@fjord.example", "transfer_status_id": "ready",
            "success_status_id": "transferred", "failure_status_id": "failed"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def stored(db, company_id="c1"):
    db.session.expire_all()
    return db.session.query(Connection).filter_by(company_id=company_id).one()


def snapshot(connection):
    return (connection.send_pdf, connection.send_customer_email, connection.error_emails,
            connection.transfer_status_id, connection.success_status_id, connection.failure_status_id,
            connection.settings_saved_at)


def test_every_setting_is_saved_and_read_back(client, db):
    offline_connection(saved=False)
    data = form(client, send_pdf=None, error_emails="errors@fjord.example, kari@fjord.example",
                transfer_status_id="draft", success_status_id="ready", failure_status_id="failed")
    response = client.post(URL, data=data, headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"maventa:settings-saved": True}
    html = response.get_data(as_text=True)
    assert "Saved." in html and "<html" not in html
    # The switch comes fresh in the same answer, out of band (a reload after the save could undo a click).
    assert re.search(r'<div id="maventa-activation"[^>]* hx-swap-oob="true"', html)

    saved = stored(db)
    assert saved.send_pdf is False and saved.send_customer_email is True
    assert saved.error_email_list == ["errors@fjord.example", "kari@fjord.example"]
    assert (saved.transfer_status_id, saved.success_status_id, saved.failure_status_id) == ("draft", "ready", "failed")
    assert saved.settings_saved_at is not None
    assert db.session.query(Event).filter_by(kind="settings.saved").count() == 1

    # ...and the page shows them again
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert 'id="send_pdf" name="send_pdf" type="checkbox"' in page and 'checked id="send_pdf"' not in page
    assert 'checked id="send_customer_email"' in page
    assert 'value="errors@fjord.example, kari@fjord.example"' in page
    assert '<option selected value="draft">' in page.split('name="transfer_status_id"')[1].split("</select>")[0]
    assert '<option selected value="ready">' in page.split('name="success_status_id"')[1].split("</select>")[0]
    assert '<option selected value="failed">' in page.split('name="failure_status_id"')[1].split("</select>")[0]


def test_without_javascript_saving_redirects_and_says_saved(client, db):
    offline_connection(saved=False)
    response = client.post(URL, data=form(client))
    assert response.status_code == 303
    assert "saved=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. The integration is available" in page
    assert stored(db).transfer_status_id == "ready"


def test_saving_a_sent_transfer_status_keeps_it_and_warns(client, db):
    offline_connection(saved=False)
    html = client.post(URL, data=form(client, transfer_status_id="sent"), headers=HTMX).get_data(as_text=True)
    assert "Saved. The integration cannot be activated" in html
    assert SENT_MESSAGE in html
    assert stored(db).transfer_status_id == "sent"


@pytest.mark.parametrize("changes, expected", [
    ({"transfer_status_id": "sent"}, SENT_MESSAGE),
    ({"success_status_id": "ready"}, "must differ from the status of invoices to be transferred"),
    ({"failure_status_id": "ready"}, "must differ from the status of invoices to be transferred"),
    ({"failure_status_id": ""}, "Choose the status after a failed transfer."),
    ({"error_emails": "kari(at)fjord.example"}, "\u201ckari(at)fjord.example\u201d is not a valid email address."),
])
def test_inline_validation_answers_with_the_fragment_and_saves_nothing(client, db, adapter, changes, expected):
    adapter.status_settings_url = lambda company_id: f"/host/invoice-statuses?company={company_id}"
    before = snapshot(offline_connection())
    response = client.post(f"{URL}/validate", data=form(client, **changes), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Only the problem slots come back, swapped out of band: the inputs are never replaced mid-edit.
    assert "<select" not in html and "<input" not in html
    assert 'id="maventa-settings-problems" hx-swap-oob="true"' in html
    field = next(k for k in changes if k != "csrf_token")
    assert re.search(rf'id="problems-{field}" hx-swap-oob="true">\s*<p class="maventa-error"', html)
    assert expected in html
    if expected == SENT_MESSAGE:
        assert "clear Sent on the status \u201cSent\u201d" in html
        assert 'href="/host/invoice-statuses?company=c1"' in html
    assert "HX-Trigger" not in response.headers
    assert snapshot(stored(db)) == before


def test_inline_validation_of_a_good_form_shows_no_problem(client):
    offline_connection()
    html = client.post(f"{URL}/validate", data=form(client), headers=HTMX).get_data(as_text=True)
    assert 'class="maventa-error"' not in html


@pytest.mark.parametrize("changes, expected", [
    ({"transfer_status_id": "no-such-status"}, "not one of this company's invoice statuses"),
    ({"success_status_id": "bergen-only"}, "not one of this company's invoice statuses"),
    ({"error_emails": "ok@fjord.example, not an address"}, "is not a valid email address"),
    ({"csrf_token": None}, "The form has expired or did not come from this page."),
    ({"csrf_token": "forged"}, "The form has expired or did not come from this page."),
])
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_input_gets_a_message_and_nothing_is_saved(client, db, adapter, changes, expected, htmx):
    adapter.statuses["c1-bergen"].append(InvoiceStatus("bergen-only", "Bergen only"))  # another company's status
    before = snapshot(offline_connection())
    response = client.post(URL, data=form(client, send_pdf=None, **changes), headers=HTMX if htmx else {})
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert expected in html
    assert "Nothing was saved" in html
    assert ("<html" in html) is not htmx  # a plain POST gets the whole page back with the errors
    assert snapshot(stored(db)) == before
    assert db.session.query(Event).filter_by(kind="settings.saved").count() == 0


def test_an_active_integration_refuses_a_broken_mapping(client, db):
    offline_connection(active=True)
    html = client.post(URL, data=form(client, success_status_id="ready"), headers=HTMX).get_data(as_text=True)
    assert "Nothing was saved" in html
    assert stored(db).success_status_id == "transferred"


def test_a_user_without_permission_gets_403_and_nothing_is_saved(client, db, adapter):
    before = snapshot(offline_connection())
    token = csrf_token(client)
    adapter.allowed = {"c1-bergen"}
    data = {"csrf_token": token, "transfer_status_id": "draft", "success_status_id": "ready",
            "failure_status_id": "failed", "error_emails": "x@fjord.example"}
    for url in (URL, f"{URL}/validate", f"{URL}/print", f"{PREFIX}/companies/c1/activation"):
        response = client.post(url, data=data | {"active": "1", "use_own_pdf": "1"}, headers=HTMX)
        assert response.status_code == 403, url
        assert "You do not have permission" in response.get_data(as_text=True)
    assert snapshot(stored(db)) == before
    assert stored(db).active is False


def test_settings_are_locked_until_the_company_is_verified(client, db):
    before = snapshot(offline_connection(verified=False))
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    section = page.split('id="maventa-settings"')[1].split("</section>")[0]
    assert '<section id="maventa-settings" class="maventa-card is-locked"' in page
    assert "verified in Maventa" in section and "<select" not in section
    response = client.post(URL, data=form(client), headers=HTMX)
    assert "<form" not in response.get_data(as_text=True)
    assert snapshot(stored(db)) == before


def test_a_company_without_connection_shows_the_locked_section(client):
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "Connect the company to Maventa first" in page
