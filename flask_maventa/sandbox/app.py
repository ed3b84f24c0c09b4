"""The sandbox as a Flask app: Maventa's endpoints (API-NOTES §12) and the ``/_sandbox`` test hooks.

Every API request goes through the same gate, in Maventa's order: fault injection (WSGI middleware),
route lookup in the swagger, bearer token and scope, parameter validation against the swagger, then
the view. Every JSON answer is checked against the swagger's response schema when ``check_responses``
is on; problems are counted in ``/_sandbox/stats`` (the test fixture fails a test that caused one).
Errors always have Maventa's shape ``{"code", "message", "details"}``; never a traceback.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import socket
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .documents import DocumentError, Route, read_invoice_file
from .knobs import KnobError, Knobs
from .spec import load_spec
from .state import ApiError, Company, Invoice, Sandbox, Subscription, deep_merge, expand_scopes, now_iso
from .webhooks import Ticker

__all__ = ["create_app", "sandbox_of"]

log = logging.getLogger("flask_maventa.sandbox")
ACTION_TYPES_BY_DEFAULT = {"CREATED", "SENT", "DELIVERED", "ERROR", "RECEIVED"}


def create_app(vendor_api_key: str = "sandbox-vendor-key", **knobs: Any) -> Flask:
    app = Flask("flask_maventa.sandbox")
    settings = Knobs()
    settings.update(knobs)
    sandbox = Sandbox(vendor_api_key, settings)
    app.extensions["maventa_sandbox"] = sandbox
    app.extensions["maventa_sandbox_ticker"] = Ticker(sandbox)
    app.json.sort_keys = False
    app.before_request(_gate)
    app.after_request(_check_response)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    app.wsgi_app = FaultInjector(app.wsgi_app, sandbox)
    app.extensions["maventa_sandbox_ticker"].start()
    return app


def sandbox_of(app: Flask | None = None) -> Sandbox:
    return (app or current_app).extensions["maventa_sandbox"]


# -- the gate: faults, auth, validation ------------------------------------------------------------

class FaultInjector:
    """Latency, rate limiting and failure injection for API requests (never for /_sandbox)."""

    def __init__(self, app, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_sandbox"):
            return self.app(environ, start_response)
        knobs = self.sandbox.knobs
        if knobs.latency_ms:
            time.sleep(knobs.latency_ms / 1000)
        client = environ.get("HTTP_AUTHORIZATION") or environ.get("REMOTE_ADDR", "")
        wait = self.sandbox.take_rate_token(client)
        if wait:
            self.sandbox.count("faults", "rate_limited")
            return _raw_error(start_response, 429, "too_many_requests", "Rate limit exceeded",
                              [f"retry after {math.ceil(wait)} s"], {"Retry-After": str(math.ceil(wait))})
        if not self._applies(method, path, knobs.fault_paths):
            return self.app(environ, start_response)
        if self.sandbox.roll(knobs.reset_rate):
            self.sandbox.count("faults", "reset")
            self._hang_up(environ)
        if self.sandbox.roll(knobs.error_rate):
            self.sandbox.count("faults", "error")
            return _raw_error(start_response, 500, "internal_server_error", "Internal server error (injected)")
        if self.sandbox.roll(knobs.drop_rate):
            self.sandbox.count("faults", "drop")
            body = self.app(environ, lambda *args, **kwargs: None)
            for _ in body:  # run the view to the end: the request is processed and stored
                pass
            getattr(body, "close", lambda: None)()
            self._hang_up(environ)
        return self.app(environ, start_response)

    @staticmethod
    def _applies(method: str, path: str, fault_paths: list[str]) -> bool:
        if not fault_paths:
            return True
        for entry in fault_paths:
            want_method, _, prefix = entry.rpartition(" ")
            if path.startswith(prefix) and (not want_method or want_method.upper() == method):
                return True
        return False

    @staticmethod
    def _hang_up(environ) -> None:
        """Close the connection without an answer; werkzeug treats ConnectionError as a dropped client."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("sandbox hung up on purpose")


def _raw_error(start_response, status: int, code: str, message: str, details=(), headers=None):
    body = json.dumps({"code": code, "message": message, "details": list(details)}).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body))), *(headers or {}).items()])
    return [body]


