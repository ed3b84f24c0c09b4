"""Disconnecting a company from its Maventa account (and so making room for other credentials).

What happens to its transfers is decided by what Maventa may already hold, so nothing is lost or sent twice:

- *waiting* (queued, never reached Maventa): they stay queued and nothing is sent; the sending job puts them
  back each time it finds no key (``DISCONNECTED``). Once the company is connected again they go out with
  the new credentials, as they would have with the old ones.
- *in flight* (being sent, or in doubt: the request may have reached Maventa): disconnecting is refused until
  they are settled, because only the Maventa company they went to can say whether it has them.
- *accepted* (Maventa has them, the delivery status is open): Maventa delivers them regardless; their status
  is read again once the same Maventa company is connected again (reads fail meanwhile and are retried; an
  accepted invoice never fails or goes out again because of a read).

The stored secrets of the old connection go: the User API key (and this process's client and cached token
for it), the webhook secret's hash (its URL stops authenticating at once; the subscription at Maventa is
removed while the key still works). The settings (statuses, error emails) stay, so reconnecting is quick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from ..client import errors as client_errors
from ..infra.audit import record
from ..infra.crypto import SecretUnreadable
from ..infra.i18n import ngettext
from ..infra.models import Connection, Transfer
from ..infra.state import current_state
from . import versions
from .transfer.states import ACCEPTED, IN_DOUBT, QUEUED, SENDING

__all__ = ["DisconnectRefused", "TransferCounts", "disconnect", "transfer_counts"]

log = logging.getLogger("flask_maventa.disconnect")


@dataclass(frozen=True)
class TransferCounts:
    waiting: int     # queued: never reached Maventa
    in_flight: int   # sending or in doubt: may have reached Maventa, not settled
    accepted: int    # at Maventa, delivery status still open


class DisconnectRefused(Exception):
    """Disconnecting now could lose an invoice or send one twice; ``message`` says why and when to try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def transfer_counts(connection: Connection | None) -> TransferCounts:
    if connection is None:
        return TransferCounts(0, 0, 0)
    rows = dict(current_state().session.execute(
        sa.select(Transfer.state, sa.func.count()).where(Transfer.connection_id == connection.id)
        .group_by(Transfer.state)).all())
    return TransferCounts(int(rows.get(QUEUED, 0)), int(rows.get(SENDING, 0)) + int(rows.get(IN_DOUBT, 0)),
                          int(rows.get(ACCEPTED, 0)))


def disconnect(connection: Connection, *, version: int | None = None) -> TransferCounts:
    """Remove the company's Maventa credentials and turn it off; the caller commits.

    :class:`DisconnectRefused` while an invoice is in flight, :class:`~.versions.StaleForm` for a form older
    than the connection; both change nothing.
    """
    if version is not None:
        versions.check(connection, version)
    counts = transfer_counts(connection)
    if counts.in_flight:
        raise DisconnectRefused(ngettext(
            "%(num)s invoice is being sent to Maventa right now and may have reached it. Wait until it is "
            "settled (usually within a few minutes), then disconnect.",
            "%(num)s invoices are being sent to Maventa right now and may have reached it. Wait until they are "
            "settled (usually within a few minutes), then disconnect.", counts.in_flight))
    state = current_state()
    _remove_webhook(connection)  # while the key still works; before any write, as it asks Maventa
    versions.claim(connection, connection.version if version is None else version)
    old_uuid = connection.company_uuid
    state.forget_company(connection)
    connection.api_key_encrypted = None
    connection.company_uuid = None
    connection.webhook_secret_hash = None
    connection.webhook_id = None
    connection.active = False
    connection.blocked_reason = None
    connection.needs_manual_credentials = False
    connection.registered_via = None
    connection.registrant_email = None
    connection.company_state = "UNKNOWN"
    connection.auth_state = "NONE"
    connection.auth_sent_at = connection.auth_checked_at = connection.auth_next_check_at = None
    connection.auth_check_count = 0
    record(state.session, "connection.disconnected", "Disconnected from Maventa", connection=connection,
           actor=state.adapter.current_actor(),
           data=versions.stamp(connection, {"company_uuid": old_uuid, "waiting": counts.waiting,
                                            "accepted": counts.accepted}))
    return counts


def _remove_webhook(connection: Connection) -> None:
    if not connection.webhook_id or connection.webhook_id == "registered" or not connection.has_credentials:
        return
    try:
        current_state().company_client(connection).delete_webhook(connection.webhook_id)
    except (client_errors.MaventaError, SecretUnreadable, ValueError) as exc:
        # Its URL stops authenticating anyway (the secret's hash goes); Maventa's calls are then refused.
        log.warning("the delivery webhook of connection %s could not be removed at Maventa: %s",
                    connection.id, type(exc).__name__)
