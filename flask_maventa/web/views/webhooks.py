"""Maventa's delivery-status webhooks: ``POST <prefix>/webhooks/<connection id>/<secret>``.

The unguessable per-connection secret in the URL is the authentication (Maventa documents no
signature and takes no secret). The connection is found by its id, which is not secret, and the
secret is compared in constant time with the SHA-256 we store (never the secret itself), so neither
the lookup nor the comparison tells a caller how close a guess was. The secret is in the path, so
server access logs see it: :data:`flask_maventa.infra.redaction.SECRET_FILTER` scrubs it from werkzeug's
and gunicorn's loggers (see the README's *Security* section for other servers).

The body is only a hint: whatever it says, we re-read the invoice through the API, so a forged,
replayed or malformed call can at worst cause one extra read. It is read within
:data:`MAX_BODY_BYTES`. Its shape is undocumented too: the invoice id is taken from ``invoice_id`` or
``id``, at the top level or inside ``data``; a body without one is logged by its key names only, and
polling settles the invoice anyway. Anything but a wrong secret or an oversized body is answered 2xx,
because Maventa retries non-2xx answers and there is nothing for it to fix.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets

import sqlalchemy as sa
from flask import current_app, jsonify, request

from ...extension import current_maventa
from ...infra import redaction
from ...infra.models import Connection, Transfer
from . import MAX_ID

log = logging.getLogger("flask_maventa.webhooks")

ENDPOINT = "maventa.webhook"
VIEW_PATH = "flask_maventa.web.views.webhooks.webhook"
MAX_BODY_BYTES = 64 * 1024  # a delivery notice is a few hundred bytes


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def webhook(connection_id: int, secret: str):
    # Not remembered for scrubbing: anyone can send one, and the shape of the path gives it away anyway.
    ext = current_maventa()
    connection = ext.session.get(Connection, connection_id) if connection_id <= MAX_ID else None
    expected = connection.webhook_secret_hash if connection is not None else None
    if not expected or not hmac.compare_digest(expected, secret_hash(secret)):
        return jsonify(error="unknown webhook"), 403
    payload = _payload()
    invoice_id = _invoice_id(payload)
    if invoice_id is None:
        # Maventa does not document the body: its key names (never its values) tell us the real shape.
        log.warning("webhook for company %s without a recognised invoice id; body keys: %s",
                    connection.company_id, key_names(payload))
        return jsonify(ignored="no invoice id in the body"), 202
    transfer = ext.session.scalars(
        sa.select(Transfer).where(
            Transfer.connection_id == connection.id,
            sa.or_(Transfer.maventa_invoice_id == invoice_id, Transfer.maventa_uuid == invoice_id))
    ).first()
    if transfer is None:
        return jsonify(ignored="unknown invoice"), 202
    if transfer.state != "accepted":  # already delivered/failed (a replay), or not ours to read yet
        return jsonify(ignored=f"transfer is {transfer.state}"), 202
    from ...services.transfer import hint_reread

    hint_reread(transfer)
    return jsonify(queued="re-read"), 202


_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


def key_names(payload, prefix: str = "", limit: int = 40) -> str:
    """The body's key names as dotted paths (``event, data.document_uuid``), never a value. A key that
    does not look like a plain name is shown as ``?``: no value or odd text reaches the log that way."""
    if not isinstance(payload, dict):
        return f"(not an object: {type(payload).__name__})"
    names: list[str] = []

    def walk(node: dict, path: str, depth: int) -> None:
        for key, value in node.items():
            if len(names) >= limit:
                return
            name = f"{path}{key if _KEY.match(str(key)) else '?'}"
            names.append(name)
            if isinstance(value, dict) and depth < 3:
                walk(value, name + ".", depth + 1)

    walk(payload, prefix, 0)
    return ", ".join(names) or "(empty object)"


def _payload():
    """The JSON body, or None for anything else: too deep, not UTF-8, not JSON, or holding a NUL
    (no NUL reaches a query: PostgreSQL refuses it). Larger than MAX_BODY_BYTES: 413, nothing read."""
    request.max_content_length = MAX_BODY_BYTES
    body = request.get_data(cache=False)
    try:
        payload = json.loads(body)
        return None if "\\u0000" in json.dumps(payload) else payload  # dumps writes a NUL as \u0000
    except (ValueError, RecursionError):
        return None


def _invoice_id(payload) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("invoice_id", "id"):
        value = payload.get(key)
        if isinstance(value, (str, int)) and str(value).strip() and len(str(value)) <= 64:
            return str(value).strip()
    data = payload.get("data")
    return _invoice_id(data) if isinstance(data, dict) else None


def new_webhook_secret(connection: Connection) -> str:
    """A fresh secret for the connection's webhook URL; only its hash is kept (the caller commits)."""
    secret = secrets.token_urlsafe(32)
    connection.webhook_secret_hash = secret_hash(secret)
    redaction.remember(secret)
    return secret


def webhook_url(connection: Connection, secret: str) -> str | None:
    """The public URL Maventa calls for this connection, or None when polling is the only way."""
    base = current_app.config.get("MAVENTA_WEBHOOK_BASE_URL")
    if not base:
        return None
    prefix = current_app.config["MAVENTA_URL_PREFIX"].rstrip("/")
    return f"{base.rstrip('/')}{prefix}/webhooks/{connection.id}/{secret}"


def ensure_webhook(connection: Connection) -> bool:
    """Register the delivery webhook with Maventa once per connection (stores ``webhook_id``).

    A connection without a stored secret hash (one registered before secrets were hashed) gets a new
    URL, and its old subscription is deleted. Failures only cost speed (polling still brings the status
    back), so they are logged, not raised.
    """
    if not current_app.config.get("MAVENTA_WEBHOOK_BASE_URL") or (
            connection.webhook_id and connection.webhook_secret_hash):
        return False
    ext = current_maventa()
    secret = new_webhook_secret(connection)
    ext.session.commit()  # the hash first: a subscription Maventa holds must always be one we accept
    try:
        client = ext.company_client(connection)
        answer = client.register_webhook(webhook_url(connection, secret))
    except Exception as exc:  # noqa: BLE001 - logged through the secret filter
        log.warning("webhook registration for company %s failed: %s", connection.company_id, exc)
        return False
    if connection.webhook_id:  # the old URL's subscription: its secret is gone, so is its use
        try:
            client.delete_webhook(connection.webhook_id)
        except Exception as exc:  # noqa: BLE001 - a stale subscription only costs Maventa 403s
            log.warning("old webhook of company %s could not be deleted: %s", connection.company_id, exc)
    connection.webhook_id = str((answer or {}).get("id") or "registered")[:64]
    from ...infra import audit

    audit.record(ext.session, "webhook.registered", "Delivery webhook registered with Maventa.",
                 connection=connection)
    ext.session.commit()
    return True


def _exempt_from_csrf(app) -> None:
    """A host using CSRFProtect must not demand a form token from Maventa's server-to-server call.

    Runs as the app's first before-request hook, so it works whichever was initialised first.
    """
    def exempt_once():
        csrf = app.extensions.get("csrf")
        if csrf is not None and VIEW_PATH not in getattr(csrf, "_exempt_views", set()):
            csrf.exempt(VIEW_PATH)

    app.before_request_funcs.setdefault(None, []).insert(0, exempt_once)


def register(bp) -> None:
    bp.add_url_rule("/webhooks/<int:connection_id>/<secret>", "webhook", webhook, methods=["POST"])
    bp.record_once(lambda state: _exempt_from_csrf(state.app))