def _gate():
    g.op = None
    if request.path.startswith("/_sandbox"):
        return None
    sandbox = sandbox_of()
    sandbox.advance()
    spec = load_spec()
    found = spec.find(request.method, request.path)
    if found is None:
        if spec.path_exists(request.path):
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
        raise ApiError(404, "not_found", "Not found", [f"{request.path} is not an endpoint of the API"])
    g.op, g.path_params = found
    sandbox.count("requests", f"{g.op.method} {g.op.template}")
    if g.op.template == "/oauth2/token":
        return None  # accepts several encodings; checked in the view
    if g.op.authenticated:
        _authenticate(sandbox, g.op.scopes)
    problems = spec.validate_request(request)
    if problems:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", problems)
    return None


def _authenticate(sandbox: Sandbox, required: list[str]) -> None:
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
    grant = sandbox.grant_for(token)
    if grant is None:
        raise ApiError(401, "auth_unauthorized", "Unauthorized")
    if not any(expand_scopes([scope]) <= grant.scopes for scope in required):
        raise ApiError(sandbox.knobs.scope_error_status, "forbidden", "Forbidden",
                       [f"the token lacks one of the scopes {', '.join(required)}"])
    g.grant = grant
    g.company = sandbox.companies[grant.company_id]
    g.user = sandbox.users[grant.user_id]


def _require_verified(sandbox: Sandbox, company: Company) -> None:
    if company.company_state != "VERIFIED":
        raise ApiError(sandbox.knobs.unverified_status, "auth_unauthorized", "Unauthorized")


def _check_response(response: Response) -> Response:
    op = g.get("op")
    sandbox = sandbox_of()
    if op is None or not sandbox.knobs.check_responses:
        return response
    if response.mimetype == "application/json":
        body = response.get_json(silent=True)
    elif not response.get_data():
        body = None
    else:
        return response  # raw XML/PDF downloads are not described by a schema
    problems = load_spec().validate_response(op.method, request.path, response.status_code, body)
    if problems:
        with sandbox.lock:
            sandbox.stats["response_problems"].append(
                {"operation": f"{op.method} {op.template}", "status": response.status_code, "problems": problems})
        log.error("sandbox answer breaks the swagger: %s %s %s", op.method, op.template, problems)
    return response


def _api_error(error: ApiError):
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException):
    if error.code == 404 and g.get("op") is not None:
        return _api_error(ApiError(501, "not_implemented", "Not implemented by the sandbox",
                                   [f"{g.op.method} {g.op.template} is in Maventa's API but not in the sandbox"]))
    code = {400: "invalid_parameters", 404: "not_found", 405: "method_not_allowed",
            413: "request_too_large"}.get(error.code or 500, "error")
    return _api_error(ApiError(error.code or 500, code, error.name, [error.description] if error.description else []))


def _unexpected_error(error: Exception):
    log.exception("sandbox failed on %s %s", request.method, request.path)
    return _api_error(ApiError(500, "internal_server_error", "Internal server error"))


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _array_arg(name: str) -> list[str]:
    return request.args.getlist(name + "[]") + request.args.getlist(name)


def _form_values() -> dict:
    """formData as Maventa's Rack would see it: ``name[]`` collected into lists."""
    values: dict[str, Any] = {}
    for key in request.form:
        items = request.form.getlist(key)
        if key.endswith("[]"):
            values.setdefault(key[:-2], []).extend(items)
        else:
            values[key] = items[-1]
    return values


# -- OAuth -----------------------------------------------------------------------------------------

TOKEN_FIELDS = {"grant_type", "client_id", "client_secret", "scope", "vendor_api_key", "license_data"}


def token():
    sandbox = sandbox_of()
    with sandbox.lock:
        sandbox.stats["token_requests"] += 1
    if request.mimetype == "application/json":
        fields = _body()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = request.form.to_dict()
    else:
        raise ApiError(400, "invalid_parameters", "Invalid parameters",
                       ["content type must be application/x-www-form-urlencoded"])
    unknown = sorted(set(fields) - TOKEN_FIELDS)
    if unknown:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", [f"{u} does not exist" for u in unknown])
    if request.authorization and request.authorization.type == "basic":  # the Ruby gem's variant
        fields.setdefault("client_id", request.authorization.username)
        fields.setdefault("client_secret", request.authorization.password)
    if fields.get("grant_type") != "client_credentials":
        raise ApiError(400, "invalid_parameters", "Invalid parameters",
                       ["grant_type is missing" if not fields.get("grant_type")
                        else "grant_type does not have a valid value"])
    if "vendor_api_key" in fields:
        sandbox.check_vendor(fields["vendor_api_key"])
    access_token, grant = sandbox.issue_token(fields.get("client_id"), fields.get("client_secret"), fields.get("scope"))
    return jsonify({"access_token": access_token, "token_type": "bearer",
                    "expires_in": max(1, int(sandbox.knobs.token_lifetime)), "scope": grant.scope})


