"""The knobs for what Maventa's documentation leaves open, seen from any client (plain httpx): each one
gives each of its plausible answers, and everything it answers stays inside the swagger (the fixture
fails a test whose answer breaks the swagger's response schemas)."""
import base64
import io
import zipfile

import pytest

from flask_maventa.testing.sandbox import wait_for
from tests.fixtures.sandbox import RECEIVER, ubl_invoice

from .test_api import api, assert_error, authed, send

PDF = b"%PDF-1.4 own image\n%%EOF"


@pytest.fixture
def verified(sandbox):
    company, key = sandbox.new_company(verified=True)
    return authed(sandbox, company, key, scope="eui")


@pytest.mark.parametrize("mode, status", [("return", 201), ("conflict", 409), ("unprocessable", 422)])
def test_duplicate_uuid_answers(sandbox, verified, mode, status):
    sandbox.config(duplicate_uuid=mode, delivery_delay=60)
    assert send(verified, uuid="dup").status_code == 201
    again = send(verified, uuid="dup")
    assert again.status_code == status
    if status != 201:
        assert_error(again, status, "invoice_duplicate_uuid")
    assert sandbox.invoices()["received_per_uuid"] == {"dup": 2} and len(sandbox.invoices()["invoices"]) == 1


@pytest.mark.parametrize("answer, status", [("empty", 201), ("error", 400), ("error", 409), ("error", 422)])
def test_existing_user_answers(sandbox, answer, status):
    sandbox.config(existing_user=answer, existing_user_status=status if answer == "error" else 422)
    body = {"vendor_api_key": sandbox.vendor_api_key, "email": "known@example.test"}
    assert api(sandbox).post("/v1/users", json=body).status_code == 201
    again = api(sandbox).post("/v1/users", json=body)
    assert again.status_code == status
    if answer == "empty":
        assert again.json() == {}
    else:
        assert "known@example.test" in assert_error(again, status, "invalid_parameters")["details"][0]


@pytest.mark.parametrize("where", ["code", "message", "details"])
def test_bid_taken_wording_lands_where_the_knob_says(sandbox, where):
    sandbox.config(bid_taken_in=where, bid_taken_status=409)
    sandbox.new_company(bid="FI22223333")
    user = api(sandbox).post("/v1/users", json={"vendor_api_key": sandbox.vendor_api_key, "email": "b@x.test"})
    fields = {"vendor_api_key": sandbox.vendor_api_key, "user_api_key": user.json()["user_api_key"],
              "name": "Again Oy", "bid": "FI22223333", "no_vat": "false", "address1": "K 1", "post_code": "00100",
              "post_office": "Helsinki", "city": "Helsinki", "country": "FI", "email": "b@x.test"}
    answer = api(sandbox).post("/v1/companies", files=[(k, (None, v)) for k, v in fields.items()])
    assert answer.status_code == 409
    body = answer.json()
    found = {"code": body["code"].upper().replace("_", " "), "message": body["message"],
             "details": " ".join(body["details"])}
    assert [k for k, v in found.items() if "BID ALREADY TAKEN" in v] == [where]


def test_signing_shows_interim_states_one_per_read_then_verifies_after_the_delay(sandbox):
    sandbox.config(signing_interim=["PENDING", "UNKNOWN"], verify_delay=0.3)
    company, key = sandbox.new_company()
    client = authed(sandbox, company, key)
    client.post("/v1/company/authorization", json={"auth_email": "s@example.test", "locale": "FI"})
    sandbox.sign(company)
    reads = [client.get("/v1/company/authorization").json() for _ in range(3)]
    assert [(r["auth_state"], r["company_state"]) for r in reads] == [
        ("PENDING", "UNVERIFIED"), ("UNKNOWN", "UNKNOWN"), ("SIGNED", "UNVERIFIED")]
    wait_for(lambda: client.get("/v1/company/authorization").json()["company_state"] == "VERIFIED")


