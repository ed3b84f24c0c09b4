"""The signing request (Visma Sign through Maventa): send it, Refresh, the page that keeps itself
up to date, and the background poll (directly and through an RQ worker)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import utcnow
from flask_maventa.services import onboarding as registration

from .conftest import HTMX, PREFIX, connection_row, events
from .helpers import refresh, registered, send_signing


def poll(client, company_id: str = "c1"):
    """What the open page's polling element does: POST with the token its hx-vals carry."""
    page = client.get(f"{PREFIX}/companies/{company_id}").get_data(as_text=True)
    vals = re.search(r"id=\"maventa-signing-state\"[^>]*hx-vals='([^']+)'", page)
    assert vals, "the pending signing state polls with its token"
    import json

    return client.post(f"{PREFIX}/companies/{company_id}/signing", data=json.loads(vals.group(1)), headers=HTMX)


def test_choosing_the_approver_fills_in_email_and_language(client, sandbox):
    registered(client)
    html = client.get(f"{PREFIX}/companies/c1/signing/approver?approver=p2", headers=HTMX).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="maventa-signing-fields">')
    assert 'value="aino@fjord.example"' in html
    assert '<option selected value="FI">' in html
    assert '<option selected value="p2">' in html
    kari = client.get(f"{PREFIX}/companies/c1/signing/approver?approver=p1", headers=HTMX).get_data(as_text=True)
    assert 'value="kari@fjord.example"' in kari and '<option selected value="NO">' in kari


@pytest.mark.parametrize("language,locale", [("nb", "NO"), ("fi", "FI"), ("sv", "SE"), ("en", "EN"), ("nl", "NL"),
                                             ("de", "EN"), ("nb-NO", "NO")])
def test_language_defaults_from_the_approver(language, locale):
    from flask_maventa import Person

    assert registration.locale_for(Person("x", "A", "B", "a@b.example", language)) == locale


def test_send_email_asks_maventa_and_shows_to_whom_and_when(client, sandbox):
    connection = registered(client)

    response = send_signing(client, "p1", "signer@fjord.example", "SE", **HTMX)

    assert response.status_code == 200 and "maventa:signing-sent" in response.headers["HX-Trigger"]
    in_maventa = sandbox.company(connection.company_uuid)
    assert (in_maventa["auth_state"], in_maventa["auth_email"], in_maventa["locale"]) == ("SENT", "signer@fjord.example", "SE")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="maventa-signing"')
    sent_at = connection_row("c1").auth_sent_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"Sent to signer@fjord.example on {sent_at}" in html
    assert "Approver: Kari Nordmann" in html
    assert 'hx-trigger="every 3s"' in html  # the pending state polls itself
    connection = connection_row("c1")
    assert (connection.approver_person_id, connection.auth_locale, connection.auth_state) == ("p1", "SE", "SENT")
    [event] = events("signing.sent")
    assert event.data == {"approver_person_id": "p1", "email": "signer@fjord.example", "locale": "SE",
                          "automatic": False, "version": connection.version}


