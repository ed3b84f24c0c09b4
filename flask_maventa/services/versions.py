"""Two admins at once: optimistic concurrency on the connection row.

Every form that changes a connection carries the ``version`` it was made from. A save first asks
:func:`check` (cheap, before any request to Maventa) and then :func:`claim`, which moves the version on
with ``UPDATE … SET version = version + 1 WHERE id = :id AND version = :seen``: the check is in the
UPDATE's WHERE, so of two saves made from the same version exactly one matches a row, however their
transactions interleave (the other waits for the row's lock and then finds a newer version). The loser
changes nothing and is told what changed since, and by whom, from the audit trail (every event a
versioned change writes carries the version it made, see :func:`stamp`).

Only what a user does moves the version: the signing poll, the sweep and the workers write their own
columns without it, so they never make an open form stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ..infra.i18n import gettext
from ..infra.models import Connection, Event
from ..infra.state import current_state

__all__ = ["Change", "StaleForm", "changes_since", "check", "claim", "current_version", "parse_version", "reapply",
           "stamp"]


def _labels() -> dict[str, str]:
    """What each versioned event says happened, in the reader's language."""
    return {
        "settings.saved": gettext("saved the settings"),
        "settings.print_own_pdf": gettext("changed Maventa's print setting"),
        "activation.on": gettext("turned synchronisation on"),
        "activation.off": gettext("turned synchronisation off"),
        "credentials.saved": gettext("saved the User API key and Company UUID"),
        "registration.created": gettext("registered the company in Maventa"),
        "registration.existing_user": gettext("registered the company in Maventa"),
        "signing.sent": gettext("sent the authentication request"),
        "connection.disconnected": gettext("disconnected the company from Maventa"),
    }


class StaleForm(Exception):
    """The form was made from an older version of the connection; nothing was changed."""

    def __init__(self, connection_id: int | None, seen: int) -> None:
        super().__init__(f"connection {connection_id}: form made from version {seen}")
        self.connection_id = connection_id
        self.seen = seen


@dataclass(frozen=True)
class Change:
    """One change someone made since the form was shown: who, when, what (translated)."""

    actor: str | None
    at: datetime
    what: str
    kind: str


UNKNOWN = -1  # a version that is no number: always stale


def parse_version(value: object) -> int | None:
    """The posted version; None when none was posted (a script, not one of our pages: not checked),
    :data:`UNKNOWN` when it is not a number."""
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return UNKNOWN
    return number if 0 <= number < 2**31 else UNKNOWN


def current_version(connection: Connection | None) -> int:
    return connection.version if connection is not None else 0


def check(connection: Connection | None, seen: int) -> None:
    """Refuse a stale form early (before Maventa is asked anything). :func:`claim` is the real check."""
    if seen != current_version(connection):
        raise StaleForm(connection.id if connection is not None else None, seen)


def claim(connection: Connection, seen: int) -> None:
    """Move the version on, if it still is ``seen``; else :class:`StaleForm` and nothing happened.

    Runs in the caller's transaction (the caller commits it with the change, or rolls both back) and
    holds the row's write lock until then, so a second save waits and then fails the WHERE.
    """
    if seen < 0:
        raise StaleForm(connection.id, seen)
    session = current_state().session
    if cast("int | None", connection.id) is None:  # a new row, not flushed yet: nobody else can have seen it
        connection.version = seen + 1
        return
    result = cast("sa.CursorResult[Any]", session.execute(
        sa.update(Connection)
        .where(Connection.id == connection.id, Connection.version == seen)
        .values(version=Connection.version + 1)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise StaleForm(connection.id, seen)
    set_committed_value(connection, "version", seen + 1)


def stamp(connection: Connection, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event's data with the version the change made, so a later conflict can say who made it."""
    return {**(data or {}), "version": connection.version}


def changes_since(connection: Connection | None, seen: int, *, limit: int = 10) -> list[Change]:
    """The versioned changes made after version ``seen`` (the last one only, when it is :data:`UNKNOWN`)."""
    if connection is None:
        return []
    labels = _labels()
    events = current_state().session.scalars(
        sa.select(Event).where(Event.connection_id == connection.id, Event.kind.in_(list(labels)))
        .order_by(Event.id.desc()).limit(200)).all()
    found = []
    for event in events:
        version = (event.data or {}).get("version")
        if not isinstance(version, int):
            continue
        if seen >= 0 and version <= seen:
            break
        found.append(Change(event.actor, event.created_at, labels[event.kind], event.kind))
        if seen < 0 or len(found) >= limit:
            break
    return list(reversed(found))


def reapply(base: dict[str, Any], yours: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Your changes on top of the current values: a field you changed (yours differs from the ``base`` your
    form was made from) keeps your value, every other field takes the current one. Without a base every
    field counts as yours."""
    return {name: (value if not base or name not in base or value != base[name] else current.get(name))
            for name, value in yours.items()}
