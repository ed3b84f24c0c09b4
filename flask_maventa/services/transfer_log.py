"""The transfer log's questions: which transfers the user may see, filtered; one invoice's timeline; retry
after a fix by posted ids; and whether the workers and schedulers that move transfers are alive.

Reads only the database (the log works while Redis is down); a retry's job is dispatched by the next
sweep when Redis is down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..infra import heartbeat
from ..infra.clock import utc_day
from ..infra.i18n import gettext
from ..infra.models import MAX_ID, Connection, Event, Transfer
from ..infra.state import current_state
from . import transfer
from .companies import managed_connections
from .transfer.queries import latest

PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """The log's filters as the form read them (all optional)."""

    company: str | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    number: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Filters:
        return cls(*(data.get(name) or None for name in ("company", "state", "date_from", "date_to", "number")))


def transfers(filters: Filters, connections: Mapping[int, Connection]) -> Sequence[Transfer]:
    """The newest :data:`PAGE_SIZE` invoices of ``connections`` that match ``filters``, each as its latest
    revision (older revisions are in the invoice's timeline)."""
    query = sa.select(Transfer).where(Transfer.connection_id.in_(list(connections) or [-1]), latest())
    if filters.company:
        query = query.where(Transfer.connection_id.in_(
            [c.id for c in connections.values() if c.company_id == filters.company] or [-1]))
    if filters.state:
        query = query.where(Transfer.state == filters.state)
    if filters.date_from:  # days in the configured zone (MAVENTA_TIMEZONE), as the page shows times
        query = query.where(Transfer.created_at >= utc_day(filters.date_from))
    if filters.date_to:  # through the end of that day (no "+ 1 day": 9999-12-31 has no next day)
        query = query.where(Transfer.created_at <= utc_day(filters.date_to, end=True))
    if filters.number:
        number = filters.number.strip()
        query = query.where(sa.or_(Transfer.invoice_number.contains(number, autoescape=True),
                                   Transfer.invoice_id == number))
    return current_state().session.scalars(query.order_by(Transfer.id.desc()).limit(PAGE_SIZE)).all()


@dataclass(frozen=True)
class Timeline:
    connection: Connection
    transfers: Sequence[Transfer]
    events: Sequence[Event]


def timeline(connection_id: int, invoice_id: str) -> Timeline | None:
    """Every revision of one invoice and their events, or None when it is not the user's to see."""
    connection = managed_connections().get(connection_id)
    if connection is None:
        return None
    session = current_state().session
    revisions = session.scalars(sa.select(Transfer).where(
        Transfer.connection_id == connection_id, Transfer.invoice_id == invoice_id).order_by(Transfer.revision)).all()
    if not revisions:
        return None
    events = session.scalars(sa.select(Event).where(
        Event.transfer_id.in_([t.id for t in revisions])).order_by(Event.created_at, Event.id)).all()
    return Timeline(connection, revisions, events)


def _transfer_id(raw: str) -> int | None:
    """A posted id as a row id, or None: only ASCII digits, and within the column's range."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        return None
    return int(raw)


def retry(raw_ids: Sequence[str], connections: Mapping[int, Connection]) -> list[tuple[str, str]]:
    """Retry the failed transfers the user posted (at most :data:`PAGE_SIZE`): ``(kind, message)`` for each."""
    state = current_state()
    if not raw_ids:
        return [("error", gettext("Choose at least one failed transfer to retry."))]
    messages = []
    for raw in raw_ids[:PAGE_SIZE]:
        transfer_id = _transfer_id(raw)
        item = state.session.get(Transfer, transfer_id) if transfer_id is not None else None
        if item is None or item.connection_id not in connections:
            messages.append(("error", gettext("Transfer %(id)s does not exist.", id=raw[:20])))
            continue
        try:
            new = transfer.retry(item, actor=state.adapter.current_actor())
        except transfer.RetryRefused as exc:
            state.session.rollback()
            messages.append(("error", str(exc)))
        else:
            messages.append(("success", gettext(
                "Invoice %(number)s is queued again (revision %(r)s).",
                number=new.invoice_number or new.invoice_id, r=new.revision)))
    return messages


def _duration(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return gettext("%(n)s min", n=minutes)
    return gettext("%(n)s h", n=minutes // 60)


def runtime_warnings() -> list[tuple[str, str]]:
    """``(kind, text)`` for every process kind none of which is alive: nothing moves without them."""
    found = heartbeat.health(current_state().session)
    texts: dict[str, tuple[str, Callable[[str], str]]] = {
        heartbeat.WORKER: (
            gettext("No worker has ever run, so no invoice is being sent. Start `flask maventa worker`."),
            lambda d: gettext("No worker has been alive for %(duration)s, so no invoice is being sent. "
                              "Start `flask maventa worker` again.", duration=d)),
        heartbeat.SCHEDULER: (
            gettext("No scheduler has ever run, so due invoices are not picked up. Start `flask maventa scheduler`."),
            lambda d: gettext("No scheduler has been alive for %(duration)s, so due invoices are not picked up. "
                              "Start `flask maventa scheduler` again.", duration=d)),
    }
    warnings = []
    for kind, (never, silent) in texts.items():
        health = found[kind]
        if not health.alive:
            silent_for = health.silent_for
            warnings.append((kind, never if health.last_seen is None or silent_for is None
                             else silent(_duration(silent_for))))
    return warnings


def counters(connection_ids: Sequence[int]) -> dict[str, int]:
    return transfer.counters(list(connection_ids))
