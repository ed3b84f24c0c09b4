"""The sandbox behaves like Maventa for any client: plain httpx here, nothing of ours but the fixture."""
import threading
import time

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from flask_maventa.testing.sandbox import wait_for
from tests.fixtures.sandbox import RECEIVER, plain_client, ubl_invoice


def api(sandbox) -> httpx.Client:
    return plain_client(sandbox.url)


def token(sandbox, company, key, scope="global company invoice:send lookup partner:lookups") -> dict:
    answer = api(sandbox).post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": company, "client_secret": key,
        "vendor_api_key": sandbox.vendor_api_key, "scope": scope})
    assert answer.status_code == 200, answer.text
    return answer.json()


def authed(sandbox, company, key, **kwargs) -> httpx.Client:
    access = token(sandbox, company, key, **kwargs)["access_token"]
    return plain_client(sandbox.url, headers={"Authorization": f"Bearer {access}"})


def assert_error(response, status, code, detail=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert "Traceback" not in response.text
    if detail:
        assert any(detail in d for d in body["details"]), body["details"]
    return body


def send(client, xml=None, **fields):
    parts = [("file", ("invoice.xml", xml or ubl_invoice(), "application/xml"))]
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append((name, (None, item)))
    return client.post("/v1/invoices", files=parts)



# -- tokens -------------------------------------------------------------------------------------------

def test_token_in_every_encoding_maventa_accepts(sandbox):
    company, key = sandbox.new_company()
    body = token(sandbox, company, key, scope="eui")
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["scope"] == "eui"
    as_json = api(sandbox).post("/oauth2/token", json={"grant_type": "client_credentials", "client_id": company,
                                                       "client_secret": key})
    assert as_json.status_code == 200 and as_json.json()["scope"] == "global company"
    basic = api(sandbox).post("/oauth2/token", auth=(company, key),
                              data={"grant_type": "client_credentials", "vendor_api_key": sandbox.vendor_api_key})
    assert basic.status_code == 200


@pytest.mark.parametrize("change, status, code", [
    ({"client_secret": "wrong"}, 401, "invalid_credentials"),
    ({"client_id": "00000000-0000-0000-0000-000000000000"}, 401, "invalid_credentials"),
    ({"vendor_api_key": "someone-else"}, 401, "invalid_credentials"),
    ({"grant_type": "password"}, 400, "invalid_parameters"),
    ({"scope": "everything"}, 400, "invalid_scope"),
    ({"favourite_colour": "blue"}, 400, "invalid_parameters"),
])
def test_token_refusals(sandbox, change, status, code):
    company, key = sandbox.new_company()
    fields = {"grant_type": "client_credentials", "client_id": company, "client_secret": key,
              "vendor_api_key": sandbox.vendor_api_key, **change}
    assert_error(api(sandbox).post("/oauth2/token", data=fields), status, code)


def test_another_companys_user_key_is_refused(sandbox):
    company, _ = sandbox.new_company()
    _, other_key = sandbox.new_company()
    response = api(sandbox).post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": company,
                                                        "client_secret": other_key})
    assert_error(response, 401, "invalid_credentials")