def oauth_current():
    company, user = g.company, g.user
    return jsonify({
        "user": {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email},
        "company": {"id": company.id, "bid": company.bid, "name": company.name, "country": company.country,
                    "vat": company.vat, "wizard_done": True, "disabled": False},
        "scopes": sorted(g.grant.scopes),
    })


def status_authenticated():
    return jsonify({"client_id": g.company.id, "expires_at": now_iso(g.grant.expires_at)})


# -- onboarding ------------------------------------------------------------------------------------

def create_user():
    sandbox = sandbox_of()
    body = _body()
    sandbox.check_vendor(body.get("vendor_api_key"))
    user = sandbox.create_user(body["email"], body.get("first_name"), body.get("last_name"))
    # An existing email gets no key (assumption by analogy with Maventa's SOAP registration).
    return jsonify({"user_api_key": user.api_key} if user else {}), 201


def create_company():
    sandbox = sandbox_of()
    form = _form_values()
    sandbox.check_vendor(form.get("vendor_api_key"))
    company = sandbox.create_company(form)
    return jsonify({"id": company.id}), 201


def list_companies():
    sandbox = sandbox_of()
    bid, country = request.args.get("bid"), request.args.get("country")
    mine = [c for c in sandbox.companies.values() if g.user.id in c.user_ids
            and (not bid or c.bid == bid) and (not country or c.country == country)]
    return jsonify([{"id": c.id, "name": c.name, "bid": c.bid} for c in mine])


def lookup_companies():
    sandbox = sandbox_of()
    bids = _array_arg("bids")
    if len(bids) > 10:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", ["bids: maximum number of bids is 10"])
    country = request.args["country"]
    return jsonify([{"company_bid": b, "company_status": sandbox.lookup_company(b, country)} for b in bids])


def company_users():
    sandbox = sandbox_of()
    if request.method == "GET":
        users = [sandbox.users[uid] for uid in g.company.user_ids]
        return jsonify([_user_json(u) for u in users])
    user, created = sandbox.add_company_user(g.company, _body())
    if created:
        return jsonify({**_user_json(user), "api_key": user.api_key}), 201
    return jsonify(_user_json(user)), 200


def _user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "notifications_disabled": 0, "emails_disabled": 0, "role": "ADMIN"}


def company_authorization():
    sandbox = sandbox_of()
    company = g.company
    if request.method == "POST":
        sandbox.send_authorization(company, _body())
        return jsonify({"status": "OK", "count": 1})
    return jsonify({"auth_state": company.auth_state, "auth_email": company.auth_email or "",
                    "company_state": company.company_state})


SETTINGS_BLOCKS = ("invoice_notifications", "send_invoice_email", "address", "details", "send_invoice_print",
                   "send_invoice_general", "logos", "email_reports", "billing_details")


def company_settings():
    sandbox = sandbox_of()
    company = g.company
    if request.method == "PATCH":
        with sandbox.lock:
            deep_merge(company.settings, _body())
        return Response(status=204)
    fields = _array_arg("fields")
    bad = [f for f in fields if f not in SETTINGS_BLOCKS]
    if bad:
        raise ApiError(400, "invalid_parameters", "Invalid parameters",
                       [f"fields does not have a valid value ({b!r})" for b in bad])
    settings = company.settings if not fields else {k: v for k, v in company.settings.items() if k in fields}
    return jsonify(settings)


# -- invoices --------------------------------------------------------------------------------------

def invoices():
    return send_invoice() if request.method == "POST" else list_invoices()


def send_invoice():
    sandbox = sandbox_of()
    company = g.company
    _require_verified(sandbox, company)
    upload = request.files["file"]
    params = _form_values()
    content = upload.read()
    try:
        doc = read_invoice_file(content, upload.filename or "", params.get("format"))
    except DocumentError as exc:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", [str(exc)]) from None
    invoice, created = sandbox.receive_invoice(company, params, doc, upload.filename, upload.mimetype)
    if not created and sandbox.knobs.duplicate_uuid == "conflict":
        raise ApiError(409, "invoice_duplicate_uuid", "Invoice with this uuid already exists",
                       [f"uuid {invoice.id} was already used"])
    return jsonify(invoice_json(invoice)), 201


