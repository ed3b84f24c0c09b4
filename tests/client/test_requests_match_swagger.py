"""Every request the client can send is checked against Maventa's own swagger (names, locations, types,
enums, required fields); an invented field fails."""
import httpx
import pytest

from flask_maventa.sandbox.spec import load_spec, problems_for, request_from_httpx

from .fakes import API_KEY, COMPANY, client_for, maventa_router


def send_everything(client):
    client.create_user("owner@example.test", "Olli", "Omistaja")
    client.create_company(user_api_key=API_KEY, name="Seller Oy", bid="FI12345678", no_vat=False,
                          address1="Katu 1", address2="B 2", post_code="00100", post_office="Helsinki",
                          city="Helsinki", country="FI", email="owner@example.test")
    company = client.for_company(COMPANY, API_KEY)
    company.check_credentials()
    client.for_partner(COMPANY, API_KEY).lookup_companies(["1234567-8", "7654321-0"], "FI")
    company.add_company_user("ap@example.test", "Anna", "Approver")
    company.add_company_user("ap2@example.test", "Anna")
    company.send_authorization("signer@example.test", "EN")
    company.authorization()
    company.get_settings()
    company.get_settings(["send_invoice_print", "invoice_notifications"])
    company.update_settings({"send_invoice_print": {"use_own_pdf": True}})
    company.update_settings({"send_invoice_print": {"use_own_pdf": True},
                             "invoice_notifications": {"on_send_errors": {"to_user": False,
                                                                          "to_emails": ["err@example.test"]}}})
    company.send_invoice(b"<Invoice/>", "invoice.xml", uuid="7d0d5d4e-31a4-4d63-9a4b-0c8d8a6d2c11")
    company.send_invoice(b"PK\x03\x04zip", "invoice.zip", uuid="u-2", format="PEPPOLBIS30",
                         recipient_eia="0192:987654321", recipient_operator="PEPPOL",
                         recipient_email="buyer@example.test", disabled_routes=["print", "email"],
                         print_own_image=True, lang="NO", sender_comment="Thanks")
    company.send_invoice(b"<Invoice/>", "invoice.xml", uuid="u-3", format=None, print_own_image=False)
    company.send_invoice(b"<Invoice/>", "invoice_7.xml", uuid="u-4", image_pdf=b"%PDF-1.4", print_own_image=True)
    company.get_invoice("7d0d5d4e-31a4-4d63-9a4b-0c8d8a6d2c11")
    company.invoice_actions("u-2")
    company.list_invoices()
    company.list_invoices(direction="RECEIVED", status=["PENDING", "FAILED"], ids=["a", "b"], number="INV-1",
                          page=2, per_page=50)
    company.lookup_receivers(eia="0192:987654321")
    company.lookup_receivers(network=["PEPPOL", "INTERNAL"], bid="987654321", name="Buyer", country="NO")
    company.register_webhook("https://erp.example.test/maventa/hook/abc")
    company.list_webhooks()
    company.delete_webhook("n1")


def test_every_request_the_client_sends_matches_the_swagger():
    router = maventa_router()
    send_everything(client_for(router))
    requests = [call.request for call in router.calls]
    assert problems_for(requests) == {}
    spec = load_spec()
    sent = {(op.method, op.template) for op, _ in (spec.find(r.method, r.url.path) for r in requests)}
    assert sent == {
        ("POST", "/oauth2/token"), ("POST", "/v1/users"), ("POST", "/v1/companies"), ("GET", "/oauth2/current"),
        ("GET", "/v1/partner/lookups/companies"), ("POST", "/v1/company/users"),
        ("POST", "/v1/company/authorization"), ("GET", "/v1/company/authorization"),
        ("GET", "/v1/company/settings"), ("PATCH", "/v1/company/settings"), ("POST", "/v1/invoices"),
        ("GET", "/v1/invoices/{id}"), ("GET", "/v1/invoices/{id}/actions"), ("GET", "/v1/invoices"),
        ("GET", "/v1/lookup/receivers"), ("POST", "/v1/company/notifications"),
        ("GET", "/v1/company/notifications"), ("DELETE", "/v1/company/notifications/{id}"),
    }


def test_send_invoice_is_multipart_with_our_uuid_and_array_fields():
    router = maventa_router()
    company = client_for(router).for_company(COMPANY, API_KEY)
    company.send_invoice(b"<Invoice/>", "invoice.xml", uuid="our-uuid", disabled_routes=["print", "email"],
                         print_own_image=True, lang="FI", recipient_email="b@example.test")
    with request_from_httpx(router.calls.last.request) as request:
        assert request.mimetype == "multipart/form-data"
        assert request.files["file"].filename == "invoice.xml"
        assert request.files["file"].mimetype == "application/xml"
        assert request.form["uuid"] == "our-uuid"
        assert request.form.getlist("disabled_routes[]") == ["print", "email"]
        assert request.form["print_settings[print_own_image]"] == "true"
        assert request.form["format"] == "PEPPOLBIS30"
    assert router.calls.last.request.headers["Authorization"].startswith("Bearer ")