def test_tokens_expire_and_bad_tokens_are_refused(sandbox):
    sandbox.config(token_lifetime=5)  # long enough to be used once on a loaded machine
    company, key = sandbox.new_company()
    client = authed(sandbox, company, key)
    assert client.get("/oauth2/current").status_code == 200
    deadline = time.monotonic() + 60  # the wait ends when the token expires; the limit only stops a hang
    while (answer := client.get("/oauth2/current")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    body = assert_error(answer, 401, "auth_unauthorized")
    assert body["message"] == "Unauthorized"
    assert_error(api(sandbox).get("/oauth2/current"), 401, "auth_unauthorized")
    assert_error(api(sandbox).get("/oauth2/current", headers={"Authorization": "Bearer nope"}), 401,
                 "auth_unauthorized")


@pytest.mark.parametrize("status", [401, 403])
def test_a_token_without_the_scope_is_refused_401_by_default_or_as_the_knob_says(sandbox, status):
    if status != 401:
        sandbox.config(scope_error_status=status)
    company, key = sandbox.new_company(verified=True)
    client = authed(sandbox, company, key, scope="lookup")
    assert_error(client.get("/v1/company/settings"), status, "forbidden", "company:read")
    assert client.get("/v1/lookup/receivers", params={"network[]": "PEPPOL"}).status_code == 200


@pytest.mark.parametrize("scope, aliases, allowed", [
    ("eui", "expand", True),       # eui holds company:read, document:*, lookup: all of global
    ("eui", "literal", False),     # the old behaviour: global must be asked by name
    ("global", "literal", True),
    ("company:read document:receive document:send lookup", "expand", True),
    ("company:read lookup", "expand", False),
])
def test_scope_aliases_expand_to_their_parts_unless_literal(sandbox, scope, aliases, allowed):
    sandbox.config(scope_aliases=aliases)
    company, key = sandbox.new_company(verified=True)
    answer = authed(sandbox, company, key, scope=scope).get("/oauth2/current")
    assert answer.status_code == (200 if allowed else 401), answer.text


@pytest.mark.parametrize("answer", ["invalid_scope", "narrow"])
def test_a_refused_scope_is_invalid_scope_or_left_out_of_the_grant(sandbox, answer):
    sandbox.config(refused_scopes=["partner:lookups"], refused_scope_answer=answer)
    company, key = sandbox.new_company(verified=True)
    asked = api(sandbox).post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": company, "client_secret": key,
        "vendor_api_key": sandbox.vendor_api_key, "scope": "global partner:lookups"})
    if answer == "invalid_scope":
        assert_error(asked, 400, "invalid_scope", "partner:lookups")
    else:
        assert asked.status_code == 200 and asked.json()["scope"] == "global"
    assert token(sandbox, company, key, scope="global company")["scope"] == "global company"


# -- onboarding -----------------------------------------------------------------------------------------

def test_user_and_company_registration_rules(sandbox):
    http = api(sandbox)
    first = http.post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key, "email": "a@example.test"})
    assert first.status_code == 201 and first.json()["user_api_key"]
    again = http.post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key, "email": "A@example.test"})
    assert again.status_code == 201 and "user_api_key" not in again.json()
    assert_error(http.post("/v1/users", json={"vendor_api_key": "wrong", "email": "b@example.test"}), 401,
                 "invalid_credentials")
    assert_error(http.post("/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}),
                 400, "invalid_parameters", "not valid JSON")
    assert_error(http.post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key}), 400,
                 "invalid_parameters", "'email' is a required property")

    sandbox.new_company(bid="FI12345678")
    with pytest.raises(httpx.HTTPStatusError) as taken:
        sandbox.new_company(bid="FI 1234 5678")
    body = assert_error(taken.value.response, 422, "company_create_failed")
    assert body["message"] == "BID ALREADY TAKEN"
    as_form = http.post("/v1/companies", data={"vendor_api_key": sandbox.vendor_api_key})
    assert_error(as_form, 400, "invalid_parameters", "multipart/form-data")


def test_partner_lookup_reports_free_and_reserved(sandbox):
    company, key = sandbox.new_company(bid="FI11112222")
    client = authed(sandbox, company, key)
    answer = client.get("/v1/partner/lookups/companies",
                        params=[("bids[]", "FI11112222"), ("bids[]", "FI99998888"), ("country", "FI")])
    assert answer.json() == [{"company_bid": "FI11112222", "company_status": "RESERVED"},
                             {"company_bid": "FI99998888", "company_status": "FREE"}]
    too_many = [("bids[]", str(n)) for n in range(11)] + [("country", "FI")]
    assert_error(client.get("/v1/partner/lookups/companies", params=too_many), 400, "invalid_parameters")


def test_company_users_new_email_gets_a_key_existing_does_not(sandbox):
    company, key = sandbox.new_company()
    sandbox.new_company(email="known@example.test")
    client = authed(sandbox, company, key)
    new = client.post("/v1/company/users", json={"email": "new@example.test", "first_name": "New"})
    assert new.status_code == 201 and new.json()["api_key"]
    known = client.post("/v1/company/users", json={"email": "known@example.test", "first_name": "Known"})
    assert known.status_code == 200 and "api_key" not in known.json()
    emails = {u["email"] for u in client.get("/v1/company/users").json()}
    assert {"new@example.test", "known@example.test"} <= emails
    # the person added by email can now fetch tokens for this company with their own key
    token(sandbox, company, new.json()["api_key"])