def list_invoices():
    sandbox = sandbox_of()
    company = g.company
    direction = request.args.get("direction", "RECEIVED")
    if direction == "RECEIVED":
        _require_verified(sandbox, company)
        found: list[Invoice] = []  # the sandbox does not model receiving
    else:
        found = [i for i in sandbox.invoices.values() if i.company_id == company.id]
    statuses, ids = _array_arg("status"), _array_arg("ids")
    if len(ids) > 100:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", ["ids: maximum 100 per query"])
    number, reference = request.args.get("number"), request.args.get("reference")
    found = [i for i in found if (not statuses or i.status in statuses) and (not ids or i.id in ids)
             and (not number or i.doc.number == number) and (not reference or i.doc.reference == reference)]
    start, end = _timestamp_arg("created_at_start"), _timestamp_arg("created_at_end")
    found = [i for i in found if (start is None or i.created_at >= start) and (end is None or i.created_at <= end)]
    found.sort(key=lambda i: i.created_at)
    page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 10))
    if page < 1 or not 1 <= per_page <= 100:
        raise ApiError(400, "invalid_parameters", "Invalid parameters",
                       ["page starts at 1 and per_page must be between 1 and 100"])
    pages = max(1, math.ceil(len(found) / per_page))
    window = found[(page - 1) * per_page: page * per_page]
    response = jsonify([invoice_json(i) for i in window])
    response.headers.update({"X-Total": str(len(found)), "X-Total-Pages": str(pages), "X-Page": str(page),
                             "X-Per-Page": str(per_page), "X-Next-Page": str(page + 1) if page < pages else "",
                             "X-Prev-Page": str(page - 1) if page > 1 else ""})
    return response


def _timestamp_arg(name: str) -> float | None:
    value = request.args.get(name)
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value.replace(" ", "T"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).timestamp()


def _own_invoice(invoice_id: str) -> Invoice:
    invoice = sandbox_of().invoices.get((g.company.id, invoice_id))
    if invoice is None:
        raise ApiError(404, "not_found", "Invoice not found")
    return invoice


def get_invoice(id: str):
    invoice = _own_invoice(id)
    wanted = request.args.get("return_format")
    if wanted in (None, "EXTENDED_DETAILS"):
        return jsonify(invoice_json(invoice))
    if wanted.endswith("IMAGE"):
        pdf = next((f for f in invoice.files if f["mimetype"] == "application/pdf"), None)
        if pdf is None:
            raise ApiError(404, "not_found", "No image for this invoice")
        return Response(pdf["content"], mimetype="application/pdf")
    return Response(invoice.doc.xml, mimetype="application/xml")  # the sandbox does not convert formats


def invoice_actions(id: str):
    invoice = _own_invoice(id)
    wanted = set(_array_arg("type")) or ACTION_TYPES_BY_DEFAULT
    return jsonify([a for a in invoice.actions if a["type"] in wanted])


def invoice_file(id: str, file_id: str):
    invoice = _own_invoice(id)
    found = next((f for f in invoice.files if f["id"] == file_id), None)
    if found is None:
        raise ApiError(404, "not_found", "File not found")
    return Response(found["content"], mimetype=found["mimetype"])


def invoice_json(invoice: Invoice) -> dict:
    company = sandbox_of().companies[invoice.company_id]
    doc, route = invoice.doc, invoice.route
    base = request.host_url.rstrip("/")
    return {
        "id": invoice.id, "status": invoice.status, "reference": doc.reference, "number": doc.number,
        "sender": {"eia": doc.sender.get("eia"), "bid": company.bid, "name": company.name, "country": company.country},
        "recipient": {"eia": invoice.params.get("recipient_eia") or doc.recipient.get("eia"),
                      "bid": doc.recipient.get("bid"), "name": doc.recipient.get("name"),
                      "country": doc.recipient.get("country"),
                      "operator": invoice.params.get("recipient_operator") or (route.operator if route else None)},
        "created_at": now_iso(invoice.created_at), "date": doc.date, "date_due": doc.date_due,
        "source_format": invoice.source_format, "sum": doc.sum, "sum_tax": doc.sum_tax, "currency": doc.currency,
        "destination": route.channel if route and route.delivered else None, "comment": None,
        "files": [{"id": f["id"], "filename": f["filename"], "type": f["type"], "mimetype": f["mimetype"],
                   "href": f"{base}/v1/invoices/{invoice.id}/files/{f['id']}"} for f in invoice.files],
        "actions": list(invoice.actions),
    }


# -- lookups and webhooks --------------------------------------------------------------------------

