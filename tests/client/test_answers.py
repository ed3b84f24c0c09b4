"""How the client folds the answers Maventa's documentation leaves open into one result each (unit tests
with respx; the product under the sandbox's knobs is tested in the onboarding, settings and transfer suites)."""
import io
import json
import zipfile

import httpx
import pytest

from flask_maventa.client import (
    BusinessIdTakenError,
    InDoubtError,
    InvalidCredentialsError,
    InvalidParametersError,
    InvalidScopeError,
    MissingScopeError,
    PermanentError,
    RateLimitedError,
    UnverifiedCompanyError,
)
from flask_maventa.client.actions import failure_of
from flask_maventa.client.http import USER_AGENT
from flask_maventa.client.package import invoice_zip

from .fakes import API_KEY, COMPANY, INVOICE, SETTINGS, client_for, maventa_router, token_body

COMPANY_FIELDS = dict(user_api_key=API_KEY, name="Seller Oy", bid="FI12345678", no_vat=False, address1="Katu 1",
                      post_code="00100", post_office="Helsinki", city="Helsinki", country="FI", email="o@s.test")


def error(status, code, message, details=()):
    return httpx.Response(status, json={"code": code, "message": message, "details": list(details)})


# -- settings PATCH -----------------------------------------------------------------------------------

def test_update_settings_reads_the_required_blocks_and_sends_them_back_without_nulls():
    router = maventa_router()
    client_for(router).for_company(COMPANY, API_KEY).update_settings({"send_invoice_print": {"use_own_pdf": True}})
    read, patch = [c.request for c in router.calls if c.request.url.path == "/v1/company/settings"]
    assert read.method == "GET" and read.url.params.get_list("fields[]") == [
        "details", "address", "invoice_notifications"]
    body = json.loads(patch.content)
    assert body == {
        "details": {"name": "Seller Oy", "email": "info@seller.test", "country": "FI", "bid": "1234567-8"},
        "address": SETTINGS["address"],
        "invoice_notifications": {"on_receiving": {"enabled": False}, "on_send_errors": {"to_user": True,
                                                                                        "to_emails": []}},
        "send_invoice_print": {"use_own_pdf": True},
    }


def test_update_settings_changing_every_required_block_reads_nothing():
    router = maventa_router()
    changes = {"details": {"name": "New Oy"}, "address": {"city": "Espoo"}, "invoice_notifications": {}}
    client_for(router).for_company(COMPANY, API_KEY).update_settings(changes)
    [patch] = [c.request for c in router.calls if c.request.url.path == "/v1/company/settings"]
    assert patch.method == "PATCH" and json.loads(patch.content) == changes


# -- scopes and token errors ----------------------------------------------------------------------------

def test_company_and_partner_tokens_ask_for_their_own_least_scopes():
    router = maventa_router()
    client = client_for(router)
    client.for_company(COMPANY, API_KEY).current()
    client.for_partner(COMPANY, API_KEY).lookup_companies(["1234567-8"], "FI")
    asked = [dict(httpx.QueryParams(c.request.content.decode()))["scope"] for c in router.calls
             if c.request.url.path == "/oauth2/token"]
    assert asked == ["company:read company:write global invoice:send lookup", "partner:lookups"]


@pytest.mark.parametrize("body", [
    {"code": "invalid_scope", "message": "Invalid scope", "details": ["partner:lookups"]},
    {"error": "invalid_scope", "error_description": "The requested scope is invalid, unknown, or malformed."},
])
def test_invalid_scope_is_its_own_error_not_a_credentials_one(body):
    router = maventa_router()
    router.routes["token"].respond(400, json=body)
    with pytest.raises(InvalidScopeError) as caught:
        client_for(router).for_company(COMPANY, API_KEY).current()
    assert not isinstance(caught.value, InvalidCredentialsError)
    assert caught.value.scope == "company:read company:write global invoice:send lookup"
    assert "not of the company" in str(caught.value) and "check the company UUID" not in str(caught.value)


