"""The activation toggle against the sandbox: refusals with their reasons, activation, deactivation,
and the page telling why an active integration's sweep is blocked."""

from __future__ import annotations

import json
from html import unescape

import pytest

from flask_maventa.host import InvoiceStatus
from flask_maventa.infra.models import Connection, Event
from flask_maventa.services.settings import activation_problems, transfer_blockers
from tests.fixtures.apps import make_app

from .conftest import HTMX, PREFIX, csrf_token, offline_connection, sandbox_connection

URL = f"{PREFIX}/companies/c1/activation"
SENT_MESSAGE = {
    "en": "Status of invoices to be transferred can not be sent",
    "nb": "Status på fakturaer som skal overføres kan ikke være sendt",
    "fi": "Siirrettävien laskujen tila ei voi olla lähetetty",
    "sv": "Status för fakturor som ska överföras kan inte vara skickad",
}


def toggle(client, on: bool, htmx: bool = True):
    return client.post(URL, data={"csrf_token": csrf_token(client), "active": "1" if on else "0"},
                       headers=HTMX if htmx else {})


def fresh(db, company_id="c1") -> Connection:
    db.session.expire_all()
    return db.session.query(Connection).filter_by(company_id=company_id).one()


def switch_of(html: str) -> str:
    return html.split('role="switch"')[1].split(">")[0]


def test_a_verified_company_with_saved_settings_is_activated(client, db, sandbox):
    sandbox_connection(sandbox)
    response = toggle(client, True)
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"maventa:activation-changed": True}
    html = response.get_data(as_text=True)
    assert 'class="maventa-toggle"' in html and 'aria-checked="true"' in switch_of(html)
    connection = fresh(db)
    assert connection.active and connection.activated_at is not None
    assert db.session.query(Event).filter_by(kind="activation.on").count() == 1


def test_the_sent_flag_refuses_activation_with_the_exact_message_next_to_the_toggle(client, db, adapter, sandbox):
    adapter.status_settings_url = lambda company_id: "/host/invoice-statuses"
    sandbox_connection(sandbox, transfer_status_id="sent")
    html = unescape(toggle(client, True).get_data(as_text=True))
    assert 'aria-checked="false"' in switch_of(html)
    refusal = html.split('class="maventa-refusal"')[1]
    assert SENT_MESSAGE["en"] in refusal
    assert "clear Sent on the status \u201cSent\u201d and save" in refusal
    assert 'href="/host/invoice-statuses"' in refusal
    assert fresh(db).active is False
    assert db.session.query(Event).filter_by(kind="activation.refused").count() == 1


@pytest.mark.parametrize("locale", ["nb", "fi", "sv"])
def test_the_sent_flag_message_is_translated(tmp_path, sandbox, locale):
    app = make_app(tmp_path, locale=locale, MAVENTA_SANDBOX_URL=sandbox.url,
                   MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key, MAVENTA_REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        sandbox_connection(sandbox, transfer_status_id="sent")
        client = app.test_client()
        html = unescape(toggle(client, True).get_data(as_text=True))
        assert SENT_MESSAGE[locale] in html
        assert SENT_MESSAGE["en"] not in html


@pytest.mark.parametrize("fields, code, text", [
    ({"saved": False}, "settings_not_saved", "Save the settings before activating"),
    ({"failure_status_id": None}, "status_missing", "Choose the status after a failed transfer."),
    ({"success_status_id": "ready"}, "transfer_equals_success", "must differ from the status of invoices to be transferred"),
    ({"failure_status_id": "ready"}, "transfer_equals_failure", "must differ from the status of invoices to be transferred"),
    ({"sign": False}, "not_verified", "not verified in Maventa yet"),
])
def test_each_other_refusal_is_shown_and_the_toggle_stays_off(client, db, sandbox, fields, code, text):
    sandbox_connection(sandbox, **fields)
    html = unescape(toggle(client, True).get_data(as_text=True))
    assert f'data-problem="{code}"' in html
    assert text in html
    assert 'aria-checked="false"' in switch_of(html)
    assert fresh(db).active is False


def test_credentials_that_no_longer_work_are_caught_live(client, db, sandbox):
    sandbox_connection(sandbox, api_key="a-key-maventa-never-issued")
    html = unescape(toggle(client, True).get_data(as_text=True))
    assert 'data-problem="credentials_invalid"' in html
    assert "a-key-maventa-never-issued" not in html
    assert fresh(db).active is False


def test_a_company_verified_meanwhile_is_picked_up_live(app, db, sandbox):
    connection = sandbox_connection(sandbox, sign=False)
    sandbox.sign(connection.company_uuid)
    assert activation_problems(connection) == []
    assert connection.company_state == "VERIFIED"


def test_maventa_unreachable_refuses_with_a_reason(client, db, app):
    offline_connection()  # credentials for a company Maventa does not know
    app.config["MAVENTA_SANDBOX_URL"] = "http://127.0.0.1:1"
    html = unescape(toggle(client, True).get_data(as_text=True))
    assert 'data-problem="maventa_unreachable"' in html
    assert fresh(db).active is False


def test_without_javascript_the_toggle_redirects_or_shows_the_page(client, db, sandbox):
    sandbox_connection(sandbox, transfer_status_id="sent")
    refused = toggle(client, True, htmx=False)
    assert refused.status_code == 200
    assert "<html" in refused.get_data(as_text=True) and SENT_MESSAGE["en"] in refused.get_data(as_text=True)
    fresh(db).transfer_status_id = "ready"
    db.session.commit()
    done = toggle(client, True, htmx=False)
    assert done.status_code == 303 and done.headers["Location"].endswith("/companies/c1")
    assert fresh(db).active is True


def test_deactivating_stops_new_transfers_at_once(client, db, sandbox):
    sandbox_connection(sandbox, active=True)
    response = toggle(client, False)
    assert json.loads(response.headers["HX-Trigger"]) == {"maventa:activation-changed": True}
    assert 'aria-checked="false"' in switch_of(response.get_data(as_text=True))
    connection = fresh(db)
    assert connection.active is False
    assert db.session.query(Event).filter_by(kind="activation.off").count() == 1
    # the settings stay as they were: turning it back on needs no new save
    assert transfer_blockers(connection) == []


def test_the_page_shows_why_the_sweep_of_an_active_integration_is_blocked(client, db, adapter):
    offline_connection(active=True)
    adapter.statuses["c1"] = [InvoiceStatus(s.id, s.name, is_sent=s.is_sent or s.id == "ready")
                              for s in adapter.statuses["c1"]]
    page = unescape(client.get(f"{PREFIX}/companies/c1").get_data(as_text=True))
    toggle_html = page.split('id="maventa-activation"')[1].split('id="maventa-settings"')[0]
    assert "Active, but no invoices are sent until this is fixed" in toggle_html
    assert SENT_MESSAGE["en"] in toggle_html


def test_the_toggle_is_disabled_without_a_connection(client, db):
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "disabled" in switch_of(page)
    html = unescape(toggle(client, True).get_data(as_text=True))
    assert 'data-problem="no_credentials"' in html
    assert db.session.query(Connection).count() == 0


def test_a_forged_toggle_without_csrf_changes_nothing(client, db, sandbox):
    sandbox_connection(sandbox)
    html = unescape(client.post(URL, data={"active": "1"}, headers=HTMX).get_data(as_text=True))
    assert "The form has expired" in html
    assert fresh(db).active is False
