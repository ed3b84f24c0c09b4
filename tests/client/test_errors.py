"""Maventa's answers and network trouble become typed errors carrying code, message, details and status."""
import httpx
import pytest

from flask_maventa.client import (
    ConflictError,
    ConnectError,
    InDoubtError,
    InvalidCredentialsError,
    InvalidParametersError,
    InvalidResponseError,
    MaventaError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServerError,
    TransientError,
    UnauthorizedError,
    UnverifiedCompanyError,
)

from .fakes import API_KEY, COMPANY, TOKEN, VENDOR_KEY, client_for, maventa_router


def company_with(route_setup):
    router = maventa_router()
    route_setup(router)
    return router, client_for(router).for_company(COMPANY, API_KEY)


@pytest.mark.parametrize("status, body, error_class", [
    (400, {"code": "invalid_parameters", "message": "Invalid parameters", "details": ["lang is invalid"]},
     InvalidParametersError),
    (404, {"code": "not_found", "message": "Not found", "details": []}, NotFoundError),
    (409, {"code": "document_in_invalid_state", "message": "Wrong state", "details": []}, ConflictError),
    (422, {"code": "profile_name_conflict", "message": "Conflict", "details": ["x"]}, PermanentError),
    (403, {"code": "forbidden", "message": "Forbidden", "details": []}, UnauthorizedError),
    (500, {"code": "internal_error", "message": "Boom", "details": []}, ServerError),
    (503, {"code": "unavailable", "message": "Down", "details": ["lookup"]}, ServerError),
])
def test_error_bodies_map_to_typed_errors(status, body, error_class):
    _, company = company_with(lambda r: r.get(path__regex=r"^/v1/invoices/[^/]+$").respond(status, json=body))
    with pytest.raises(error_class) as caught:
        company.get_invoice("inv-1")
    error = caught.value
    assert (error.status, error.code, error.details) == (status, body["code"], body["details"])
    assert body["message"] in error.message
    assert isinstance(error, TransientError if status >= 500 else PermanentError)
    assert error.response is not None and error.response.status_code == status


def test_429_is_rate_limited_with_retry_after():
    _, company = company_with(lambda r: r.get("/v1/invoices").respond(
        429, headers={"Retry-After": "7"}, json={"code": "too_many_requests", "message": "Slow down", "details": []}))
    with pytest.raises(RateLimitedError) as caught:
        company.list_invoices()
    assert caught.value.retry_after == 7.0
    assert isinstance(caught.value, TransientError)


def test_non_json_error_body_still_gives_a_typed_error():
    _, company = company_with(lambda r: r.get("/v1/invoices").respond(
        502, text="<html><body>Bad Gateway</body></html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(ServerError) as caught:
        company.list_invoices()
    assert caught.value.code is None and caught.value.status == 502
    assert "Bad Gateway" in caught.value.message


def test_non_json_success_body_is_in_doubt():
    _, company = company_with(lambda r: r.post("/v1/invoices").respond(201, text="created"))
    with pytest.raises(InvalidResponseError) as caught:
        company.send_invoice(b"<Invoice/>", "i.xml", uuid="u1")
    assert isinstance(caught.value, InDoubtError)


@pytest.mark.parametrize("exception, error_class", [
    (httpx.ConnectError, ConnectError),
    (httpx.ConnectTimeout, ConnectError),
    (httpx.PoolTimeout, ConnectError),
    (httpx.ReadTimeout, InDoubtError),
    (httpx.WriteTimeout, InDoubtError),
    (httpx.RemoteProtocolError, InDoubtError),
    (httpx.ReadError, InDoubtError),
])
def test_network_errors_say_whether_the_request_may_have_arrived(exception, error_class):
    _, company = company_with(lambda r: r.post("/v1/invoices").mock(side_effect=exception))
    with pytest.raises(error_class) as caught:
        company.send_invoice(b"<Invoice/>", "i.xml", uuid="u1")
    assert caught.value.status is None
    assert "/v1/invoices" in str(caught.value)


def test_a_timeout_on_the_token_request_means_the_real_request_never_left():
    _, company = company_with(lambda r: r.post("/oauth2/token").mock(side_effect=httpx.ReadTimeout))
    with pytest.raises(ConnectError):
        company.send_invoice(b"<Invoice/>", "i.xml", uuid="u1")


@pytest.mark.parametrize("status", [400, 401])
def test_refused_credentials_raise_invalid_credentials(status):
    router, company = company_with(lambda r: r.post("/oauth2/token").respond(
        status, json={"code": "invalid_credentials", "message": "Invalid client", "details": []}))
    with pytest.raises(InvalidCredentialsError) as caught:
        company.check_credentials()
    assert caught.value.code == "invalid_credentials"
    assert "check the company UUID" in str(caught.value)
    assert [c.request.url.path for c in router.calls] == ["/oauth2/token"]


def test_token_endpoint_answering_garbage_is_a_server_problem():
    _, company = company_with(lambda r: r.post("/oauth2/token").respond(200, json={"token": "x"}))
    with pytest.raises(ServerError):
        company.current()


def test_unverified_company_is_its_own_error_on_send():
    router, company = company_with(lambda r: r.post("/v1/invoices").respond(
        401, json={"code": "auth_unauthorized", "message": "Unauthorized", "details": []}))
    with pytest.raises(UnverifiedCompanyError) as caught:
        company.send_invoice(b"<Invoice/>", "i.xml", uuid="u1")
    assert "signing request" in str(caught.value)
    # the token was fetched for this very request, so the client did not fetch another one
    assert [c.request.url.path for c in router.calls] == ["/oauth2/token", "/v1/invoices"]


def test_missing_scope_on_send_is_not_mistaken_for_unverified():
    _, company = company_with(lambda r: r.post("/v1/invoices").respond(
        403, json={"code": "forbidden", "message": "Forbidden", "details": []}))
    with pytest.raises(UnauthorizedError) as caught:
        company.send_invoice(b"<Invoice/>", "i.xml", uuid="u1")
    assert not isinstance(caught.value, UnverifiedCompanyError)


def test_error_text_never_contains_secrets_even_when_the_server_echoes_them():
    echo = f"bad key {API_KEY} for vendor {VENDOR_KEY} with token {TOKEN}"
    _, company = company_with(lambda r: r.get("/v1/invoices").respond(
        400, json={"code": "invalid_parameters", "message": echo, "details": [echo]}))
    with pytest.raises(MaventaError) as caught:
        company.list_invoices()
    text = str(caught.value) + repr(caught.value) + caught.value.message + " ".join(caught.value.details)
    for secret in (API_KEY, VENDOR_KEY, TOKEN):
        assert secret not in text
    assert "***" in text
