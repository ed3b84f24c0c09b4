"""The audit trail: one function writes every event, and it strips secrets on the way."""

from __future__ import annotations

import re
from typing import Any

from .models import Connection, Event, Transfer

_SECRET_KEYS = re.compile(r"(api_key|apikey|secret|token|password|authorization)", re.I)
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking field replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


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
