"""Every request our client sent during this run (client, onboarding, settings and transfer suites) is valid
by Maventa's swagger, judged by bravado-core (tests/fixtures/contract.py records them; this test runs last).

Run alone it still judges a representative run of every client call, so it can never pass on nothing.
"""
from __future__ import annotations

import httpx
import pytest

from tests.client.fakes import client_for, maventa_router
from tests.client.test_requests_match_swagger import send_everything
from tests.fixtures.contract import RECORDER, Sent, check_all, validate

pytest.importorskip("bravado_core", reason="bravado-core is in the test extra: pip install -e '.[test]'")


def _representative() -> list[Sent]:
    router = maventa_router()
    send_everything(client_for(router))
    return [Sent(c.request.method, str(c.request.url), tuple(c.request.headers.multi_items()), c.request.read(),
                 "representative run") for c in router.calls]


def test_every_request_the_client_sent_matches_the_swagger():
    report = check_all(_representative())
    recorded = {sent.test.split("::")[0].rsplit("/", 1)[0] for sent in RECORDER.sent}
    print(f"{report.requests} requests ({len(RECORDER.sent)} recorded in {sorted(recorded) or 'no suite'}), "
          f"{len(report.operations)} operations")
    assert report.operations["POST /v1/invoices"] and report.operations["PATCH /v1/company/settings"]
    assert not report.violations, "\n".join(report.violations)


# One worker for them all: each process parses and checks the swagger once (~2.3 s of CPU), not each worker.
@pytest.mark.xdist_group("swagger-spec")
@pytest.mark.parametrize("request_, violation", [
    (httpx.Request("PATCH", "https://x/v1/company/settings", json={"send_invoice_print": {"use_own_pdf": True}}),
     "'details' is a required property"),
    (httpx.Request("GET", "https://x/v1/lookup/receivers", params={"eia": "0192:1"}), "network"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")), ("lang", (None, "XX"))]),
     "'XX' is not one of"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("uuid", (None, "u"))]), "file"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")), ("invented", (None, "1"))]),
     "'invented' is not declared"),
    (httpx.Request("POST", "https://x/v1/company/authorization", json={"auth_email": "e", "locale": "DE"}),
     "'DE' is not one of"),
    (httpx.Request("GET", "https://x/v1/invoices", params={"page": "two"}), "page"),
    (httpx.Request("POST", "https://x/v1/users", data={"email": "e"}), "content type"),
])
def test_the_contract_check_catches_what_the_swagger_forbids(request_, violation):
    sent = Sent(request_.method, str(request_.url), tuple(request_.headers.multi_items()), request_.read(), "unit")
    _, problems = validate(sent)
    assert any(violation in p for p in problems), problems
