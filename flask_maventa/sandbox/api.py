"""Maventa's endpoints as the sandbox answers them (API-NOTES §12): every request has passed the gate
(token, scope, swagger parameters) before it gets here."""
from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import cast

from flask import Response, g, jsonify, request

from .bodies import (
    AuthorizationBody,
    CompanyForm,
    CompanyUserBody,
    JSONObject,
    NotificationBody,
    UploadParams,
    UserBody,
)
from .documents import DocumentError, read_invoice_file
from .gate import require_verified, sandbox_of
from .invoices import Invoice
from .state import ApiError, User, deep_merge, now_iso
from .webhooks import Subscription

ACTION_TYPES_BY_DEFAULT = {"CREATED", "SENT", "DELIVERED", "ERROR", "RECEIVED"}


def _body() -> JSONObject:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _array_arg(name: str) -> list[str]:
    return request.args.getlist(name + "[]") + request.args.getlist(name)


def _form_values() -> dict[str, str | list[str]]:
    """formData as Maventa's Rack would see it: ``name[]`` collected into lists."""
    values: dict[str, str | list[str]] = {}
    for key in request.form:
        items = request.form.getlist(key)
        if key.endswith("[]"):
            listed = values.setdefault(key[:-2], [])
            if isinstance(listed, list):
                listed.extend(items)
        else:
            values[key] = items[-1]
    return values


# -- OAuth -----------------------------------------------------------------------------------------

TOKEN_FIELDS = {"grant_type", "client_id", "client_secret", "scope", "vendor_api_key", "license_data"}


def token() -> Response:
    sandbox = sandbox_of()
    with sandbox.lock:
        sandbox.stats["token_requests"] += 1
    fields: dict[str, str | None]  # the token request's fields are strings (or an unchecked JSON's values)
    if request.mimetype == "application/json":
        fields = cast("dict[str, str | None]", _body())
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = {key: value for key, value in request.form.items()}  # the first value of each, as to_dict()
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


def oauth_current() -> Response:
    company, user = g.company, g.user
    return jsonify({
        "user": {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email},
        "company": {"id": company.id, "bid": company.bid, "name": company.name, "country": company.country,
                    "vat": company.vat, "wizard_done": True, "disabled": False},
        "scopes": sorted(g.grant.scopes),
    })


def status_authenticated() -> Response:
    return jsonify({"client_id": g.company.id, "expires_at": now_iso(g.grant.expires_at)})


# -- onboarding ------------------------------------------------------------------------------------

def create_user() -> tuple[Response, int]:
    sandbox = sandbox_of()
    body = cast(UserBody, _body())
    sandbox.check_vendor(body.get("vendor_api_key"))
    user = sandbox.create_user(body["email"], body.get("first_name"), body.get("last_name"))
    # A known email: no key (by analogy with Maventa's SOAP registration), or a 4xx (knob existing_user).
    return jsonify({"user_api_key": user.api_key} if user else {}), 201


def create_company() -> tuple[Response, int]:
    sandbox = sandbox_of()
    form = cast(CompanyForm, _form_values())
    sandbox.check_vendor(form.get("vendor_api_key"))
    company = sandbox.create_company(form)
    return jsonify({"id": company.id}), 201


def list_companies() -> Response:
    sandbox = sandbox_of()
    bid, country = request.args.get("bid"), request.args.get("country")
    mine = [c for c in sandbox.companies.values() if g.user.id in c.user_ids
            and (not bid or c.bid == bid) and (not country or c.country == country)]
    return jsonify([{"id": c.id, "name": c.name, "bid": c.bid} for c in mine])


def lookup_companies() -> Response:
    sandbox = sandbox_of()
    bids = _array_arg("bids")
    if len(bids) > 10:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", ["bids: maximum number of bids is 10"])
    country = request.args["country"]
    return jsonify([{"company_bid": b, "company_status": sandbox.lookup_company(b, country)} for b in bids])


def company_users() -> Response | tuple[Response, int]:
    sandbox = sandbox_of()
    if request.method == "GET":
        users = [sandbox.users[uid] for uid in g.company.user_ids]
        return jsonify([_user_json(u) for u in users])
    user, created = sandbox.add_company_user(g.company, cast(CompanyUserBody, _body()))
    if created:
        return jsonify({**_user_json(user), "api_key": user.api_key}), 201
    return jsonify(_user_json(user)), 200


