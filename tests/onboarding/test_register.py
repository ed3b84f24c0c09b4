"""Register (PRODUCT §1A) against the sandbox over HTTP: happy path, existing user, business id
taken, departments, Maventa down, permissions and CSRF."""

from __future__ import annotations

import pytest

from flask_maventa.extension import current_maventa

from .conftest import HTMX, PREFIX, connection_row, csrf_token, events
from .helpers import register, sandbox_users


def test_register_creates_user_and_company_and_opens_the_filled_in_page(client, sandbox):
    response = register(client)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{PREFIX}/companies/c1?notice=registered")
    connection = connection_row("c1")
    in_maventa = sandbox.company(connection.company_uuid)
    assert in_maventa["bid"] == "923456789" and in_maventa["name"] == "Fjord Consulting AS"
    assert in_maventa["company_state"] == "UNVERIFIED"
    key = sandbox_users(sandbox)["kari@fjord.example"]
    assert current_maventa().secrets().decrypt(connection.api_key_encrypted) == key
    assert connection.registered_via == "register" and not connection.needs_manual_credentials

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The company is registered in Maventa" in page
    assert f'value="{connection.company_uuid}"' in page
    assert f'value="{"•" * 12}{key[-4:]}"' in page  # the key only masked (the secret watch checks the rest)
    [event] = events("registration.")
    assert event.kind == "registration.created" and event.actor == "tester@example.com"


def test_register_over_htmx_redirects_the_browser_to_the_company(client, sandbox):
    response = register(client, **HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith("/companies/c1?notice=registered")
    assert "maventa:registered" in response.headers["HX-Trigger"]


def test_person_with_an_existing_maventa_account_gets_the_manual_steps(client, sandbox):
    sandbox.http.post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key, "email": "kari@fjord.example",
                                         "first_name": "Kari"}).raise_for_status()

    response = register(client)

    assert response.headers["Location"].endswith("notice=existing_user")
    connection = connection_row("c1")
    assert connection.needs_manual_credentials and not connection.has_credentials
    assert connection.company_uuid is None and connection.api_key_encrypted is None
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "kari@fjord.example already has a Maventa user account" in page
    assert "Log in to Maventa with your existing Maventa credentials" in page
    assert "copy the User API key and the Company UUID from Maventa" in page
    assert 'name="api_key"' in page and 'name="company_uuid"' in page
    assert [e.kind for e in events("registration.")] == ["registration.existing_user"]


def test_business_id_taken_points_to_connecting_and_creates_nothing_here(client, sandbox):
    sandbox.new_company(bid="923456789", country="NO")

    response = register(client)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "already registered in Maventa" in html and "connect it instead" in html
    assert connection_row("c1") is None
    [event] = events("registration.")
    assert event.kind == "registration.refused" and event.data["code"] == "bid_taken"


def test_business_id_taken_is_found_by_the_partner_lookup_before_any_user_is_created(app, client, sandbox):
    partner_uuid, partner_key = sandbox.new_company(verified=True, email="partner@erp.example")
    sandbox.new_company(bid="923456789", country="NO", email="someone@else.example")
    app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)

    html = register(client).get_data(as_text=True)

    assert "already registered in Maventa" in html
    assert "kari@fjord.example" not in sandbox_users(sandbox)  # refused before POST /v1/users
    assert connection_row("c1") is None


def test_partner_lookup_lets_a_free_business_id_through(app, client, sandbox):
    partner_uuid, partner_key = sandbox.new_company(verified=True, email="partner@erp.example")
    app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)
    assert register(client).status_code == 303
    assert connection_row("c1").has_credentials


def test_departments_with_a_vat_number_register_on_their_own(client, sandbox):
    landing = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert '<option disabled value="c1-support">Fjord Support — no VAT number of its own</option>' in landing
    assert '<option value="c1-bergen">Fjord Bergen AS</option>' in landing

    assert register(client, "c1").status_code == 303
    assert register(client, "c1-bergen", "p2").status_code == 303

    parent, department = connection_row("c1"), connection_row("c1-bergen")
    assert parent.company_uuid != department.company_uuid
    assert parent.api_key_encrypted != department.api_key_encrypted
    assert sandbox.company(department.company_uuid)["bid"] == "987654321"