def test_a_fresh_token_granted_without_the_operations_scope_is_a_missing_scope_error():
    router = maventa_router()
    router.routes["token"].respond(200, json=token_body(scope="global company"))
    router.post("/v1/invoices").respond(401, json={"code": "forbidden", "message": "Forbidden", "details": []})
    with pytest.raises(MissingScopeError) as caught:
        client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="u")
    assert caught.value.granted == "global company" and caught.value.required == ("invoice:send",)


def test_with_the_scope_granted_an_unauthorized_send_is_the_unverified_company():
    router = maventa_router()
    router.post("/v1/invoices").respond(401, json={"code": "auth_unauthorized", "message": "Unauthorized",
                                                   "details": []})
    with pytest.raises(UnverifiedCompanyError):
        client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="u")


def test_every_request_carries_our_user_agent():
    router = maventa_router()
    client_for(router).for_company(COMPANY, API_KEY).current()
    assert {c.request.headers["User-Agent"] for c in router.calls} == {USER_AGENT}
    assert USER_AGENT.startswith("flask-maventa/")
    assert "pypi" not in USER_AGENT and "://" not in USER_AGENT  # our name and version, no registry host


# -- registration answers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    httpx.Response(201, json={}),
    error(400, "invalid_parameters", "Invalid parameters", ["email has already been taken"]),
    error(409, "conflict", "User with this email exists", []),
    error(422, "user_exists", "Unprocessable", ["owner@example.test is already registered"]),
])
def test_create_user_for_a_known_email_returns_no_key_whatever_the_answer(answer):
    router = maventa_router()
    router.post("/v1/users").mock(return_value=answer)
    assert client_for(router).create_user("owner@example.test", "Olli") is None


@pytest.mark.parametrize("answer, error_class", [
    (error(400, "invalid_parameters", "Invalid parameters", ["email is invalid"]), InvalidParametersError),
    (error(422, "vendor_disabled", "Vendor API key disabled", []), PermanentError),
])
def test_create_user_other_refusals_stay_errors(answer, error_class):
    router = maventa_router()
    router.post("/v1/users").mock(return_value=answer)
    with pytest.raises(error_class):
        client_for(router).create_user("owner@example.test", "Olli")


@pytest.mark.parametrize("status", [400, 409, 422])
@pytest.mark.parametrize("body", [
    {"code": "bid_already_taken", "message": "Company could not be created", "details": []},
    {"code": "company_create_failed", "message": "BID ALREADY TAKEN", "details": []},
    {"code": "invalid_parameters", "message": "Invalid parameters", "details": ["bid: BID ALREADY TAKEN"]},
])
def test_business_id_taken_is_found_in_code_message_or_details(status, body):
    router = maventa_router()
    router.post("/v1/companies").respond(status, json=body)
    with pytest.raises(BusinessIdTakenError) as caught:
        client_for(router).create_company(**COMPANY_FIELDS)
    assert caught.value.status == status


# -- invoices -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [409, 422])
def test_a_duplicate_uuid_refusal_reads_and_returns_the_existing_invoice(status):
    router = maventa_router()
    router.post("/v1/invoices").respond(status, json={"code": "duplicate", "message": "uuid exists", "details": []})
    answer = client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="inv-1")
    assert answer == INVOICE
    assert router.calls.last.request.url.path == "/v1/invoices/inv-1"


def test_a_422_that_is_not_about_the_uuid_stays_a_refusal():
    router = maventa_router()
    router.post("/v1/invoices").respond(422, json={"code": "invalid_xml", "message": "Broken", "details": []})
    router.get(path__regex=r"^/v1/invoices/[^/]+$").respond(404, json={"code": "not_found", "message": "No",
                                                                      "details": []})
    with pytest.raises(PermanentError) as caught:
        client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="inv-1")
    assert caught.value.status == 422 and caught.value.code == "invalid_xml"


def test_a_duplicate_uuid_that_cannot_be_read_is_in_doubt_with_retry_after():
    router = maventa_router()
    router.post("/v1/invoices").respond(409, json={"code": "duplicate", "message": "uuid exists", "details": []})
    router.get(path__regex=r"^/v1/invoices/[^/]+$").respond(429, headers={"Retry-After": "9"}, json={
        "code": "too_many_requests", "message": "Slow down", "details": []})
    with pytest.raises(InDoubtError) as caught:
        client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="inv-1")
    assert caught.value.retry_after == 9.0