def test_signing_state_machine_and_unverified_sending(sandbox):
    company, key = sandbox.new_company()
    client = authed(sandbox, company, key)
    assert client.get("/v1/company/authorization").json() == {
        "auth_state": "NONE", "auth_email": "", "company_state": "UNVERIFIED"}
    assert_error(send(client, uuid="u-1"), 401, "auth_unauthorized")
    assert_error(client.post("/v1/company/authorization", json={"auth_email": "s@example.test", "locale": "XX"}),
                 400, "invalid_parameters", "locale")
    sent = client.post("/v1/company/authorization", json={"auth_email": "s@example.test", "locale": "FI"})
    assert sent.status_code == 200 and sent.json()["count"] == 1
    assert client.get("/v1/company/authorization").json() == {
        "auth_state": "SENT", "auth_email": "s@example.test", "company_state": "UNVERIFIED"}
    sandbox.cancel(company)
    assert client.get("/v1/company/authorization").json()["auth_state"] == "CANCELED"
    client.post("/v1/company/authorization", json={"auth_email": "s2@example.test", "locale": "FI"})
    sandbox.sign(company)
    assert client.get("/v1/company/authorization").json() == {
        "auth_state": "SIGNED", "auth_email": "s2@example.test", "company_state": "VERIFIED"}
    assert send(client, uuid="u-1").status_code == 201
    assert sandbox.invoices()["receipts"] == 1  # the refused attempt never counted as received


def test_automatic_signing_after_a_delay_and_configurable_unverified_status(sandbox):
    sandbox.config(sign_delay=0, unverified_status=403)
    company, key = sandbox.new_company()
    client = authed(sandbox, company, key)
    assert_error(send(client), 403, "auth_unauthorized")
    client.post("/v1/company/authorization", json={"auth_email": "s@example.test", "locale": "EN"})
    assert client.get("/v1/company/authorization").json()["auth_state"] == "SIGNED"


# -- invoices -------------------------------------------------------------------------------------------

@pytest.fixture
def verified(sandbox):
    company, key = sandbox.new_company(verified=True)
    return authed(sandbox, company, key)


@pytest.mark.parametrize("fields, detail", [
    ({"invented": "1"}, "invented does not exist"),
    ({"format": "PDF"}, "format does not have a valid value"),
    ({"lang": "DE"}, "lang does not have a valid value"),
    ({"disabled_routes[]": "fax"}, "disabled_routes[] does not have a valid value"),
    ({"print_settings[print_own_image]": "maybe"}, "not true or false"),
    ({"uuid": "x" * 37}, "uuid is longer than 36"),
])
def test_invoice_parameters_are_checked_against_the_swagger(sandbox, verified, fields, detail):
    assert_error(send(verified, **fields), 400, "invalid_parameters", detail)
    assert sandbox.invoices()["receipts"] == 0


@pytest.mark.parametrize("xml, detail", [
    (b"<Invoice><unclosed></Invoice>", "not well-formed XML"),
    (b"not xml at all", "not well-formed XML"),
    (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "not a UBL Invoice"),
])
def test_invoice_file_must_be_a_well_formed_invoice(verified, xml, detail):
    assert_error(send(verified, xml=xml, format="PEPPOLBIS30"), 400, "invalid_parameters", detail)


def test_invoice_without_file_or_as_json_is_refused(verified):
    assert_error(verified.post("/v1/invoices", files=[("uuid", (None, "u"))]), 400, "invalid_parameters",
                 "file is missing")
    assert_error(verified.post("/v1/invoices", json={"file": "PD94"}), 400, "invalid_parameters",
                 "multipart/form-data")


