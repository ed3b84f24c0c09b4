"""Maventa's delivery-status webhooks: registering ours with Maventa, and knowing a call to it is Maventa's.

The unguessable per-connection secret in the URL is the authentication (Maventa documents no
signature and takes no secret). The connection is found by its id, which is not secret, and the
secret is compared in constant time with the SHA-256 we store (never the secret itself), so neither
the lookup nor the comparison tells a caller how close a guess was.
What a call says is handled by :mod:`flask_maventa.services.transfer.notices`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from ..infra import audit, redaction
from ..infra.models import MAX_ID, Connection
from ..infra.state import current_state
from ..infra.texts import T_

log = logging.getLogger("flask_maventa.webhooks")


def connection_of(connection_id: int, secret: str) -> Connection | None:
    """The connection a call to ``<prefix>/webhooks/<connection id>/<secret>`` is for, or None when the
    secret is not its webhook secret."""
    # Not remembered for scrubbing: anyone can send one, and the shape of the path gives it away anyway.
    connection = current_state().session.get(Connection, connection_id) if 0 <= connection_id <= MAX_ID else None
    expected = connection.webhook_secret_hash if connection is not None else None
    if connection is None or not expected or not hmac.compare_digest(expected, secret_hash(secret)):
        return None
    return connection


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def new_webhook_secret(connection: Connection) -> str:
    """A fresh secret for the connection's webhook URL; only its hash is kept (the caller commits)."""
    secret = secrets.token_urlsafe(32)
    connection.webhook_secret_hash = secret_hash(secret)
    redaction.remember(secret)
    return secret


def webhook_url(connection: Connection, secret: str) -> str | None:
    """The public URL Maventa calls for this connection, or None when polling is the only way."""
    config = current_state().config
    base = config.get("MAVENTA_WEBHOOK_BASE_URL")
    if not base:
        return None
    prefix = config["MAVENTA_URL_PREFIX"].rstrip("/")
    return f"{base.rstrip('/')}{prefix}/webhooks/{connection.id}/{secret}"


def ensure_webhook(connection: Connection) -> bool:
    """Register the delivery webhook with Maventa once per connection (stores ``webhook_id``).

    A connection without a stored secret hash (one registered before secrets were hashed) gets a new
    URL, and its old subscription is deleted. Failures only cost speed (polling still brings the status
    back), so they are logged, not raised.
    """
    state = current_state()
    if not state.config.get("MAVENTA_WEBHOOK_BASE_URL") or (connection.webhook_id and connection.webhook_secret_hash):
        return False
    secret = new_webhook_secret(connection)
    state.session.commit()  # the hash first: a subscription Maventa holds must always be one we accept
    try:
        client = state.company_client(connection)
        answer = client.register_webhook(webhook_url(connection, secret) or "")
    except Exception as exc:  # noqa: BLE001 - logged through the secret filter
        log.warning("webhook registration for company %s failed: %s", connection.company_id, exc)
        return False
    if connection.webhook_id:  # the old URL's subscription: its secret is gone, so is its use
        try:
            client.delete_webhook(connection.webhook_id)
        except Exception as exc:  # noqa: BLE001 - a stale subscription only costs Maventa 403s
            log.warning("old webhook of company %s could not be deleted: %s", connection.company_id, exc)
    connection.webhook_id = str((answer or {}).get("id") or "registered")[:64]
    audit.record(state.session, "webhook.registered", T_("Delivery webhook registered with Maventa."),
                 connection=connection)
    state.session.commit()
    return True
