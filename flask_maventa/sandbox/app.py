"""The sandbox as a Flask app: Maventa's endpoints (``api``), the ``/_sandbox`` test hooks (``control``),
and the gate every API request passes (``gate``).

Errors always have Maventa's shape ``{"code", "message", "details"}``; never a traceback. Every JSON
answer is checked against the swagger's response schema when ``check_responses`` is on; problems are
counted in ``/_sandbox/stats`` (the test fixture fails a test that caused one).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from . import api, control
from .gate import FaultInjector, check_response, gate, sandbox_of
from .knobs import Knobs
from .state import ApiError, Sandbox
from .webhooks import Ticker

__all__ = ["create_app", "sandbox_of"]

log = logging.getLogger("flask_maventa.sandbox")


class _OrderedJSON(DefaultJSONProvider):
    sort_keys = False  # answers keep the order the views build them in, as Maventa's do


def create_app(vendor_api_key: str = "sandbox-vendor-key", **knobs: object) -> Flask:
    app = Flask("flask_maventa.sandbox")
    settings = Knobs()
    settings.update(knobs)
    sandbox = Sandbox(vendor_api_key, settings)
    app.extensions["maventa_sandbox"] = sandbox
    app.extensions["maventa_sandbox_ticker"] = Ticker(sandbox)
    app.json = _OrderedJSON(app)
    app.before_request(gate)
    app.after_request(check_response)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    # Flask's documented way to wrap its WSGI app in middleware; its types see only a method.
    app.wsgi_app = FaultInjector(app.wsgi_app, sandbox)  # type: ignore[method-assign]
    app.extensions["maventa_sandbox_ticker"].start()
    return app


def _api_error(error: ApiError) -> Response:
    body = error.body()
    if sandbox_of().knobs.echo_errors:
        body["details"] = [*error.details, *_echo()]
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _echo() -> list[str]:
    """What an echoing server puts in its error: every field it was sent, and the Authorization header."""
    sent = "&".join(f"{k}={v}" for k, v in request.form.items(multi=True)) or request.get_data(as_text=True)
    return [f"request body: {sent[:4000]}", f"Authorization: {request.headers.get('Authorization', '')}"]


def _http_error(error: HTTPException) -> Response:
    if error.code == 404 and g.get("op") is not None:
        return _api_error(ApiError(501, "not_implemented", "Not implemented by the sandbox",
                                   [f"{g.op.method} {g.op.template} is in Maventa's API but not in the sandbox"]))
    code = {400: "invalid_parameters", 404: "not_found", 405: "method_not_allowed",
            413: "request_too_large"}.get(error.code or 500, "error")
    return _api_error(ApiError(error.code or 500, code, error.name, [error.description] if error.description else []))


def _unexpected_error(error: Exception) -> Response:
    log.exception("sandbox failed on %s %s", request.method, request.path)
    return _api_error(ApiError(500, "internal_server_error", "Internal server error"))


ROUTES: list[tuple[str, Callable[..., ResponseReturnValue], list[str]]] = [
    ("/oauth2/token", api.token, ["POST"]),
    ("/oauth2/current", api.oauth_current, ["GET"]),
    ("/status/authenticated", api.status_authenticated, ["GET"]),
    ("/v1/users", api.create_user, ["POST"]),
    ("/v1/companies", api.create_company, ["POST"]),
    ("/v1/companies", api.list_companies, ["GET"]),
    ("/v1/partner/lookups/companies", api.lookup_companies, ["GET"]),
    ("/v1/company/users", api.company_users, ["GET", "POST"]),
    ("/v1/company/authorization", api.company_authorization, ["GET", "POST"]),
    ("/v1/company/settings", api.company_settings, ["GET", "PATCH"]),
    ("/v1/invoices", api.invoices, ["GET", "POST"]),
    ("/v1/invoices/<id>", api.get_invoice, ["GET"]),
    ("/v1/invoices/<id>/actions", api.invoice_actions, ["GET"]),
    ("/v1/invoices/<id>/files/<file_id>", api.invoice_file, ["GET"]),
    ("/v1/lookup/receivers", api.lookup_receivers, ["GET"]),
    ("/v1/company/notifications", api.notifications, ["GET", "POST"]),
    ("/v1/company/notifications/<id>", api.notification, ["GET", "DELETE"]),
    ("/v1/company/notifications_resend_unacknowledged", api.resend_unacknowledged, ["POST"]),
    ("/_sandbox/reset", control.control_reset, ["POST"]),
    ("/_sandbox/config", control.control_config, ["GET", "POST"]),
    ("/_sandbox/stats", control.control_stats, ["GET"]),
    ("/_sandbox/tokens/revoke", control.control_revoke_tokens, ["POST"]),
    ("/_sandbox/companies/<id>", control.control_company, ["GET"]),
    ("/_sandbox/companies/<id>/sign", control.control_sign, ["POST"]),
    ("/_sandbox/companies/<id>/cancel", control.control_cancel, ["POST"]),
    ("/_sandbox/invoices", control.control_invoices, ["GET"]),
    ("/_sandbox/invoices/<id>/<any(deliver, fail):outcome>", control.control_finish, ["POST"]),
    ("/_sandbox/receivers", control.control_receivers, ["GET", "POST"]),
    ("/_sandbox/webhooks", control.control_webhooks, ["GET"]),
]
