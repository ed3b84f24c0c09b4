"""``/_sandbox/...``: hooks for tests, benchmarks and the demo (never part of Maventa's API)."""
from __future__ import annotations

import json

from flask import Response, jsonify, request

from .bodies import JSONObject
from .documents import Route
from .gate import sandbox_of
from .knobs import KnobError
from .state import ApiError


def _body() -> JSONObject:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def control_reset() -> Response:
    sandbox_of().reset()
    return jsonify({"reset": True})


def control_config() -> Response:
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


def control_sign(id: str) -> Response:
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    sandbox.sign(company)
    return jsonify({"auth_state": company.auth_state, "company_state": company.company_state})


def control_cancel(id: str) -> Response:
    """The signer declined: auth_state CANCELED, the company stays unverified."""
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    with sandbox.lock:
        company.auth_state = "CANCELED"
    return jsonify({"auth_state": company.auth_state, "company_state": company.company_state})


def control_invoices() -> Response:
    sandbox = sandbox_of()
    sandbox.advance()
    return jsonify(sandbox.received())


def control_finish(id: str, outcome: str) -> Response:
    sandbox = sandbox_of()
    with sandbox.lock:
        invoice = next((i for i in sandbox.invoices.values() if i.id == id), None)
        if invoice is None:
            raise ApiError(404, "not_found", f"No invoice {id}")
        if invoice.status != "PENDING":
            raise ApiError(409, "document_in_invalid_state", f"Invoice is already {invoice.status}")
        body = _body()
        message, channel = body.get("message"), body.get("channel")
        if not message or not isinstance(message, str):
            message = ("Delivered (forced by the sandbox)" if outcome == "deliver"
                       else "Delivery failed (forced by the sandbox)")
        if not channel or not isinstance(channel, str):
            channel = "EINVOICE"
        route = Route(outcome == "deliver", channel, None, None,
                      "action_delivered" if outcome == "deliver" else "action_delivery_failed", message, [])
        sandbox.finish(invoice, route)
        return jsonify(sandbox.summary(invoice))


def control_receivers() -> Response:
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


def control_webhooks() -> Response:
    sandbox = sandbox_of()
    with sandbox.lock:
        return jsonify([{"id": d.id, "url": d.url, "event": d.event, "payload": d.payload, "attempts": d.attempts,
                         "status_codes": d.status_codes, "acknowledged": d.acknowledged, "given_up": d.given_up}
                        for d in sandbox.deliveries])


def control_stats() -> Response:
    sandbox = sandbox_of()
    with sandbox.lock:
        return jsonify(json.loads(json.dumps(sandbox.stats)))


def control_revoke_tokens() -> Response:
    """Make Maventa forget every issued token (as if revoked early): clients must fetch new ones."""
    sandbox = sandbox_of()
    with sandbox.lock:
        revoked = len(sandbox.grants)
        sandbox.grants.clear()
    return jsonify({"revoked": revoked})


def control_company(id: str) -> Response:
    sandbox = sandbox_of()
    company = sandbox.companies.get(id)
    if company is None:
        raise ApiError(404, "not_found", f"No company {id}")
    return jsonify({"id": company.id, "name": company.name, "bid": company.bid, "auth_state": company.auth_state,
                    "auth_email": company.auth_email, "locale": company.locale,
                    "company_state": company.company_state, "settings": company.settings})
