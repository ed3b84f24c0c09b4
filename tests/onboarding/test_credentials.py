"""Connecting an existing Maventa account (PRODUCT §1B): the pair is tested before it is saved,
the stored key is only ever shown masked, and the signing request goes out by itself when an
approver was chosen before."""

from __future__ import annotations

import re

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection

from .conftest import HTMX, PREFIX, connection_row, events
from .helpers import registered, save_credentials


@pytest.fixture
def existing(sandbox):
    """A company that already has an account in Maventa (made outside our app), not yet signed."""
    return sandbox.new_company(bid="923456789", country="NO", email="owner@fjord.example")


def test_correct_pair_is_tested_then_saved_encrypted(client, sandbox, existing):
    company_uuid, api_key = existing
    tokens_before = sandbox.stats()["token_requests"]

    response = save_credentials(client, company_uuid, api_key)

    assert response.status_code == 303 and response.headers["Location"].endswith("notice=connected")
    assert sandbox.stats()["token_requests"] > tokens_before  # the pair was tried against Maventa
    connection = connection_row("c1")
    assert connection.company_uuid == company_uuid
    assert current_maventa().secrets().decrypt(connection.api_key_encrypted) == api_key
    assert connection.registered_via == "existing"
    assert (connection.auth_state, connection.company_state) == ("NONE", "UNVERIFIED")
    [event] = events("credentials.")
    assert event.kind == "credentials.saved" and event.data["company_uuid"] == company_uuid
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Maventa accepted the User API key and Company UUID" in page
    assert f'value="{"•" * 12}{api_key[-4:]}"' in page