def test_send_without_javascript_redirects_to_the_page(client, sandbox):
    registered(client)
    response = send_signing(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("#maventa-signing")


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@x.example, three@x.example", " @ "])
def test_an_email_that_is_not_one_is_refused_next_to_the_field(client, sandbox, email):
    connection = registered(client)
    html = send_signing(client, email=email, **HTMX).get_data(as_text=True)
    field = re.search(r'<div class="maventa-field has-error" id="field-email">.*?</div>', html, re.S)
    assert field and "Enter a valid email address" in field.group(0)
    assert sandbox.company(connection.company_uuid)["auth_state"] == "NONE"
    assert connection_row("c1").auth_state == "NONE"


def test_an_empty_email_goes_to_the_approver_own_address(client, sandbox):
    """What htmx fills in on choosing the approver, and all a page without JavaScript can send."""
    connection = registered(client)
    response = send_signing(client, approver="p2", email="  ")
    assert response.status_code == 303
    assert sandbox.company(connection.company_uuid)["auth_state"] != "NONE"
    assert connection_row("c1").auth_email == "aino@fjord.example"


def test_a_language_maventa_does_not_send_in_is_refused(client, sandbox):
    connection = registered(client)
    html = send_signing(client, locale="DE", **HTMX).get_data(as_text=True)
    assert "Choose one of the languages Maventa sends this email in." in html
    assert sandbox.company(connection.company_uuid)["auth_state"] == "NONE"


def test_an_approver_who_is_not_a_person_of_the_company_is_refused(client, sandbox):
    registered(client)
    html = send_signing(client, approver="p999", **HTMX).get_data(as_text=True)
    assert "Choose one of the persons of this company." in html


def test_signing_before_credentials_is_locked(client, sandbox):
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "Available once the User API key and Company UUID are saved." in page
    html = send_signing(client, **HTMX).get_data(as_text=True)
    assert "Enter the User API key and Company UUID first." in html


def test_signing_without_csrf_is_refused(client, sandbox):
    connection = registered(client)
    response = client.post(f"{PREFIX}/companies/c1/signing/send",
                           data={"approver": "p1", "email": "kari@fjord.example", "locale": "NO"}, headers=HTMX)
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert sandbox.company(connection.company_uuid)["auth_state"] == "NONE"
    refreshed = client.post(f"{PREFIX}/companies/c1/signing/refresh", headers=HTMX)
    assert "The CSRF token is missing." in refreshed.get_data(as_text=True)


def test_signing_of_a_company_that_is_not_yours_is_forbidden(adapter, client, sandbox):
    registered(client)
    adapter.allowed = {"c1-bergen"}
    assert send_signing(client, company_id="c1-bergen").status_code == 200  # its own page works
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(f"{PREFIX}/companies/c1-bergen").get_data(as_text=True)).group(1)
    for path in ("signing/send", "signing/refresh"):
        assert client.post(f"{PREFIX}/companies/c1/{path}", data={"csrf_token": token}).status_code == 403
    assert client.get(f"{PREFIX}/companies/c1/signing", headers=HTMX).status_code == 403
    assert client.get(f"{PREFIX}/companies/c1/signing/approver?approver=p1").status_code == 403


def test_refresh_shows_waiting_then_verified_after_the_sandbox_signs(client, sandbox):
    connection = registered(client)
    send_signing(client)

    waiting = refresh(client, **HTMX)
    assert "waiting for the signature" in waiting.get_data(as_text=True)
    assert "maventa:signing-refreshed" in waiting.headers["HX-Trigger"]

    sandbox.sign(connection.company_uuid)
    response = refresh(client, **HTMX)

    assert response.headers["HX-Retarget"] == "#maventa-company"
    assert "maventa:verified" in response.headers["HX-Trigger"]
    html = response.get_data(as_text=True)
    assert "Signed and verified" in html
    assert "/signing\" hx-trigger=\"every" not in html  # the signing state stops polling (counters still may)
    connection = connection_row("c1")
    assert connection.verified and connection.auth_state == "SIGNED" and connection.auth_next_check_at is None
    kinds = [e.kind for e in events("signing.")]
    assert kinds == ["signing.sent", "signing.checked", "signing.checked", "signing.verified"]


def test_settings_are_locked_until_verified(client, sandbox):
    connection = registered(client)
    before = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert re.search(r'id="maventa-settings" class="[^"]*is-locked', before)
    send_signing(client)
    sandbox.sign(connection.company_uuid)
    refresh(client)
    after = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert not re.search(r'id="maventa-settings" class="[^"]*is-locked', after)


@pytest.mark.settings(MAVENTA_SIGNING_POLL_SCHEDULE=(0, 0, 0))
def test_the_open_page_moves_to_verified_by_itself(client, sandbox):
    connection = registered(client)
    send_signing(client)
    still = poll(client)
    assert 'hx-trigger="every 3s"' in still.get_data(as_text=True)

    sandbox.sign(connection.company_uuid)
    assert "Signed and verified" not in client.get(f"{PREFIX}/companies/c1/signing", headers=HTMX).get_data(
        as_text=True), "a GET only shows the stored state"
    response = poll(client)

    assert response.headers["HX-Retarget"] == "#maventa-company"
    assert "Signed and verified" in response.get_data(as_text=True)
    assert connection_row("c1").verified


