"""``POST <prefix>/webhooks/<connection id>/<secret>``: Maventa's delivery-status webhook.

The secret in the path authenticates the call (:func:`flask_maventa.services.webhooks.connection_of`);
what the body says is handled by :func:`flask_maventa.services.transfer.receive_notice`. This view only
reads the body, within :data:`MAX_BODY_BYTES`. The secret is in the path, so server access logs see it:
:data:`flask_maventa.infra.redaction.SECRET_FILTER` scrubs it from werkzeug's and gunicorn's loggers (see
the README's *Security* section for other servers).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ...services import transfer, webhooks

MAX_BODY_BYTES = 64 * 1024  # a delivery notice is a few hundred bytes


def webhook(connection_id: int, secret: str) -> ResponseReturnValue:
    connection = webhooks.connection_of(connection_id, secret)
    if connection is None:
        return jsonify(error="unknown webhook"), 403
    answer = transfer.receive_notice(connection, _payload())
    return jsonify(answer.body), answer.status


def _payload() -> Any:
    """The JSON body, or None for anything else: too deep, not UTF-8, not JSON, or holding a NUL
    (no NUL reaches a query: PostgreSQL refuses it). Larger than MAX_BODY_BYTES: 413, nothing read."""
    request.max_content_length = MAX_BODY_BYTES
    body = request.get_data(cache=False)
    try:
        payload = json.loads(body)
        return None if "\\u0000" in json.dumps(payload) else payload  # dumps writes a NUL as \u0000
    except (ValueError, RecursionError):
        return None


def _exempt_from_csrf(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Maventa's server-to-server call carries no form token: a host's CSRFProtect must let it through.

    A URL value preprocessor of our blueprint runs before any before-request hook, the host's CSRF check
    included, so ``csrf.exempt`` (Flask-WTF's public API) works whichever extension the host set up first.
    """
    csrf = current_app.extensions.get("csrf")
    if csrf is not None and endpoint == "maventa.webhook":
        csrf.exempt(webhook)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/webhooks/<int:connection_id>/<secret>", "webhook", webhook, methods=["POST"])
    bp.url_value_preprocessor(_exempt_from_csrf)
