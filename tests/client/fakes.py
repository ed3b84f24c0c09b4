"""A respx stand-in for Maventa that answers every endpoint the client uses with swagger-shaped bodies."""
from __future__ import annotations

import httpx
import respx

BASE = "https://ax-stage.maventa.com"
VENDOR_KEY = "vendor-key-0123456789"
API_KEY = "user-api-key-abcdef123456"
COMPANY = "2f6d3a52-9a1e-4c4e-a1d1-1d2b8c7e9f00"
TOKEN = "token-value-0f1e2d3c4b5a69788796a5b4"

INVOICE = {"id": "inv-1", "status": "PENDING", "reference": "1232", "number": "INV-1",
           "sender": {"eia": None, "bid": "1234567-8", "name": "Seller Oy", "country": "FI"},
           "recipient": {"eia": "0192:987654321", "bid": None, "name": None, "country": "NO", "operator": "PEPPOL"},
           "created_at": "2026-11-01T08:00:00Z", "date": "2026-11-01", "date_due": "2026-11-15",
           "source_format": "PEPPOLBIS30", "sum": 100.0, "sum_tax": 125.5, "currency": "EUR",
           "destination": None, "comment": None, "files": [], "actions": [
               {"type": "CREATED", "channel": None, "message": "Invoice created", "key": "action_created",
                "happened_at": "2026-11-01T08:00:00Z"}]}


# What GET /v1/company/settings answers: unset fields come back as null.
SETTINGS = {
    "details": {"name": "Seller Oy", "email": "info@seller.test", "website": None, "country": "FI",
                "bid": "1234567-8", "vat_number": None},
    "address": {"street_address": "Katu 1", "post_code": "00100", "post_office": "Helsinki", "city": "Helsinki",
                "country": "FI"},
    "invoice_notifications": {"on_receiving": {"enabled": False, "how_to_send": None, "other_email": None},
                              "on_send_errors": {"to_user": True, "to_emails": []}},
    "send_invoice_print": {"enabled": False, "use_own_pdf": False},
}


def token_body(token: str = TOKEN, expires_in: int = 3600, scope: str | None = None) -> dict:
    from flask_maventa.client import COMPANY_SCOPE
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in, "scope": scope or COMPANY_SCOPE}


def maventa_router() -> respx.Router:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.post("/oauth2/token", name="token").respond(200, json=token_body())
    router.post("/v1/users").respond(201, json={"user_api_key": API_KEY})
    router.post("/v1/companies").respond(201, json={"id": COMPANY})
    router.get("/oauth2/current").respond(200, json={"user": {"id": "u1"}, "company": {"id": COMPANY}, "scopes": []})
    router.get("/v1/partner/lookups/companies").respond(
        200, json=[{"company_bid": "1234567-8", "company_status": "FREE"}])
    router.post("/v1/company/users").respond(201, json={"id": "u2", "email": "a@b.test", "api_key": "new-key"})
    router.post("/v1/company/authorization").respond(200, json={"status": "OK", "count": 1})
    router.get("/v1/company/authorization").respond(
        200, json={"auth_state": "SENT", "auth_email": "a@b.test", "company_state": "UNVERIFIED"})
    router.get("/v1/company/settings").respond(200, json=SETTINGS)
    router.patch("/v1/company/settings").respond(204)
    router.post("/v1/invoices").respond(201, json=INVOICE)
    router.get("/v1/invoices").respond(200, json=[INVOICE])
    router.get(path__regex=r"^/v1/invoices/[^/]+/actions$").respond(200, json=INVOICE["actions"])
    router.get(path__regex=r"^/v1/invoices/[^/]+$").respond(200, json=INVOICE)
    router.get("/v1/lookup/receivers").respond(200, json=[{"eia": "0192:987654321", "network": "PEPPOL"}])
    router.post("/v1/company/notifications").respond(
        201, json={"id": "n1", "destination_type": "WEBHOOK", "destination": "https://erp.test/hook", "events": []})
    router.get("/v1/company/notifications").respond(200, json=[])
    router.delete(path__regex=r"^/v1/company/notifications/[^/]+$").respond(204)
    return router


def client_for(router: respx.Router, **kwargs):
    from flask_maventa.client import MaventaClient, MemoryTokenStore
    kwargs.setdefault("token_store", MemoryTokenStore())
    return MaventaClient(BASE, VENDOR_KEY, transport=httpx.MockTransport(router.handler), **kwargs)


def calls_to(router: respx.Router, path: str) -> int:
    return sum(1 for call in router.calls if call.request.url.path == path)
