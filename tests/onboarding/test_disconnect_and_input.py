"""Disconnecting a company (and connecting it again with other credentials), two admins on the credentials
and signing forms, and credentials that are refused before anything is sent to Maventa."""

from __future__ import annotations

from html import unescape

import pytest
from flask import g

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Transfer
from flask_maventa.services.transfer.sending import send
from flask_maventa.services.transfer.states import maventa_uuid
from tests.fixtures.forms import form_fields

from .conftest import PREFIX, connection_row, events
from .helpers import sandbox_users, save_credentials

PAGE = f"{PREFIX}/companies/c1"
DISCONNECT = f"{PAGE}/disconnect"
CREDENTIALS = f"{PAGE}/credentials"


def get(client, url: str) -> str:
    g.pop("csrf_token", None)  # one app context for the whole test: each client gets a token of its session
    return client.get(url).get_data(as_text=True)


def post(client, url: str, data: dict[str, str], **headers):
    g.pop("csrf_token", None)
    return client.post(url, data=data, headers=headers)


def connected(client, sandbox, bid: str = "923456789"):
    company_uuid, api_key = sandbox.new_company(bid=bid, country="NO", verified=True)
    response = save_credentials(client, company_uuid, api_key)
    assert response.status_code == 303, response.get_data(as_text=True)
    return company_uuid, api_key


def transfer(connection, invoice_id: str, state: str) -> int:
    session = current_maventa().session
    row = Transfer(connection_id=connection.id, invoice_id=invoice_id, revision=1, state=state,
                   maventa_uuid=maventa_uuid(connection, invoice_id, 1))
    session.add(row)
    session.commit()
    return row.id


# -- disconnecting -----------------------------------------------------------------------------------


def test_disconnect_asks_first_says_what_happens_to_waiting_invoices_and_removes_the_key(client, sandbox, adapter):
    connected(client, sandbox)
    connection = connection_row()
    waiting = transfer(connection, "inv-1", "queued")
    transfer(connection, "inv-2", "accepted")
    assert "Disconnect from Maventa" in get(client, PAGE)

    page = unescape(get(client, DISCONNECT))
    assert "Disconnect Fjord Consulting AS from Maventa?" in page
    assert "1 invoice is waiting to be sent. It stays in the queue and nothing is sent" in page
    assert "1 invoice was accepted by Maventa and is delivered by Maventa anyway." in page
    assert connection_row().has_credentials  # the page asked; nothing happened yet

    adapter.actor = "anna@fjord.example"
    response = post(client, DISCONNECT, form_fields(page, "#maventa-disconnect form"))
    assert response.status_code == 303 and "notice=disconnected" in response.headers["Location"]
    after = connection_row()
    assert (after.api_key_encrypted, after.company_uuid, after.webhook_secret_hash, after.active) == (
        None, None, None, False)
    [event] = events("connection.disconnected")
    assert event.actor == "anna@fjord.example" and event.data["waiting"] == 1 and event.data["accepted"] == 1
    assert "The company is disconnected from Maventa" in unescape(get(client, f"{PAGE}?notice=disconnected"))

    # The waiting invoice is not sent and does not fail: it waits for the next connection.
    invoices_before = len(sandbox.invoices()["invoices"])
    outcome = send(waiting)
    row = current_maventa().session.get(Transfer, waiting)
    current_maventa().session.refresh(row)
    assert (outcome.state, row.state, row.attempts, row.last_error_code) == ("queued", "queued", 0, "DISCONNECTED")
    assert len(sandbox.invoices()["invoices"]) == invoices_before


def test_disconnect_waits_while_an_invoice_is_in_flight_and_reconnecting_takes_other_credentials(client, sandbox):
    first_uuid, _ = connected(client, sandbox)
    connection = connection_row()
    in_flight = transfer(connection, "inv-1", "in_doubt")
    page = get(client, DISCONNECT)
    response = post(client, DISCONNECT, form_fields(page, "#maventa-disconnect form"))
    assert response.status_code == 409
    assert "1 invoice is being sent to Maventa right now" in unescape(response.get_data(as_text=True))
    assert connection_row().has_credentials

    current_maventa().session.get(Transfer, in_flight).state = "accepted"
    current_maventa().session.commit()
    page = get(client, DISCONNECT)
    assert post(client, DISCONNECT, form_fields(page, "#maventa-disconnect form")).status_code == 303

    other_uuid, other_key = sandbox.new_company(bid="NO923456789MVA", country="NO", verified=True)
    assert other_uuid != first_uuid
    assert save_credentials(client, other_uuid, other_key).status_code == 303
    assert connection_row().company_uuid == other_uuid and connection_row().verified


