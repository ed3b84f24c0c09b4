"""Maventa's delivery-status webhooks: ``POST <prefix>/webhooks/<token>``.

The unguessable per-connection token in the URL is the authentication (Maventa documents no
signature). The body is only a hint: whatever it says, we re-read the invoice through the API, so
a forged, replayed or malformed call can at worst cause one extra read. Its shape is undocumented
too: the invoice id is taken from ``invoice_id`` or ``id``, at the top level or inside ``data``; a
body without one is logged by its key names only, and polling settles the invoice anyway. Anything
but a wrong token is answered 2xx, because Maventa retries non-2xx answers and there is nothing for
it to fix.
"""

from __future__ import annotations

import hmac
import logging
import re

import sqlalchemy as sa
from flask import current_app, jsonify, request

from ..extension import current_maventa
from ..models import Connection, Transfer

log = logging.getLogger("flask_maventa.webhooks")

ENDPOINT = "maventa.webhook"
VIEW_PATH = "flask_maventa.views.webhooks.webhook"


def webhook(token: str):
    ext = current_maventa()
    connection = ext.session.scalars(sa.select(Connection).where(Connection.webhook_token == token)).first()
    if connection is None or not hmac.compare_digest(connection.webhook_token, token):
        return jsonify(error="unknown webhook"), 403
    payload = request.get_json(silent=True, force=True)
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
    from ..transfer import hint_reread

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


def _invoice_id(payload) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("invoice_id", "id"):
        value = payload.get(key)
        if isinstance(value, (str, int)) and str(value).strip() and len(str(value)) <= 64:
            return str(value).strip()
    data = payload.get("data")
    return _invoice_id(data) if isinstance(data, dict) else None


def webhook_url(connection: Connection) -> str | None:
    """The public URL Maventa calls for this connection, or None when polling is the only way."""
    base = current_app.config.get("MAVENTA_WEBHOOK_BASE_URL")
    if not base:
        return None
    return f"{base.rstrip('/')}{current_app.config['MAVENTA_URL_PREFIX'].rstrip('/')}/webhooks/{connection.webhook_token}"


def ensure_webhook(connection: Connection) -> bool:
    """Register the delivery webhook with Maventa once per connection (stores ``webhook_id``).

    Failures only cost speed (polling still brings the status back), so they are logged, not raised.
    """
    url = webhook_url(connection)
    if url is None or connection.webhook_id:
        return False
    ext = current_maventa()
    try:
        answer = ext.company_client(connection).register_webhook(url)
    except Exception as exc:  # noqa: BLE001 - the client's messages carry no secrets
        log.warning("webhook registration for company %s failed: %s", connection.company_id, exc)
        return False
    connection.webhook_id = str((answer or {}).get("id") or "registered")[:64]
    from .. import audit

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
    bp.add_url_rule("/webhooks/<token>", "webhook", webhook, methods=["POST"])
    bp.record_once(lambda state: _exempt_from_csrf(state.app))