def test_new_invoice_is_pending_with_a_created_action_and_our_uuid(sandbox, verified):
    sandbox.config(delivery_delay=60)
    answer = send(verified, uuid="our-uuid-1", recipient_eia="0192:987654321", recipient_operator="PEPPOL")
    assert answer.status_code == 201
    invoice = answer.json()
    assert invoice["id"] == "our-uuid-1" and invoice["status"] == "PENDING"
    assert (invoice["number"], invoice["sum"], invoice["sum_tax"], invoice["currency"]) == ("INV-1", 100.0, 125.5, "EUR")
    assert [a["type"] for a in invoice["actions"]] == ["CREATED"]
    assert verified.get("/v1/invoices/our-uuid-1").json()["status"] == "PENDING"
    xml = verified.get("/v1/invoices/our-uuid-1", params={"return_format": "PEPPOLBIS30"})
    assert xml.headers["content-type"].startswith("application/xml") and b"INV-1" in xml.content
    file_href = invoice["files"][0]["href"]
    assert verified.get(file_href).content == ubl_invoice()


@pytest.mark.parametrize("mode, status", [("return", 201), ("conflict", 409)])
def test_the_same_uuid_never_creates_a_second_invoice(sandbox, verified, mode, status):
    sandbox.config(duplicate_uuid=mode)
    first = send(verified, uuid="same-uuid")
    again = send(verified, uuid="same-uuid")
    assert (first.status_code, again.status_code) == (201, status)
    if mode == "return":
        assert again.json()["id"] == "same-uuid"
    else:
        assert_error(again, 409, "invoice_duplicate_uuid")
    received = sandbox.invoices()
    assert len(received["invoices"]) == 1
    assert received["received_per_uuid"] == {"same-uuid": 2}
    assert received["invoices_per_number"] == {"INV-1": 1}


def test_other_companies_cannot_read_an_invoice(sandbox, verified):
    send(verified, uuid="mine")
    company, key = sandbox.new_company(verified=True)
    assert_error(authed(sandbox, company, key).get("/v1/invoices/mine"), 404, "not_found")




@pytest.mark.parametrize("seed, xml_kwargs, fields, status, channel", [
    # EIA + operator pins the route: delivered as e-invoice when the receiver exists...
    (True, {}, {"recipient_eia": "0192:987654321", "recipient_operator": "PEPPOL"}, "DELIVERED", "EINVOICE"),
    # ...and no fallback to email when it does not
    (False, {"buyer_email": "ap@buyer.test"}, {"recipient_eia": "0192:987654321", "recipient_operator": "PEPPOL"},
     "FAILED", "EINVOICE"),
    # EIA alone falls back to email
    (False, {}, {"recipient_email": "ap@buyer.test"}, "DELIVERED", "EMAIL"),
    (False, {"buyer_email": "ap@buyer.test"}, {}, "DELIVERED", "EMAIL"),
    # print needs the print service: off by default
    (False, {}, {}, "FAILED", "PRINT"),
    (True, {"buyer_email": "ap@buyer.test"}, {"disabled_routes[]": ["einvoice", "email", "print"]}, "FAILED", None),
    (True, {"buyer_email": "ap@buyer.test"}, {"disabled_routes[]": ["einvoice"]}, "DELIVERED", "EMAIL"),
    (True, {}, {"email_settings[xml_format]": "PEPPOLBIS30"}, "FAILED", "EMAIL"),
])
def test_routing_follows_maventas_rules(sandbox, verified, seed, xml_kwargs, fields, status, channel):
    if seed:
        sandbox.seed_receivers(RECEIVER)
    invoice = send(verified, xml=ubl_invoice(**xml_kwargs), uuid="routed", **fields).json()
    final = wait_for(lambda: (i := verified.get(f"/v1/invoices/{invoice['id']}").json())["status"] != "PENDING" and i)
    assert final["status"] == status
    actions = verified.get(f"/v1/invoices/{invoice['id']}/actions").json()
    types = [a["type"] for a in actions]
    assert types == (["CREATED", "SENT", "DELIVERED"] if status == "DELIVERED" else ["CREATED", "ERROR"])
    assert actions[-1]["channel"] == channel
    assert sandbox.invoices()["invoices"][0]["route"]["delivered"] == (status == "DELIVERED")


REQUIRED_BLOCKS = {"details": {"name": "Company Oy"}, "address": {"country": "FI"}, "invoice_notifications": {}}