# -- two admins on the credentials and signing forms ------------------------------------------------


def test_stale_credentials_are_refused_and_the_pasted_key_is_reapplied_in_one_click(app, sandbox, adapter):
    anna, bjorn = app.test_client(), app.test_client()
    company_uuid, api_key = connected(anna, sandbox)
    annas, bjorns = form_fields(get(anna, PAGE), "#maventa-credentials-form"), form_fields(get(bjorn, PAGE),
                                                                                  "#maventa-credentials-form")
    adapter.actor = "anna@fjord.example"
    assert post(anna, CREDENTIALS, annas).status_code == 303  # kept key, saved again: a new version

    adapter.actor = "bjorn@fjord.example"
    response = post(bjorn, CREDENTIALS, {**bjorns, "api_key": api_key})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "anna@fjord.example saved the User API key and Company UUID." in html
    assert api_key not in html  # kept sealed, never shown
    again = form_fields(html, "#maventa-credentials-form")
    assert again["sealed_key"] and again["api_key"] == "" and again["version"] == str(connection_row().version)
    assert "bjorn@fjord.example" not in [e.actor for e in events("credentials.saved")]

    assert post(bjorn, CREDENTIALS, again).status_code == 303  # one click
    assert events("credentials.saved")[-1].actor == "bjorn@fjord.example"
    assert connection_row().company_uuid == company_uuid


def test_a_stale_signing_form_sends_no_email(app, sandbox, adapter):
    anna, bjorn = app.test_client(), app.test_client()
    company_uuid, _ = sandbox.new_company(bid="923456789", country="NO", email="owner@fjord.example")
    users = sandbox_users(sandbox)
    assert save_credentials(anna, company_uuid, users["owner@fjord.example"]).status_code == 303
    annas = form_fields(get(anna, PAGE), "#maventa-signing-form")
    bjorns = form_fields(get(bjorn, PAGE), "#maventa-signing-form")
    signing = f"{PAGE}/signing/send"
    adapter.actor = "anna@fjord.example"
    assert post(anna, signing, {**annas, "approver": "p1", "email": "anna@fjord.example", "locale": "NO"}
                ).status_code == 303
    adapter.actor = "bjorn@fjord.example"
    response = post(bjorn, signing, {**bjorns, "approver": "p2", "email": "bjorn@fjord.example", "locale": "FI"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "The email was not sent" in html
    assert "anna@fjord.example sent the authentication request." in html
    assert sandbox.company(company_uuid)["auth_email"] == "anna@fjord.example"
    again = form_fields(html, "#maventa-signing-form")
    assert (again["email"], again["locale"]) == ("bjorn@fjord.example", "FI")
    assert post(bjorn, signing, again).status_code == 303
    assert sandbox.company(company_uuid)["auth_email"] == "bjorn@fjord.example"


# -- credentials refused before anything is sent ----------------------------------------------------


@pytest.mark.parametrize(("key", "expected"), [
    ("a1b2c3\u00f8d4e5", "character 7 is \u201c\u00f8\u201d"),
    ("a1b2c3\u2019d4e5", "character 7 is \u201c\u2019\u201d"),
    ("a1b2c3\u200bd4e5", "character 7 is \u201cU+200B\u201d"),
    ("k" * 300, "it has 300 characters, and a User API key has at most 255"),
    ("two words", "must not contain spaces"),
])
def test_a_bad_key_is_refused_before_anything_is_sent(client, sandbox, key, expected):
    before = sandbox.stats()
    response = save_credentials(client, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", key)
    html = unescape(response.get_data(as_text=True))
    assert expected in html
    assert sandbox.stats() == before  # Maventa was asked nothing
    assert connection_row() is None


def test_a_company_uuid_with_other_characters_is_refused(client, sandbox):
    response = save_credentials(client, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5\u0435", "somekey")
    assert "The Company UUID can only contain the letters A\u2013Z" in unescape(response.get_data(as_text=True))


@pytest.mark.settings(locale="nb")
def test_the_refusal_is_in_the_users_language(client, sandbox):
    html = unescape(save_credentials(client, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", "k" * 300).get_data(as_text=True))
    assert "300 tegn" in html


def test_a_5xx_from_maventa_is_never_called_unreachable(client, sandbox):
    company_uuid, api_key = sandbox.new_company(bid="923456789", country="NO")
    sandbox.config(error_rate=1.0, fault_paths=["GET /oauth2/current"])
    html = unescape(save_credentials(client, company_uuid, api_key).get_data(as_text=True))
    assert "Maventa answered with an error of its own (HTTP 5" in html
    assert "could not be reached" not in html
    assert connection_row() is None