def test_htmx_save_returns_the_company_fragment_with_a_trigger(client, sandbox, existing):
    response = save_credentials(client, *existing, **HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="maventa-company"')
    assert "maventa:credentials-saved" in response.headers["HX-Trigger"]


def test_already_verified_account_is_saved_as_verified(client, sandbox):
    company_uuid, api_key = sandbox.new_company(bid="923456789", country="NO", verified=True)
    save_credentials(client, company_uuid, api_key)
    connection = connection_row("c1")
    assert connection.verified and connection.auth_next_check_at is None


def test_wrong_key_is_refused_with_the_reason_and_nothing_is_saved(client, sandbox, existing):
    company_uuid, _key = existing
    html = save_credentials(client, company_uuid, "0123456789abcdef0123456789abcdef").get_data(as_text=True)
    assert "Maventa refused this User API key and Company UUID" in html
    assert connection_row("c1") is None
    [event] = events("credentials.")
    assert event.kind == "credentials.refused" and event.data["code"] == "credentials_refused"


def test_unknown_company_uuid_is_refused(client, sandbox, existing):
    html = save_credentials(client, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", existing[1]).get_data(as_text=True)
    assert "Maventa refused this User API key and Company UUID" in html
    assert connection_row("c1") is None


def test_credentials_of_another_business_are_refused(client, sandbox):
    company_uuid, api_key = sandbox.new_company(bid="FI12345678", country="FI")
    html = save_credentials(client, company_uuid, api_key).get_data(as_text=True)
    assert "These credentials belong to the Maventa company" in html and "not to Fjord Consulting AS" in html
    assert connection_row("c1") is None


@pytest.mark.parametrize("bad_uuid", ["not-a-uuid", "0b0e7a8e1d2c4c539d3f9a1d2b3c4d5e", "", "   "])
def test_malformed_uuid_gets_a_message_next_to_the_field_without_asking_maventa(client, sandbox, existing, bad_uuid):
    tokens_before = sandbox.stats()["token_requests"]
    html = save_credentials(client, bad_uuid, existing[1]).get_data(as_text=True)
    field = re.search(r'<div class="maventa-field has-error" id="field-company_uuid">.*?</div>', html, re.S)
    assert field and "This is not a Company UUID" in field.group(0)
    assert sandbox.stats()["token_requests"] == tokens_before
    assert connection_row("c1") is None


@pytest.mark.parametrize("bad_key", ["", "   \t "])
def test_empty_or_whitespace_key_gets_a_message_next_to_the_field(client, sandbox, existing, bad_key):
    html = save_credentials(client, existing[0], bad_key).get_data(as_text=True)
    field = re.search(r'<div class="maventa-field has-error" id="field-api_key">.*?</div>', html, re.S)
    assert field and "Enter the User API key from Maventa." in field.group(0)
    assert connection_row("c1") is None


def test_key_with_spaces_inside_is_refused(client, sandbox, existing):
    html = save_credentials(client, existing[0], "abc def").get_data(as_text=True)
    assert "must not contain spaces" in html and connection_row("c1") is None


def test_a_typed_key_is_never_echoed_back_even_when_the_uuid_is_wrong(client, sandbox, existing):
    html = save_credentials(client, "not-a-uuid", existing[1]).get_data(as_text=True)
    assert existing[1] not in html
    assert re.search(r'name="api_key" [^>]*value=""', html)


def test_unchanged_masked_key_keeps_the_stored_key(client, sandbox, existing):
    company_uuid, api_key = existing
    save_credentials(client, company_uuid, api_key)
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    masked = re.search(r'name="api_key" [^>]*value="([^"]*)"', page).group(1)
    assert masked.startswith("•") and api_key not in page

    response = save_credentials(client, company_uuid, masked)

    assert response.status_code == 303
    assert current_maventa().secrets().decrypt(connection_row("c1").api_key_encrypted) == api_key
    assert "key unchanged" in events("credentials.saved")[-1].message


def test_edited_masked_value_is_refused(client, sandbox, existing):
    save_credentials(client, *existing)
    html = save_credentials(client, existing[0], "•••x").get_data(as_text=True)
    assert "leave the masked value unchanged" in html


def test_pasting_a_new_pair_replaces_the_old_one(client, sandbox, existing):
    save_credentials(client, *existing)
    # A second user of the same Maventa company: add it through Maventa's company users endpoint.
    from flask_maventa.client import MaventaClient, MemoryTokenStore

    owner = MaventaClient(sandbox.url, sandbox.vendor_api_key, token_store=MemoryTokenStore()).for_company(*existing)
    created, new_key = owner.add_company_user("third@fjord.example", "Third")
    assert created and new_key

    assert save_credentials(client, existing[0], new_key).status_code == 303
    assert current_maventa().secrets().decrypt(connection_row("c1").api_key_encrypted) == new_key


def test_signing_request_goes_out_by_itself_when_an_approver_was_chosen_before(client, sandbox, existing):
    ext = current_maventa()
    ext.session.add(Connection(company_id="c1", environment="sandbox", approver_person_id="p2",
                               auth_email="aino@fjord.example", auth_locale="FI"))
    ext.session.commit()

    response = save_credentials(client, *existing)

    assert response.headers["Location"].endswith("notice=connected_signing_sent")
    in_maventa = sandbox.company(existing[0])
    assert (in_maventa["auth_state"], in_maventa["auth_email"], in_maventa["locale"]) == ("SENT", "aino@fjord.example", "FI")
    connection = connection_row("c1")
    assert connection.auth_state == "SENT" and connection.auth_next_check_at is not None
    assert events("signing.sent")[0].data["automatic"] is True


def test_without_an_approver_nothing_is_sent_and_the_signing_form_waits(client, sandbox, existing):
    save_credentials(client, *existing)
    assert sandbox.company(existing[0])["auth_state"] == "NONE"
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert 'id="maventa-signing-form"' in page


@pytest.mark.settings(MAVENTA_SANDBOX_URL="http://127.0.0.1:1")
def test_maventa_down_when_saving_changes_nothing(client):
    html = save_credentials(client, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", "somekey").get_data(as_text=True)
    assert "Maventa could not be reached, nothing was changed" in html
    assert connection_row("c1") is None


def test_credentials_without_csrf_are_refused(client, sandbox, existing):
    response = client.post(f"{PREFIX}/companies/c1/credentials",
                           data={"company_uuid": existing[0], "api_key": existing[1]})
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert connection_row("c1") is None


def test_credentials_of_a_company_that_is_not_yours_are_forbidden(adapter, client, sandbox, existing):
    adapter.allowed = {"c1-bergen"}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(f"{PREFIX}/companies/c1-bergen").get_data(as_text=True)).group(1)
    response = client.post(f"{PREFIX}/companies/c1/credentials",
                           data={"csrf_token": token, "company_uuid": existing[0], "api_key": existing[1]})
    assert response.status_code == 403 and connection_row("c1") is None
    assert client.post(f"{PREFIX}/companies/nope/credentials", data={"csrf_token": token}).status_code == 404


def test_register_then_the_page_shows_both_fields_filled(client, sandbox):
    connection = registered(client)
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert f'value="{connection.company_uuid}"' in page
    assert re.search(r'name="api_key" [^>]*value="•{12}\w{4}"', page)