def _user_json(user: User) -> dict[str, str | int]:
    return {"id": user.id, "email": user.email, "notifications_disabled": 0, "emails_disabled": 0, "role": "ADMIN"}


def company_authorization() -> Response:
    sandbox = sandbox_of()
    company = g.company
    if request.method == "POST":
        sandbox.send_authorization(company, cast(AuthorizationBody, _body()))
        return jsonify({"status": "OK", "count": 1})
    return jsonify(sandbox.read_authorization(company))


SETTINGS_BLOCKS = ("invoice_notifications", "send_invoice_email", "address", "details", "send_invoice_print",
                   "send_invoice_general", "logos", "email_reports", "billing_details")


def company_settings() -> Response:
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

def invoices() -> tuple[Response, int] | Response:
    return send_invoice() if request.method == "POST" else list_invoices()


def send_invoice() -> tuple[Response, int]:
    sandbox = sandbox_of()
    company = g.company
    require_verified(sandbox, company)
    upload = request.files["file"]
    params = cast(UploadParams, _form_values())
    content = upload.read()
    try:
        doc = read_invoice_file(content, upload.filename or "", params.get("format"))
    except DocumentError as exc:
        raise ApiError(400, "invalid_parameters", "Invalid parameters", [str(exc)]) from None
    invoice, created = sandbox.receive_invoice(company, params, doc, upload.filename or "", upload.mimetype)
    if not created and sandbox.knobs.duplicate_uuid != "return":  # status and code: UNCONFIRMED
        status = 409 if sandbox.knobs.duplicate_uuid == "conflict" else 422
        raise ApiError(status, "invoice_duplicate_uuid", "Invoice with this uuid already exists",
                       [f"uuid {invoice.id} was already used"])
    return jsonify(invoice_json(invoice)), 201


def list_invoices() -> Response:
    sandbox = sandbox_of()
    company = g.company
    direction = request.args.get("direction", "RECEIVED")
    if direction == "RECEIVED":
        require_verified(sandbox, company)
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
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _own_invoice(invoice_id: str) -> Invoice:
    invoice = sandbox_of().invoices.get((g.company.id, invoice_id))
    if invoice is None:
        raise ApiError(404, "not_found", "Invoice not found")
    return invoice


def get_invoice(id: str) -> Response:
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


def invoice_actions(id: str) -> Response:
    invoice = _own_invoice(id)
    wanted = set(_array_arg("type")) or ACTION_TYPES_BY_DEFAULT
    return jsonify([a for a in invoice.actions if a["type"] in wanted])


def invoice_file(id: str, file_id: str) -> Response:
    invoice = _own_invoice(id)
    found = next((f for f in invoice.files if f["id"] == file_id), None)
    if found is None:
        raise ApiError(404, "not_found", "File not found")
    return Response(found["content"], mimetype=found["mimetype"])


def invoice_json(invoice: Invoice) -> dict[str, object]:
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

def lookup_receivers() -> Response:
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


def notifications() -> Response | tuple[Response, int]:
    sandbox = sandbox_of()
    if request.method == "GET":
        return jsonify([_subscription_json(s) for s in sandbox.subscriptions.values()
                        if s.company_id == g.company.id])
    body = cast(NotificationBody, _body())
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


def notification(id: str) -> Response:
    sandbox = sandbox_of()
    sub = sandbox.subscriptions.get(id)
    if sub is None or sub.company_id != g.company.id:
        raise ApiError(404, "not_found", "Notification subscription not found")
    if request.method == "DELETE":
        with sandbox.lock:
            del sandbox.subscriptions[id]
        return Response(status=204)
    return jsonify(_subscription_json(sub))


def resend_unacknowledged() -> Response:
    sandbox_of().resend_unacknowledged(g.company.id)
    return jsonify({"status": "unacknowledged webhooks for all subscriptions will be retriggered later"})


def _subscription_json(sub: Subscription) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {"id": sub.id, "destination_type": sub.destination_type,
                                       "destination": sub.destination, "events": sub.events}
    if sub.vendor_key:
        out["vendor_key"] = sub.vendor_key
    return out
