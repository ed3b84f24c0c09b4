"""Maventa's own-PDF print setting (send_invoice_print.use_own_pdf), shown and switched from our page,
against the sandbox over HTTP."""

from __future__ import annotations

import json

from flask_maventa.infra.models import Event
from flask_maventa.services.settings import read_print_settings, set_use_own_pdf

from .conftest import HTMX, PREFIX, csrf_token, sandbox_connection

URL = f"{PREFIX}/companies/c1/settings/print"


def maventa_value(sandbox, connection) -> bool:
    return sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]["use_own_pdf"]


def test_the_functions_read_and_set_maventas_value(app, db, sandbox):
    connection = sandbox_connection(sandbox)
    assert read_print_settings(connection)["use_own_pdf"] is False
    after = set_use_own_pdf(connection, True)
    assert after["use_own_pdf"] is True and maventa_value(sandbox, connection) is True
    # only use_own_pdf changed: the rest of Maventa's print block is untouched
    assert after["letter_class"] == "ECONOMY"
    set_use_own_pdf(connection, False)
    assert maventa_value(sandbox, connection) is False


def test_the_page_shows_maventas_current_value_and_switches_it(client, db, sandbox):
    connection = sandbox_connection(sandbox)
    fragment = client.get(URL, headers=HTMX).get_data(as_text=True)
    assert 'data-use-own-pdf="off"' in fragment and "each page is charged" in fragment

    # Turning it on asks first and says the cost; nothing changes in Maventa until confirmed.
    asked = client.post(URL, data={"csrf_token": csrf_token(client), "use_own_pdf": "1"}, headers=HTMX)
    question = asked.get_data(as_text=True)
    assert 'id="maventa-print-confirm"' in question and "Maventa charges every printed page" in question
    assert "HX-Trigger" not in asked.headers and maventa_value(sandbox, connection) is False

    response = client.post(URL, data={"csrf_token": csrf_token(client), "use_own_pdf": "1", "confirmed": "1"},
                           headers=HTMX)
    assert json.loads(response.headers["HX-Trigger"]) == {"maventa:print-settings-changed": True}
    assert 'data-use-own-pdf="on"' in response.get_data(as_text=True)
    assert maventa_value(sandbox, connection) is True
    assert db.session.query(Event).filter_by(kind="settings.print_own_pdf").count() == 1

    client.post(URL, data={"csrf_token": csrf_token(client), "use_own_pdf": "0"}, headers=HTMX)
    assert maventa_value(sandbox, connection) is False


def test_without_javascript_the_print_page_works(client, sandbox):
    connection = sandbox_connection(sandbox)
    page = client.get(URL).get_data(as_text=True)
    assert "<html" in page and 'data-use-own-pdf="off"' in page
    asked = client.post(URL, data={"csrf_token": csrf_token(client), "use_own_pdf": "1"})
    assert asked.status_code == 200 and "<html" in asked.get_data(as_text=True)
    assert "Maventa charges every printed page" in asked.get_data(as_text=True)
    assert maventa_value(sandbox, connection) is False
    response = client.post(URL, data={"csrf_token": csrf_token(client), "use_own_pdf": "1", "confirmed": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/print")
    assert maventa_value(sandbox, connection) is True


def test_a_forged_switch_without_csrf_changes_nothing_in_maventa(client, sandbox):
    connection = sandbox_connection(sandbox)
    html = client.post(URL, data={"use_own_pdf": "1", "confirmed": "1"}, headers=HTMX).get_data(as_text=True)
    assert "The form has expired" in html
    assert maventa_value(sandbox, connection) is False


def test_maventa_down_is_said_plainly(client, app, sandbox):
    sandbox_connection(sandbox)
    app.config["MAVENTA_SANDBOX_URL"] = "http://127.0.0.1:1"
    html = client.get(URL, headers=HTMX).get_data(as_text=True)
    assert "could not be read just now" in html