def lookup_receivers():
    sandbox = sandbox_of()
    networks = set(_array_arg("network"))
    countries = set(_array_arg("country"))
    eia, bid, name = request.args.get("eia"), request.args.get("bid"), request.args.get("name")
    hits = [r for r in sandbox.receivers if r["network"] in networks
            and (not eia or r["eia"] == eia) and (not bid or r["participant"].get("bid") == bid)
            and (not name or name.lower() in (r["participant"].get("name") or "").lower())
            and (not countries or r["participant"].get("country") in countries)]
    page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 100))
    return jsonify(hits[(page - 1) * per_page: page * per_page])


def notifications():
    sandbox = sandbox_of()
    if request.method == "GET":
        return jsonify([_subscription_json(s) for s in sandbox.subscriptions.values()
                        if s.company_id == g.company.id])
    body = _body()
    if body["destination_type"] not in ("WEBHOOK", "VENDOR_WEBHOOK"):
        raise ApiError(400, "invalid_parameters", "Invalid parameters",
                       ["destination_type does not have a valid value (WEBHOOK, VENDOR_WEBHOOK)"])
    if not str(body["destination"]).startswith(("http://", "https://")):
        raise ApiError(400, "invalid_parameters", "Invalid parameters", ["destination must be an http(s) URL"])
    sub = Subscription(str(uuid.uuid4()), g.company.id, body["destination_type"], body["destination"],
                       list(body["events"]), body.get("vendor_key"))
    with sandbox.lock:
        sandbox.subscriptions[sub.id] = sub
    return jsonify(_subscription_json(sub)), 201


def notification(id: str):
    sandbox = sandbox_of()
    sub = sandbox.subscriptions.get(id)
    if sub is None or sub.company_id != g.company.id:
        raise ApiError(404, "not_found", "Notification subscription not found")
    if request.method == "DELETE":
        with sandbox.lock:
            del sandbox.subscriptions[id]
        return Response(status=204)
    return jsonify(_subscription_json(sub))


def resend_unacknowledged():
    sandbox_of().resend_unacknowledged(g.company.id)
    return jsonify({"status": "unacknowledged webhooks for all subscriptions will be retriggered later"})


def _subscription_json(sub) -> dict:
    out = {"id": sub.id, "destination_type": sub.destination_type, "destination": sub.destination,
           "events": sub.events}
    if sub.vendor_key:
        out["vendor_key"] = sub.vendor_key
    return out


# -- /_sandbox: hooks for tests, benchmarks and the demo -------------------------------------------

def control_reset():
    sandbox_of().reset()
    return jsonify({"reset": True})


def control_config():
    sandbox = sandbox_of()
    if request.method == "POST":
        values = request.get_json(silent=True)
        if not isinstance(values, dict):
            raise ApiError(400, "invalid_parameters", "Send the knobs as a JSON object")
        try:
            with sandbox.lock:
                sandbox.knobs.update(values)
                if "seed" in values:
                    sandbox.reseed()
        except KnobError as exc:
            raise ApiError(400, "invalid_parameters", "Invalid knobs", [str(exc)]) from None
    return jsonify(sandbox.knobs.as_dict())


def control_sign(id: str):
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    sandbox.sign(company)
    return jsonify({"auth_state": company.auth_state, "company_state": company.company_state})


def control_cancel(id: str):
    """The signer declined: auth_state CANCELED, the company stays unverified."""
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    with sandbox.lock:
        company.auth_state = "CANCELED"
    return jsonify({"auth_state": company.auth_state, "company_state": company.company_state})


def control_invoices():
    sandbox = sandbox_of()
    sandbox.advance()
    return jsonify(sandbox.received())


def control_finish(id: str, outcome: str):
    sandbox = sandbox_of()
    with sandbox.lock:
        invoice = next((i for i in sandbox.invoices.values() if i.id == id), None)
        if invoice is None:
            raise ApiError(404, "not_found", f"No invoice {id}")
        if invoice.status != "PENDING":
            raise ApiError(409, "document_in_invalid_state", f"Invoice is already {invoice.status}")
        body = _body()
        message = body.get("message") or ("Delivered (forced by the sandbox)" if outcome == "deliver"
                                          else "Delivery failed (forced by the sandbox)")
        channel = body.get("channel") or "EINVOICE"
        route = Route(outcome == "deliver", channel, None, None,
                      "action_delivered" if outcome == "deliver" else "action_delivery_failed", message, [])
        sandbox.finish(invoice, route)
        return jsonify(sandbox.summary(invoice))


