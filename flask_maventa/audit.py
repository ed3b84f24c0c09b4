"""The audit trail: one function writes every event, and no secret gets into one.

Secrets are replaced by field name and by value (see :mod:`.redaction`): the event's message and
data columns scrub whatever is written to them, so a caller never has to remember to.
"""

from __future__ import annotations

from .models import Connection, Event, Transfer
from .redaction import REDACTED, scrub  # noqa: F401 - re-exported: audit.scrub is the public name

__all__ = ["REDACTED", "record", "scrub"]


def record(
    session,
    kind: str,
    message: str = "",
    *,
    connection: Connection | None = None,
    transfer: Transfer | None = None,
    actor: str | None = None,
    http_status: int | None = None,
    data: dict | None = None,
) -> Event:
    """Add an event to ``session`` (the caller commits, together with what it describes)."""
    if transfer is not None and connection is None:
        connection = transfer.connection
    event = Event(
        kind=kind,
        message=message,
        actor=actor,
        http_status=http_status,
        data=scrub(data) if data else None,
        connection=connection,
        transfer=transfer,
    )
    session.add(event)
    return event