def test_the_open_page_does_not_ask_maventa_before_the_check_is_due(client, sandbox):
    connection = registered(client)
    send_signing(client)  # default schedule: the first check is 15 s away
    sandbox.sign(connection.company_uuid)
    requests_before = sandbox.stats()["requests"].get("GET /v1/company/authorization", 0)
    html = poll(client).get_data(as_text=True)
    assert "waiting for the signature" in html
    assert sandbox.stats()["requests"].get("GET /v1/company/authorization", 0) == requests_before
    assert client.get(f"{PREFIX}/companies/c1/signing").status_code == 303  # no JS: the page itself


# -- the background poll -------------------------------------------------------------------------


def _pending(client, company_id="c1", person="p1"):
    registered(client, company_id, person)
    send_signing(client, approver=person, company_id=company_id)
    return connection_row(company_id)


def test_poll_flips_a_signed_company_and_backs_off_for_the_others(client, sandbox):
    signed, waiting = _pending(client, "c1"), _pending(client, "c1-bergen", "p2")
    sandbox.sign(signed.company_uuid)
    later = utcnow() + timedelta(seconds=20)  # both first checks (15 s) are due
    received = []
    from flask_maventa.infra.signals import connection_verified

    with connection_verified.connected_to(lambda sender: received.append(sender.company_id)):
        summary = registration.poll_pending_signings(now=later)

    assert summary == {"checked": 2, "verified": 1, "unreachable": 0, "failed": 0}
    assert received == ["c1"]
    signed, waiting = connection_row("c1"), connection_row("c1-bergen")
    assert signed.verified and signed.auth_next_check_at is None
    assert not waiting.verified and waiting.auth_check_count == 1
    schedule = current_maventa().config["MAVENTA_SIGNING_POLL_SCHEDULE"]
    assert waiting.auth_next_check_at - waiting.auth_checked_at >= timedelta(seconds=schedule[1] - 1)
    assert [e.actor for e in events("signing.verified")] == ["maventa-poller"]

    # nothing is due now: a second run checks nobody
    assert registration.poll_pending_signings(now=later)["checked"] == 0


def test_poll_skips_connections_that_are_not_due(client, sandbox):
    _pending(client)
    assert registration.poll_pending_signings()["checked"] == 0  # the first check is 15 s away


def test_poll_when_maventa_is_down_backs_off_and_changes_nothing_else(client, sandbox):
    first_check = _pending(client).auth_next_check_at
    sandbox.config(error_rate=1.0, fault_paths=["GET /v1/company/authorization"])
    summary = registration.poll_pending_signings(now=utcnow() + timedelta(seconds=20))
    assert summary["unreachable"] == 1
    after = connection_row("c1")
    assert after.auth_state == "SENT" and after.auth_check_count == 1
    assert after.auth_next_check_at > first_check


def test_poll_runs_as_an_rq_job(app, client, sandbox, redis_url):
    from rq import SimpleWorker

    connection = _pending(client)
    sandbox.sign(connection.company_uuid)
    ext = current_maventa()
    queue = ext.queue()
    job = queue.enqueue(registration.poll_pending_signings, utcnow() + timedelta(seconds=20))

    SimpleWorker([queue], connection=ext.redis()).work(burst=True)

    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert job.return_value() == {"checked": 1, "verified": 1, "unreachable": 0, "failed": 0}
    assert connection_row("c1").verified


def test_a_declined_request_stops_the_polling_and_offers_the_form_again(client, sandbox):
    connection = _pending(client)
    sandbox.cancel(connection.company_uuid)

    summary = registration.poll_pending_signings(now=utcnow() + timedelta(seconds=20))

    assert summary["checked"] == 1 and summary["verified"] == 0
    after = connection_row("c1")
    assert after.auth_state == "CANCELED" and after.auth_next_check_at is None
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "The last request was cancelled." in page and 'id="maventa-signing-form"' in page
    assert '/signing" hx-trigger="every' not in page  # the signing state stops polling


@pytest.mark.settings(MAVENTA_SIGNING_POLL_SCHEDULE=(0, 0, 0))
def test_the_open_page_says_when_maventa_cannot_be_asked_and_keeps_polling(client, sandbox):
    _pending(client)
    sandbox.config(error_rate=1.0, fault_paths=["GET /v1/company/authorization"])
    html = poll(client).get_data(as_text=True)
    assert "Maventa answered with an error of its own (HTTP 500)" in html
    assert 'hx-trigger="every 3s"' in html
    assert connection_row("c1").auth_state == "SENT" and connection_row("c1").auth_check_count == 1