def control_receivers():
    sandbox = sandbox_of()
    if request.method == "GET":
        with sandbox.lock:
            return jsonify(list(sandbox.receivers))
    entries = request.get_json(silent=True)
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("eia") for e in entries):
        raise ApiError(400, "invalid_parameters", "Send a receiver or a list of receivers",
                       ['each receiver needs "eia"; optional "network", "operator", "name", "bid", "country"'])
    with sandbox.lock:
        for e in entries:
            scheme, _, endpoint = e["eia"].partition(":")
            sandbox.receivers.append({
                "eia": e["eia"],
                "identifier": {"scheme": "iso6523-actorid-upis", "eaid_name": None, "eaid_code": scheme,
                               "endpoint_id": endpoint or scheme},
                "network": e.get("network", "PEPPOL"), "operator": e.get("operator", "PEPPOL"),
                "document_types": [{"document_type": "INVOICE", "document_identifier": None,
                                    "process_identifier": None}],
                "participant": {"id": e.get("id"), "name": e.get("name"), "bid": e.get("bid"),
                                "country": e.get("country")}})
        return jsonify({"receivers": len(sandbox.receivers)})


def control_webhooks():
    sandbox = sandbox_of()
    with sandbox.lock:
        return jsonify([{"id": d.id, "url": d.url, "event": d.event, "payload": d.payload, "attempts": d.attempts,
                         "status_codes": d.status_codes, "acknowledged": d.acknowledged, "given_up": d.given_up}
                        for d in sandbox.deliveries])


def control_stats():
    sandbox = sandbox_of()
    with sandbox.lock:
        return jsonify(json.loads(json.dumps(sandbox.stats)))


def control_revoke_tokens():
    """Make Maventa forget every issued token (as if revoked early): clients must fetch new ones."""
    sandbox = sandbox_of()
    with sandbox.lock:
        revoked = len(sandbox.grants)
        sandbox.grants.clear()
    return jsonify({"revoked": revoked})


def control_company(id: str):
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    return jsonify({"id": company.id, "name": company.name, "bid": company.bid, "auth_state": company.auth_state,
                    "auth_email": company.auth_email, "locale": company.locale,
                    "company_state": company.company_state, "settings": company.settings})


ROUTES = [
    ("/oauth2/token", token, ["POST"]),
    ("/oauth2/current", oauth_current, ["GET"]),
    ("/status/authenticated", status_authenticated, ["GET"]),
    ("/v1/users", create_user, ["POST"]),
    ("/v1/companies", create_company, ["POST"]),
    ("/v1/companies", list_companies, ["GET"]),
    ("/v1/partner/lookups/companies", lookup_companies, ["GET"]),
    ("/v1/company/users", company_users, ["GET", "POST"]),
    ("/v1/company/authorization", company_authorization, ["GET", "POST"]),
    ("/v1/company/settings", company_settings, ["GET", "PATCH"]),
    ("/v1/invoices", invoices, ["GET", "POST"]),
    ("/v1/invoices/<id>", get_invoice, ["GET"]),
    ("/v1/invoices/<id>/actions", invoice_actions, ["GET"]),
    ("/v1/invoices/<id>/files/<file_id>", invoice_file, ["GET"]),
    ("/v1/lookup/receivers", lookup_receivers, ["GET"]),
    ("/v1/company/notifications", notifications, ["GET", "POST"]),
    ("/v1/company/notifications/<id>", notification, ["GET", "DELETE"]),
    ("/v1/company/notifications_resend_unacknowledged", resend_unacknowledged, ["POST"]),
    ("/_sandbox/reset", control_reset, ["POST"]),
    ("/_sandbox/config", control_config, ["GET", "POST"]),
    ("/_sandbox/stats", control_stats, ["GET"]),
    ("/_sandbox/tokens/revoke", control_revoke_tokens, ["POST"]),
    ("/_sandbox/companies/<id>", control_company, ["GET"]),
    ("/_sandbox/companies/<id>/sign", control_sign, ["POST"]),
    ("/_sandbox/companies/<id>/cancel", control_cancel, ["POST"]),
    ("/_sandbox/invoices", control_invoices, ["GET"]),
    ("/_sandbox/invoices/<id>/<any(deliver, fail):outcome>", control_finish, ["POST"]),
    ("/_sandbox/receivers", control_receivers, ["GET", "POST"]),
    ("/_sandbox/webhooks", control_webhooks, ["GET"]),
]
