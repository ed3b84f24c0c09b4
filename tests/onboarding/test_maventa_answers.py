"""Onboarding under every plausible answer Maventa's documentation leaves open (issue 13 §2-§4): each
sandbox knob is set to each of its values, and the product must lead the user the same way."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from flask_maventa.infra.models import utcnow
from flask_maventa.services import onboarding as registration

from .conftest import HTMX, PREFIX, connection_row, events
from .helpers import register, registered, sandbox_users, save_credentials, send_signing

TOO_BUSY = "Maventa is receiving too many requests right now, nothing was changed."


@pytest.mark.parametrize("where", ["code", "message", "details"])
@pytest.mark.parametrize("status", [400, 409, 422])
def test_business_id_taken_is_recognised_wherever_and_however_maventa_says_it(client, sandbox, status, where):
    sandbox.config(bid_taken_status=status, bid_taken_in=where)
    sandbox.new_company(bid="923456789", country="NO")

    html = register(client).get_data(as_text=True)

    assert "already registered in Maventa" in html and "connect it instead" in html
    assert connection_row("c1") is None
    [event] = events("registration.")
    assert event.kind == "registration.refused" and event.data["code"] == "bid_taken"


@pytest.mark.parametrize("answer, status", [("empty", 201), ("error", 400), ("error", 409), ("error", 422)])
def test_an_existing_maventa_user_leads_to_the_manual_steps_whatever_post_users_answers(client, sandbox, answer,
                                                                                       status):
    sandbox.new_company(email="kari@fjord.example", bid="FI55556666")  # Kari already has a Maventa account
    sandbox.config(existing_user=answer, **({"existing_user_status": status} if answer == "error" else {}))

    response = register(client)

    assert response.headers["Location"].endswith("notice=existing_user"), response.get_data(as_text=True)
    connection = connection_row("c1")
    assert connection.needs_manual_credentials and not connection.has_credentials
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "kari@fjord.example already has a Maventa user account" in page
    assert [e.kind for e in events("registration.")] == ["registration.existing_user"]


@pytest.mark.parametrize("verify_delay", [0.0, 0.3])
@pytest.mark.parametrize("interim", [[], ["PENDING"], ["UNKNOWN"], ["PENDING", "UNKNOWN"]])
def test_signing_is_followed_through_interim_states_until_verified(client, sandbox, interim, verify_delay):
    sandbox.config(signing_interim=interim, verify_delay=verify_delay)
    registered(client)
    send_signing(client)
    connection = connection_row("c1")
    sandbox.sign(connection.company_uuid)

    seen = []
    for _attempt in range(40):
        registration.poll_pending_signings(now=utcnow() + timedelta(days=1))  # every check is due
        connection = connection_row("c1")
        seen.append((connection.auth_state, connection.company_state))
        if connection.verified:
            break
        # the poll never gives up on a request under way, whatever Maventa calls its state
        assert connection.auth_next_check_at is not None, seen
        page = client.get(f"{PREFIX}/companies/c1/signing", headers=HTMX).get_data(as_text=True)
        assert 'hx-trigger="every 3s"' in page, seen
        time.sleep(0.05)
    else:
        raise AssertionError(f"never verified: {seen}")
    assert [state for state, _ in seen[:len(interim)]] == interim
    assert seen[-1] == ("SIGNED", "VERIFIED")
    assert connection.auth_next_check_at is None
    assert "Signed and verified" in client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)


@pytest.mark.parametrize("answer", ["invalid_scope", "narrow"])
def test_company_tokens_never_ask_for_the_partner_scope_so_refusing_it_breaks_nothing(app, client, sandbox, answer):
    sandbox.config(refused_scopes=["partner:lookups"], refused_scope_answer=answer)
    partner_uuid, partner_key = sandbox.new_company(verified=True, email="partner@erp.example")
    app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)

    # the optional partner look-up cannot run; registration goes on and Maventa's own answer decides
    assert register(client).status_code == 303
    connection = connection_row("c1")
    assert connection.has_credentials
    assert send_signing(client).status_code in (200, 303)
    assert connection_row("c1").auth_state == "SENT"


def test_a_refused_company_scope_is_said_as_such_not_as_a_wrong_key(client, sandbox):
    company_uuid, api_key = sandbox.new_company(bid="923456789", country="NO")
    sandbox.config(refused_scopes=["company:write"])

    html = save_credentials(client, company_uuid, api_key).get_data(as_text=True)

    assert "refused the access rights this integration asks for" in html
    assert "Copy both again from Maventa" not in html
    assert connection_row("c1") is None


@pytest.mark.parametrize("retry_after", [None, 7.0])
@pytest.mark.parametrize("operation", ["POST /oauth2/token", "POST /v1/users", "POST /v1/companies",
                                       "GET /v1/partner/lookups/companies"])
def test_429_during_registration_changes_nothing_and_says_when_to_try_again(app, client, sandbox, operation,
                                                                             retry_after):
    partner_uuid, partner_key = sandbox.new_company(verified=True, email="partner@erp.example")
    app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=[operation])

    html = register(client).get_data(as_text=True)

    assert TOO_BUSY in html
    assert ("Try again in 7 seconds." if retry_after else "Try again in a minute.") in html
    assert connection_row("c1") is None
    sandbox.config(throttle_rate=0.0)
    if operation == "POST /v1/companies":  # the user was created: the next attempt is the "existing user" path
        assert "kari@fjord.example" in sandbox_users(sandbox)
    else:
        assert register(client).status_code == 303


@pytest.mark.parametrize("retry_after", [None, 7.0])
@pytest.mark.parametrize("operation", ["POST /oauth2/token", "GET /oauth2/current", "GET /v1/company/authorization",
                                       "POST /v1/company/authorization"])
def test_429_while_connecting_or_signing_changes_nothing(client, sandbox, operation, retry_after):
    company_uuid, api_key = sandbox.new_company(bid="923456789", country="NO")
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=[operation])
    if operation == "POST /v1/company/authorization":
        sandbox.config(throttle_rate=0.0)
        assert save_credentials(client, company_uuid, api_key).status_code == 303
        sandbox.config(throttle_rate=1.0)
        html = send_signing(client).get_data(as_text=True)
        assert connection_row("c1").auth_state == "NONE"
    else:
        html = save_credentials(client, company_uuid, api_key).get_data(as_text=True)
        assert connection_row("c1") is None
    assert TOO_BUSY in html
    assert sandbox.company(company_uuid)["auth_state"] == "NONE"


@pytest.mark.parametrize("retry_after", [None, 600.0])
def test_429_on_the_signing_poll_backs_off_at_least_as_long_as_maventa_asks(client, sandbox, retry_after):
    registered(client)
    send_signing(client)
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=["GET /v1/company/authorization"])
    summary = registration.poll_pending_signings(now=utcnow() + timedelta(seconds=20))  # the first check is due

    assert summary["unreachable"] == 1
    connection = connection_row("c1")
    assert connection.auth_state == "SENT"
    wait = (connection.auth_next_check_at - utcnow()).total_seconds()
    assert (590 < wait <= 601) if retry_after else 0 < wait <= 30  # else the schedule's second step (30 s)
