"""The audit trail: one function writes every event, and no secret gets into one.

Secrets are replaced by field name and by value (see :mod:`.redaction`): the event's message, text and
data columns scrub whatever is written to them, so a caller never has to remember to.

An event's message is stored untranslated (a :class:`~.texts.Msg`, see :mod:`.texts`) and translated
when it is read, in the reader's language; plain text (Maventa's own words) is kept as it is.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from .models import Connection, DbSession, Event, Transfer
from .redaction import REDACTED, scrub  # re-exported: audit.scrub is the public name
from .texts import english, stored

__all__ = ["REDACTED", "record", "scrub"]


def record(
    session: DbSession,
    kind: str,
    message: Any = "",
    *,
    connection: Connection | None = None,
    transfer: Transfer | None = None,
    actor: str | None = None,
    http_status: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add an event to ``session`` (the caller commits, together with what it describes).

    ``message``: a :class:`~.texts.Msg` (translated when read), or plain text nobody translates."""
    if transfer is not None and connection is None:
        connection = transfer.connection
    event = Event(
        kind=kind,
        message=english(message),
        text=stored(message),
        actor=actor,
        http_status=http_status,
        data=scrub(data) if data else None,
        connection=connection,
        transfer=transfer,
    )
    session.add(event)
    return event


EVENT_FIELDS = ("kind", "message", "actor", "http_status", "data", "connection_id", "transfer_id", "created_at")


def record_many(session: DbSession, events: list[dict[str, Any]]) -> None:
    """Add many events in one statement (the sweep's "queued" events, a send's request and answer).

    Each event is a dict of :data:`EVENT_FIELDS` (ids, not objects; the message as for :func:`record`);
    the caller commits. The message and
    data columns scrub what is written to them, as for :func:`record`.
    """
    if events:
        # The table's insert, not the mapped class's, on the session's connection (in its transaction): the
        # same columns and their scrubbing types, without the ORM's bulk bookkeeping and execute.
        session.connection().execute(_INSERT, event_rows(events))


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows for :func:`record_many`'s events (their columns scrub what they are given)."""
    from .models import utcnow

    now = utcnow()
    rows = []
    for event in events:
        row = {name: event.get(name) for name in EVENT_FIELDS}
        row["text"] = stored(row["message"] or "")
        row["message"] = english(row["message"])
        row["data"] = row["data"] or None
        row["created_at"] = row["created_at"] or now
        rows.append(row)
    return rows


EVENTS = cast(sa.Table, Event.__table__)
_INSERT = sa.insert(EVENTS)