def test_a_validation_failure_after_acceptance(sandbox, verified):
    sandbox.config(invalid_after_accept=1.0)
    sandbox.seed_receivers(RECEIVER)
    assert send(verified, uuid="late").status_code == 201  # accepted first
    invoice = wait_for(lambda: (i := verified.get("/v1/invoices/late").json())["status"] != "PENDING" and i)
    assert invoice["status"] == "FAILED"
    error = verified.get("/v1/invoices/late/actions").json()[-1]
    assert error["type"] == "ERROR" and "[BR-CO-15]" in error["message"]


@pytest.mark.parametrize("retry_after", [None, 4.0])
def test_throttle_answers_429_with_or_without_retry_after(sandbox, verified, retry_after):
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=["GET /v1/lookup/receivers"])
    answer = verified.get("/v1/lookup/receivers", params={"network[]": "PEPPOL"})
    assert_error(answer, 429, "too_many_requests")
    assert answer.headers.get("Retry-After") == (None if retry_after is None else "4")
    assert verified.get("/v1/company/settings").status_code == 200  # only where the faults apply


def _embedded(xml: bytes, pdf: bytes) -> bytes:
    reference = (b'<cac:AdditionalDocumentReference><cbc:ID>INV-1</cbc:ID><cac:Attachment>'
                 b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="INV-1.pdf">'
                 + base64.b64encode(pdf) + b'</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>'
                 b'</cac:AdditionalDocumentReference>')
    return xml.replace(b"<cac:AccountingSupplierParty>", reference + b"<cac:AccountingSupplierParty>")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("upload, source, image_name", [
    (lambda: ("invoice.xml", _embedded(ubl_invoice(), PDF)), "embedded", "INV-1.pdf"),
    (lambda: ("invoice.zip", _zip({"invoice.xml": ubl_invoice(), "invoice.pdf": PDF})), "zip", "invoice.pdf"),
    (lambda: ("invoice.zip", _zip({"invoice.xml": ubl_invoice(), "1_terms.pdf": b"%PDF terms",
                                   "invoice.pdf": PDF})), "zip", "invoice.pdf"),  # the image is named like the XML
    (lambda: ("invoice.xml", ubl_invoice()), None, None),
])
def test_the_image_is_read_from_either_form_and_the_form_is_recorded(sandbox, verified, upload, source, image_name):
    sandbox.config(delivery_delay=60)
    filename, content = upload()
    mimetype = "application/zip" if filename.endswith(".zip") else "application/xml"
    answer = verified.post("/v1/invoices", files=[("file", (filename, content, mimetype)), ("uuid", (None, "img"))])
    assert answer.status_code == 201, answer.text
    (summary,) = sandbox.invoices()["invoices"]
    assert summary["image"] == {"source": source, "filename": image_name}
    if source:
        image = verified.get("/v1/invoices/img", params={"return_format": "ORIGINAL_IMAGE"})
        assert image.content == PDF


@pytest.mark.parametrize("asked, use_own_pdf, printed", [("true", False, "zip"), ("false", True, "generated"),
                                                         (None, True, "zip"), (None, False, "generated")])
def test_print_uses_the_own_image_only_when_asked(sandbox, verified, asked, use_own_pdf, printed):
    verified.patch("/v1/company/settings", json={"details": {}, "address": {}, "invoice_notifications": {},
                                                 "send_invoice_print": {"enabled": True, "use_own_pdf": use_own_pdf}})
    fields = [("file", ("invoice.zip", _zip({"invoice.xml": ubl_invoice(buyer_eia=None), "invoice.pdf": PDF}),
                        "application/zip")), ("uuid", (None, "p"))]
    if asked is not None:
        fields.append(("print_settings[print_own_image]", (None, asked)))
    assert verified.post("/v1/invoices", files=fields).status_code == 201
    route = wait_for(lambda: sandbox.invoices()["invoices"][0]["route"])
    assert route["channel"] == "PRINT" and route["image"] == printed
