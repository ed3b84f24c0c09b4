"""Two admins on one company's page, over HTTP (two clients, two sessions): the second save of a stale form
is refused with what changed and by whom, changes nothing, and one click re-applies the admin's own changes
on top of the current values -- with htmx and with plain form posts."""

from __future__ import annotations

from html import unescape

from flask import g

from flask_maventa.infra.models import Connection, Event
from tests.fixtures.forms import form_fields

from .conftest import HTMX, PREFIX, offline_connection, sandbox_connection

PAGE = f"{PREFIX}/companies/c1"
SETTINGS = f"{PAGE}/settings"
ACTIVATION = f"{PAGE}/activation"
PRINT = f"{PAGE}/settings/print"


def page(client) -> str:
    """The company page as this admin sees it. The tests' requests share one app context, where Flask-WTF
    keeps the CSRF token it made last (``g``): each admin gets a token of his own session."""
    g.pop("csrf_token", None)
    return client.get(PAGE).get_data(as_text=True)


def post(client, url: str, data: dict[str, str], **headers):
    g.pop("csrf_token", None)  # the forms in the answer get a token of this admin's session (see page)
    return client.post(url, data=data, headers=headers)


def settings_form(client) -> dict[str, str]:
    return form_fields(page(client), "#maventa-settings form")


def stored(db) -> Connection:
    db.session.expire_all()
    return db.session.query(Connection).filter_by(company_id="c1").one()


def test_the_second_admin_is_told_who_changed_what_and_reapplies_only_his_own_change(app, db, adapter):
    offline_connection()
    anna, bjorn = app.test_client(), app.test_client()
    annas, bjorns = settings_form(anna), settings_form(bjorn)
    assert annas["version"] == bjorns["version"] == "0"

    adapter.actor = "anna@fjord.example"
    annas["error_emails"] = "anna@fjord.example"
    response = post(anna, SETTINGS, annas, **HTMX)
    assert response.status_code == 200 and "Saved." in response.get_data(as_text=True)
    # every versioned form on Anna's page gets the new version (out of band), not only the one she saved
    assert ('value="1" class="maventa-version" hx-swap-oob="outerHTML:#maventa-company input.maventa-version"'
            in response.get_data(as_text=True))

    adapter.actor = "bjorn@fjord.example"
    del bjorns["send_pdf"]  # Bjørn turns the PDF off on the page he opened before Anna's save
    response = post(bjorn, SETTINGS, bjorns, **HTMX)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "<html" not in html
    assert "Nothing was saved: someone changed the settings after you opened them." in html
    assert "anna@fjord.example saved the settings." in html
    assert "Error email addresses: now \u201canna@fjord.example\u201d" in html
    connection = stored(db)
    assert (connection.send_pdf, connection.error_emails, connection.version) == (True, "anna@fjord.example", 1)
    assert [e.actor for e in db.session.query(Event).filter_by(kind="settings.saved")] == ["anna@fjord.example"]

    # The form he gets back: his change (PDF off) on top of Anna's (her address), made from version 1.
    again = form_fields(html, "#maventa-settings form")
    assert "send_pdf" not in again and again["error_emails"] == "anna@fjord.example" and again["version"] == "1"
    assert "Apply my changes" in html
    response = post(bjorn, SETTINGS, again, **HTMX)  # one click
    assert "Saved." in response.get_data(as_text=True)
    connection = stored(db)
    assert (connection.send_pdf, connection.error_emails, connection.version) == (False, "anna@fjord.example", 2)


def test_without_javascript_the_stale_save_is_a_409_page_and_the_reapplied_form_saves(app, db, adapter):
    offline_connection()
    anna, bjorn = app.test_client(), app.test_client()
    annas, bjorns = settings_form(anna), settings_form(bjorn)
    annas["error_emails"] = "anna@fjord.example"
    assert post(anna, SETTINGS, annas).status_code == 303

    bjorns["failure_status_id"] = "draft"
    response = post(bjorn, SETTINGS, bjorns)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "<html" in html
    assert "Nothing was saved" in html and stored(db).failure_status_id == "failed"
    again = form_fields(html, "#maventa-settings form")
    assert (again["failure_status_id"], again["error_emails"]) == ("draft", "anna@fjord.example")
    assert post(bjorn, SETTINGS, again).status_code == 303
    connection = stored(db)
    assert (connection.failure_status_id, connection.error_emails) == ("draft", "anna@fjord.example")


def test_a_stale_switch_is_refused_and_the_switch_shows_the_state_now(app, db, adapter):
    offline_connection(active=True)
    anna, bjorn = app.test_client(), app.test_client()
    bjorns_switch = form_fields(page(bjorn), "#maventa-activation form")
    annas = settings_form(anna)
    adapter.actor = "anna@fjord.example"
    annas["error_emails"] = "anna@fjord.example"
    assert post(anna, SETTINGS, annas, **HTMX).status_code == 200

    adapter.actor = "bjorn@fjord.example"
    response = post(bjorn, ACTIVATION, {**bjorns_switch, "active": "0"}, **HTMX)
    html = unescape(response.get_data(as_text=True))
    assert "The switch was not changed" in html and "anna@fjord.example saved the settings." in html
    assert stored(db).active is True
    fresh = form_fields(html, "#maventa-activation form")
    assert fresh["version"] == "1"
    response = post(bjorn, ACTIVATION, {**fresh, "active": "0"})  # pressed again: applied
    assert response.status_code == 303 and stored(db).active is False


def test_a_form_with_a_version_that_is_no_number_changes_nothing(app, db):
    offline_connection()
    client = app.test_client()
    data = settings_form(client)
    data.update(version="1 OR 1=1", error_emails="x@fjord.example")
    response = post(client, SETTINGS, data)
    assert response.status_code == 409 and stored(db).error_emails is None


def test_a_stale_print_switch_changes_nothing_in_maventa(app, db, sandbox, adapter):
    connection = sandbox_connection(sandbox)
    anna, bjorn = app.test_client(), app.test_client()
    g.pop("csrf_token", None)
    bjorns = form_fields(bjorn.get(PRINT).get_data(as_text=True), "#maventa-print form")
    annas = settings_form(anna)
    adapter.actor = "anna@fjord.example"
    annas["error_emails"] = "anna@fjord.example"
    assert post(anna, SETTINGS, annas).status_code == 303

    response = post(bjorn, PRINT, {**bjorns, "confirmed": "1"})  # he answered Yes to the print question
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "print setting was not changed: someone changed" in html
    assert "anna@fjord.example saved the settings." in html
    in_maventa = sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]
    assert in_maventa["use_own_pdf"] is False  # Maventa was not asked to change anything
    again = form_fields(html, "#maventa-print form")
    assert again["version"] == "1"
    assert post(bjorn, PRINT, {**again, "use_own_pdf": "1", "confirmed": "1"}).status_code == 303
    assert sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is True


def test_a_5xx_while_checking_the_credentials_is_maventas_error_not_unreachable(app, db, sandbox):
    sandbox_connection(sandbox)
    client = app.test_client()
    switch = form_fields(page(client), "#maventa-activation form")
    sandbox.config(error_rate=1.0, fault_paths=["GET /oauth2/current"])
    html = unescape(post(client, ACTIVATION, {**switch, "active": "1"}, **HTMX).get_data(as_text=True))
    assert "The credentials could not be checked with Maventa." in html
    assert "Maventa answered with an error of its own (HTTP 500)" in html and "could not be reached" not in html
    assert stored(db).active is False