def test_print_route_needs_the_print_service_and_an_address(sandbox, verified):
    patched = verified.patch("/v1/company/settings", json={**REQUIRED_BLOCKS, "send_invoice_print": {"enabled": True}})
    assert patched.status_code == 204, patched.text
    ok = send(verified, xml=ubl_invoice(buyer_eia=None), uuid="p1").json()
    no_address = send(verified, xml=ubl_invoice("INV-2", buyer_eia=None, buyer_address=False), uuid="p2").json()
    statuses = wait_for(lambda: [verified.get(f"/v1/invoices/{i['id']}").json()["status"] for i in (ok, no_address)]
                        if "PENDING" not in [verified.get(f"/v1/invoices/{i['id']}").json()["status"]
                                             for i in (ok, no_address)] else None)
    assert statuses == ["DELIVERED", "FAILED"]


def test_delivery_waits_for_the_configured_delay_and_can_be_forced(sandbox, verified):
    sandbox.config(delivery_delay=30)
    sandbox.seed_receivers(RECEIVER)
    send(verified, uuid="slow")
    send(verified, xml=ubl_invoice("INV-2"), uuid="forced-fail")
    time.sleep(0.1)
    assert verified.get("/v1/invoices/slow").json()["status"] == "PENDING"
    sandbox.deliver("slow")
    sandbox.fail("forced-fail", "Receiver rejected the invoice")
    assert verified.get("/v1/invoices/slow").json()["status"] == "DELIVERED"
    failed = verified.get("/v1/invoices/forced-fail").json()
    assert failed["status"] == "FAILED" and failed["actions"][-1]["message"] == "Receiver rejected the invoice"


def test_list_sent_invoices_with_filters_and_pagination_headers(sandbox, verified):
    sandbox.config(delivery_delay=60)
    for n in range(3):
        send(verified, xml=ubl_invoice(f"INV-{n}"), uuid=f"list-{n}")
    page = verified.get("/v1/invoices", params={"direction": "SENT", "per_page": 2, "page": 1})
    assert [i["id"] for i in page.json()] == ["list-0", "list-1"]
    assert (page.headers["X-Total"], page.headers["X-Total-Pages"], page.headers["X-Next-Page"]) == ("3", "2", "2")
    by_number = verified.get("/v1/invoices", params={"direction": "SENT", "number": "INV-2"}).json()
    assert [i["id"] for i in by_number] == ["list-2"]
    by_ids = verified.get("/v1/invoices", params=[("direction", "SENT"), ("ids[]", "list-0"), ("ids[]", "list-2"),
                                                  ("status[]", "PENDING")]).json()
    assert [i["id"] for i in by_ids] == ["list-0", "list-2"]
    assert verified.get("/v1/invoices").json() == []  # Maventa's default direction is RECEIVED
    assert_error(verified.get("/v1/invoices", params={"direction": "SENT", "per_page": 500}), 400,
                 "invalid_parameters")


# -- settings, lookups, webhooks ------------------------------------------------------------------------

def test_settings_patch_deep_merges_and_get_filters(verified):
    before = verified.get("/v1/company/settings").json()
    patched = verified.patch("/v1/company/settings", json={
        "details": {"name": before["details"]["name"]}, "address": {},
        "send_invoice_print": {"use_own_pdf": True},
        "invoice_notifications": {"on_send_errors": {"to_emails": ["err@example.test"]}}})
    assert patched.status_code == 204 and patched.content == b""
    after = verified.get("/v1/company/settings", params=[("fields[]", "send_invoice_print"),
                                                         ("fields[]", "invoice_notifications")]).json()
    assert set(after) == {"send_invoice_print", "invoice_notifications"}
    assert after["send_invoice_print"] == {**before["send_invoice_print"], "use_own_pdf": True}
    assert after["invoice_notifications"]["on_send_errors"] == {"to_user": True, "to_emails": ["err@example.test"]}
    assert after["invoice_notifications"]["on_receiving"] == before["invoice_notifications"]["on_receiving"]
    assert_error(verified.patch("/v1/company/settings", json={**REQUIRED_BLOCKS, "send_invoice_print": {"own_pdf": True}}),
                 400, "invalid_parameters", "own_pdf")
    # the swagger's required blocks are required: a PATCH of only the changed block is refused
    only_changed = assert_error(verified.patch("/v1/company/settings", json={"send_invoice_print": {"enabled": True}}),
                                400, "invalid_parameters")
    assert {"'details' is a required property", "'address' is a required property",
            "'invoice_notifications' is a required property"} <= set(only_changed["details"])
    assert_error(verified.get("/v1/company/settings", params={"fields[]": "colours"}), 400, "invalid_parameters")