def test_a_429_without_retry_after_says_none():
    router = maventa_router()
    router.post("/v1/invoices").respond(429, json={"code": "too_many_requests", "message": "Slow", "details": []})
    with pytest.raises(RateLimitedError) as caught:
        client_for(router).for_company(COMPANY, API_KEY).send_invoice(b"<Invoice/>", "i.xml", uuid="u")
    assert caught.value.retry_after is None


def test_the_own_pdf_makes_the_upload_a_zip_of_xml_and_image_named_alike():
    router = maventa_router()
    company = client_for(router).for_company(COMPANY, API_KEY)
    company.send_invoice(b"<Invoice/>", "invoice_7_r1.xml", uuid="u", image_pdf=b"%PDF-1.4 x", print_own_image=True)
    request = router.calls.last.request
    part = request.content.split(b'name="file"; filename="')[1]
    assert part.startswith(b'invoice_7_r1.zip"') and b"Content-Type: application/zip" in part[:120]
    archive, name = invoice_zip(b"<Invoice/>", b"%PDF-1.4 x", "invoice_7_r1.xml")
    assert name == "invoice_7_r1.zip" and archive in request.content  # the same bytes every time
    members = zipfile.ZipFile(io.BytesIO(archive))
    assert members.namelist() == ["invoice_7_r1.xml", "invoice_7_r1.pdf"]
    assert members.read("invoice_7_r1.pdf") == b"%PDF-1.4 x"


# -- Maventa's failure actions -------------------------------------------------------------------------

@pytest.mark.parametrize("action, validation, rule", [
    ({"type": "ERROR", "channel": None, "key": "action_error",
      "message": "Invoice validation failed: [BR-CO-15]-Invoice total amount with VAT"}, True, "BR-CO-15"),
    ({"type": "ERROR", "key": "action_error", "message": "PEPPOL-EN16931-R001: Business process MUST be provided"},
     True, "PEPPOL-EN16931-R001"),
    ({"type": "ERROR", "key": "action_validation_failed", "message": "Schematron says no"}, True, None),
    ({"type": "ERROR", "channel": "EINVOICE", "key": "action_route_failed",
      "message": "Receiver 0192:1 was not found at operator PEPPOL"}, False, None),
])
def test_failure_actions_tell_validation_from_delivery(action, validation, rule):
    failure = failure_of([{"type": "CREATED", "message": "Invoice created"}, action])
    assert (failure.validation, failure.rule, failure.message) == (validation, rule, action["message"])


def test_a_cookie_in_an_answer_never_goes_with_a_later_request():
    """One HTTP client serves every company of a process: a cookie set for one must not reach another."""
    router = maventa_router()
    router.get("/oauth2/current").respond(200, json={"user": {"id": "u1"}, "company": {"id": COMPANY}, "scopes": []},
                                          headers={"Set-Cookie": "session=company-one; Path=/"})
    client = client_for(router).for_company(COMPANY, API_KEY)
    client.current()
    client.current()
    assert [c.request.url.path for c in router.calls].count("/oauth2/current") == 2
    assert all("cookie" not in c.request.headers for c in router.calls)


def test_an_answer_that_went_well_is_logged_at_debug_and_a_refusal_at_info(caplog):
    """A worker logs each transfer step itself (with the status and duration); the client's own line for a
    successful request would only repeat it, 50 times a second."""
    router = maventa_router()
    router.get("/v1/company/notifications").respond(404, json={"code": "not_found", "message": "Not found",
                                                                "details": []})
    client = client_for(router).for_company(COMPANY, API_KEY)
    with caplog.at_level("DEBUG", logger="flask_maventa.client"):
        client.current()  # fetches the token first: both lines at INFO
        client.current()
        with pytest.raises(PermanentError):
            client.list_webhooks()
    lines = [(r.levelname, r.getMessage().split(" -> ")[0]) for r in caplog.records if r.name == "flask_maventa.client"]
    assert lines == [("INFO", "POST /oauth2/token"), ("INFO", "GET /oauth2/current"), ("DEBUG", "GET /oauth2/current"),
                     ("INFO", "GET /v1/company/notifications")]