def test_token_request_is_form_encoded_client_credentials():
    router = maventa_router()
    client_for(router, scope="eui").for_company(COMPANY, API_KEY).current()
    token_request = request_from_httpx(router.calls[0].request)
    assert token_request.path == "/oauth2/token"
    assert token_request.mimetype == "application/x-www-form-urlencoded"
    assert token_request.form.to_dict() == {"grant_type": "client_credentials", "client_id": COMPANY,
                                            "client_secret": API_KEY, "vendor_api_key": "vendor-key-0123456789",
                                            "scope": "eui"}


@pytest.mark.parametrize("request_, problem", [
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")), ("invented", (None, "1"))]),
     "invented does not exist"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")), ("lang", (None, "XX"))]),
     "lang does not have a valid value"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("uuid", (None, "u"))]), "file is missing"),
    (httpx.Request("POST", "https://x/v1/invoices", data={"uuid": "u"}), "content type must be multipart/form-data"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")),
                                                           ("disabled_routes[]", (None, "fax"))]),
     "disabled_routes[] does not have a valid value"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")),
                                                           ("print_settings[print_own_image]", (None, "yes"))]),
     "is not true or false"),
    (httpx.Request("POST", "https://x/v1/invoices", files=[("file", ("a.xml", b"<a/>")), ("uuid", (None, "u" * 37))]),
     "uuid is longer than 36"),
    (httpx.Request("GET", "https://x/v1/invoices", params={"direction": "OUT"}), "direction does not have a valid"),
    (httpx.Request("GET", "https://x/v1/invoices", params={"page": "two"}), "not an integer"),
    (httpx.Request("GET", "https://x/v1/invoices", params={"direction[]": "SENT"}), "direction[] does not exist"),
    (httpx.Request("GET", "https://x/v1/lookup/receivers", params={"eia": "0192:1"}), "network is missing"),
    (httpx.Request("POST", "https://x/v1/users", json={"vendor_api_key": "k", "email": "e", "phone": "1"}),
     "'phone' was unexpected"),
    (httpx.Request("POST", "https://x/v1/users", json={"email": "e"}), "'vendor_api_key' is a required property"),
    (httpx.Request("POST", "https://x/v1/company/authorization", json={"auth_email": "e", "locale": "DE"}),
     "'DE' is not one of"),
    (httpx.Request("PATCH", "https://x/v1/company/settings", json={"send_invoice_print": {"own_pdf": True}}),
     "'own_pdf' was unexpected"),
    (httpx.Request("POST", "https://x/oauth2/token", data={"grant_type": "password"}),
     "grant_type does not have a valid value"),
])
def test_the_validator_catches_what_the_swagger_forbids(request_, problem):
    with request_from_httpx(request_) as parsed:
        problems = load_spec().validate_request(parsed)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("call, message", [
    (lambda c: c.send_invoice(b"<a/>", "a.xml", uuid="u", lang="SV"), "lang must be one of"),
    (lambda c: c.send_invoice(b"<a/>", "a.xml", uuid="u", disabled_routes=["fax"]), "disabled route must be one of"),
    (lambda c: c.send_invoice(b"<a/>", "a.xml", uuid="u" * 37), "uuid must be at most 36"),
    (lambda c: c.send_invoice(b"", "a.xml", uuid="u"), "file is empty"),
    (lambda c: c.client.for_partner(COMPANY, API_KEY).lookup_companies([str(n) for n in range(11)], "FI"),
     "1 to 10 business ids"),
    (lambda c: c.patch_settings({"send_invoice_print": {"use_own_pdf": True}}), "use update_settings"),
    (lambda c: c.send_authorization("a@b.test", "DE"), "locale must be one of"),
    (lambda c: c.list_invoices(per_page=500), "per_page must be between 1 and 100"),
    (lambda c: c.register_webhook("erp.test/hook"), "absolute http(s) URL"),
])
def test_bad_input_fails_before_the_network_with_the_fix_named(call, message):
    router = maventa_router()
    company = client_for(router).for_company(COMPANY, API_KEY)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(company)
    assert not router.calls


def test_client_refuses_a_missing_vendor_key_or_bad_base_url():
    from flask_maventa.client import MaventaClient
    with pytest.raises(ValueError, match="vendor_api_key"):
        MaventaClient("test", "")
    with pytest.raises(ValueError, match="production, test"):
        MaventaClient("staging", "key")
    assert MaventaClient("production", "key").base_url == "https://ax.maventa.com"