def test_receiver_lookup_uses_the_seeded_registry(sandbox, verified):
    sandbox.seed_receivers(RECEIVER, {"eia": "0007:5567321707", "name": "Köpare AB", "country": "SE"})
    hits = verified.get("/v1/lookup/receivers", params={"network[]": "PEPPOL", "eia": "0192:987654321"}).json()
    assert [h["participant"]["name"] for h in hits] == ["Buyer AS"]
    assert len(verified.get("/v1/lookup/receivers", params={"network[]": "PEPPOL"}).json()) == 2
    assert verified.get("/v1/lookup/receivers", params=[("network[]", "PEPPOL"), ("country[]", "SE")]).json()[0][
        "eia"] == "0007:5567321707"
    assert_error(verified.get("/v1/lookup/receivers", params={"eia": "0192:987654321"}), 400, "invalid_parameters",
                 "network is missing")


@pytest.fixture
def hook_receiver():
    """A local HTTP endpoint that fails the first delivery and accepts the rest."""
    received = []

    @Request.application
    def app(request):
        received.append(request.get_json())
        return Response("no", status=500) if len(received) == 1 else Response("ok")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_webhooks_are_delivered_on_status_change_and_retried(sandbox, verified, hook_receiver):
    url, received = hook_receiver
    created = verified.post("/v1/company/notifications", json={
        "destination_type": "WEBHOOK", "destination": url, "events": ["DOCUMENTS.INVOICE.DELIVERED"]})
    assert created.status_code == 201 and created.json()["destination"] == url
    assert [n["id"] for n in verified.get("/v1/company/notifications").json()] == [created.json()["id"]]
    sandbox.seed_receivers(RECEIVER)
    send(verified, uuid="hooked")
    log = wait_for(lambda: [d for d in sandbox.webhooks() if d["acknowledged"]])
    assert log[0]["status_codes"] == [500, 200] and log[0]["event"] == "DOCUMENTS.INVOICE.DELIVERED"
    assert received[-1]["id"] == "hooked" and received[-1]["event"] == "DOCUMENTS.INVOICE.DELIVERED"
    assert verified.delete(f"/v1/company/notifications/{created.json()['id']}").status_code == 204
    assert_error(verified.get(f"/v1/company/notifications/{created.json()['id']}"), 404, "not_found")


# -- knobs and bad requests -------------------------------------------------------------------------------

def test_rate_limit_answers_429_with_retry_after(sandbox):
    sandbox.config(rate_limit=1)
    http = api(sandbox)
    answers = [http.get("/oauth2/current") for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert_error(limited[0], 429, "too_many_requests")


def test_injected_server_errors_are_reproducible_and_shaped_like_maventas(sandbox):
    def pattern():
        sandbox.config(error_rate=0.5, seed=42)
        http = api(sandbox)
        return [http.get("/oauth2/current").status_code for _ in range(12)]
    first, second = pattern(), pattern()
    assert first == second and 500 in first and 401 in first
    sandbox.config(error_rate=1)
    assert_error(api(sandbox).get("/oauth2/current"), 500, "internal_server_error")


def test_config_rejects_unknown_or_bad_knobs(sandbox):
    http = sandbox.http
    assert_error(http.post("/_sandbox/config", json={"latency": 5}), 400, "invalid_parameters", "unknown knob")
    assert_error(http.post("/_sandbox/config", json={"error_rate": 2}), 400, "invalid_parameters", "between 0 and 1")
    assert_error(http.post("/_sandbox/config", json={"duplicate_uuid": "ignore"}), 400, "invalid_parameters")
    assert sandbox.config(latency_ms=0)["duplicate_uuid"] == "return"


def test_unknown_paths_and_methods_get_maventa_shaped_errors(sandbox):
    http = api(sandbox)
    assert_error(http.get("/v1/nothing-here"), 404, "not_found")
    assert_error(http.delete("/oauth2/token"), 405, "method_not_allowed")