def test_department_without_vat_number_cannot_be_registered_and_says_why(client, sandbox):
    html = register(client, "c1-support").get_data(as_text=True)
    assert "has no VAT number of its own" in html
    assert connection_row("c1-support") is None
    assert sandbox_users(sandbox) == {}
    page = client.get(f"{PREFIX}/companies/c1-support").get_data(as_text=True)
    assert "no VAT number of its own" in page and 'name="api_key"' not in page


def test_already_connected_company_is_not_registered_twice(client, sandbox):
    assert register(client).status_code == 303
    html = register(client).get_data(as_text=True)
    assert "already connected" in html
    assert len(sandbox.server.sandbox.companies) == 1


@pytest.mark.settings(MAVENTA_SANDBOX_URL="http://127.0.0.1:1")
def test_maventa_down_changes_nothing(client):
    html = register(client).get_data(as_text=True)
    assert "Maventa could not be reached, nothing was changed" in html
    assert connection_row("c1") is None


def test_maventa_answering_500_changes_nothing(client, sandbox):
    sandbox.config(error_rate=1.0, fault_paths=["POST /v1/companies"])
    html = register(client).get_data(as_text=True)
    assert "Maventa answered with an error of its own (HTTP 500), nothing was changed" in html
    assert "could not be reached" not in html  # it answered: a 5xx is Maventa's own error
    assert connection_row("c1") is None


def test_unknown_company_gets_a_message_next_to_the_field(client, sandbox):
    html = register(client, "no-such-company").get_data(as_text=True)
    assert "Choose one of the listed companies." in html
    assert sandbox_users(sandbox) == {}


def test_person_of_another_company_is_refused(adapter, client, sandbox):
    from flask_maventa import Person

    adapter.persons["c1-bergen"] = [Person("p9", "Ola", "Bergen", "ola@bergen.example", "nb")]
    html = register(client, "c1-bergen", "p1").get_data(as_text=True)
    assert "Choose one of the persons of this company." in html
    assert connection_row("c1-bergen") is None


def test_company_of_someone_else_is_forbidden(adapter, client, sandbox):
    adapter.allowed = {"c1"}
    assert register(client, "c1-bergen").status_code == 403
    assert client.get(f"{PREFIX}/companies/c1-bergen").status_code == 403
    assert connection_row("c1-bergen") is None and sandbox_users(sandbox) == {}


def test_register_without_csrf_token_is_refused(client, sandbox):
    response = client.post(f"{PREFIX}/register", data={"company": "c1", "person": "p1"})
    assert response.status_code == 200
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert connection_row("c1") is None and sandbox_users(sandbox) == {}


def test_register_page_lists_the_chosen_companys_persons(client, sandbox):
    html = client.get(f"{PREFIX}/register?company=c1", headers=HTMX).get_data(as_text=True)
    assert html.lstrip().startswith("<form") or 'id="maventa-register"' in html
    assert "Kari Nordmann" in html and 'value="c1" selected' in html.replace('selected value="c1"', 'value="c1" selected')
    assert csrf_token(client, f"{PREFIX}/register")


def test_existing_user_finishes_in_maventa_then_pastes_the_pair(client, sandbox):
    from .helpers import save_credentials

    sandbox.http.post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key, "email": "kari@fjord.example",
                                         "first_name": "Kari"}).raise_for_status()
    register(client)
    # In Maventa the person creates the organisation with their own account and signs it.
    key = sandbox_users(sandbox)["kari@fjord.example"]
    fields = {"vendor_api_key": sandbox.vendor_api_key, "user_api_key": key, "name": "Fjord Consulting AS",
              "bid": "923456789", "no_vat": "true", "address1": "Storgata 1", "post_code": "0155",
              "post_office": "Oslo", "city": "Oslo", "country": "NO", "email": "post@fjord.example"}
    company_uuid = sandbox.http.post("/v1/companies", files=[(k, (None, v)) for k, v in fields.items()]).json()["id"]
    sandbox.sign(company_uuid)

    assert save_credentials(client, company_uuid, key).status_code == 303

    connection = connection_row("c1")
    assert connection.has_credentials and not connection.needs_manual_credentials and connection.verified
    assert connection.registered_via == "register"
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "already has a Maventa user account" not in page and "Signed and verified" in page
