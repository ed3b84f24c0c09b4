"""Read-only questions about the transfers, for the pages, ``doctor`` and the metrics.

Counts are per invoice: its latest revision. A failed revision that was retried is history (the
invoice's timeline shows it), not a failed invoice.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa

from ...infra.models import Connection, Transfer, utcnow
from ...infra.state import current_state as current_maventa
from .states import ACCEPTED, DELIVERED, FAILED, IN_DOUBT, OPEN_STATES, QUEUED, SENDING, STATES, cfg, due


@functools.cache
def latest() -> sa.ColumnElement[bool]:
    """The transfer is its invoice's latest revision (no retry has superseded it). Built once: an expression is
    immutable, and building the aliased comparison anew cost ~2 ms per page."""
    newer = Transfer.__table__.alias("newer")
    return ~sa.exists().where(newer.c.connection_id == Transfer.connection_id,
                              newer.c.invoice_id == Transfer.invoice_id, newer.c.revision > Transfer.revision)


def state_counts(connection_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Invoices per state of their latest revision (every state present, zero included)."""
    query = sa.select(Transfer.state, sa.func.count()).where(latest()).group_by(Transfer.state)
    if connection_ids is not None:
        query = query.where(Transfer.connection_id.in_(list(connection_ids)))
    found = dict(current_maventa().session.execute(query).all())
    return {state: int(found.get(state, 0)) for state in STATES}


def stuck_count(connection_ids: Iterable[int] | None = None) -> int:
    """Invoices whose latest revision Maventa has not accepted MAVENTA_STUCK_MINUTES after it was created."""
    query = sa.select(sa.func.count()).select_from(Transfer).where(
        Transfer.state.in_(OPEN_STATES), latest(),
        Transfer.created_at < utcnow() - timedelta(minutes=int(cfg("MAVENTA_STUCK_MINUTES"))))
    if connection_ids is not None:
        query = query.where(Transfer.connection_id.in_(list(connection_ids)))
    return int(current_maventa().session.scalar(query) or 0)


def oldest_due_age() -> float:
    """Seconds the oldest due (queued or in-doubt, next attempt come) transfer has existed; 0 when none."""
    now = utcnow()
    oldest = current_maventa().session.scalar(sa.select(sa.func.min(Transfer.created_at)).where(due(now)))
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def counters(connection_ids: Iterable[int] | None = None) -> dict[str, int]:
    """queued / sending / accepted / delivered / failed / stuck (open longer than MAVENTA_STUCK_MINUTES)."""
    ids = None if connection_ids is None else list(connection_ids)
    by_state = state_counts(ids)
    return {
        "queued": by_state[QUEUED] + by_state[IN_DOUBT],
        "sending": by_state[SENDING],
        "accepted": by_state[ACCEPTED],
        "delivered": by_state[DELIVERED],
        "failed": by_state[FAILED],
        "stuck": stuck_count(ids),
    }


def in_flight_count(connection: Connection) -> int:
    """Transfers of ``connection`` that may have reached Maventa and are not settled yet (sending, in doubt):
    only the Maventa company they went to can say whether it has them."""
    return int(current_maventa().session.scalar(
        sa.select(sa.func.count()).select_from(Transfer)
        .where(Transfer.connection_id == connection.id, Transfer.state.in_([SENDING, IN_DOUBT]))) or 0)
