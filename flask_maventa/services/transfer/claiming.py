"""Claiming due transfers for this process: one (:func:`claim`) or a batch (:func:`claim_batch`).

A claim sets a lease (MAVENTA_LEASE_SECONDS) and the claiming process's id; the scheduler turns a
claim whose lease expired, or whose process stopped beating, into ``in_doubt``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa

from ...infra import heartbeat
from ...infra.models import Transfer, utcnow
from ...infra.state import current_state as current_maventa
from .states import (
    IN_DOUBT,
    QUEUED,
    SENDING,
    TABLE,
    cfg,
    serialized,
)


def _claim_values(now: Any) -> dict[str, Any]:
    lease = now + timedelta(seconds=float(cfg("MAVENTA_LEASE_SECONDS")))
    return {"state": SENDING, "lease_until": lease, "attempts": Transfer.attempts + 1, "updated_at": now,
            "claimed_by": heartbeat.current_id()}


# The batch claim runs every few invoices: its statements are built once, with parameters.
_DUE = sa.and_(TABLE.c.state.in_([QUEUED, IN_DOUBT]),
               sa.or_(TABLE.c.next_attempt_at.is_(None), TABLE.c.next_attempt_at <= sa.bindparam("now")))
_DUE_ROWS = sa.select(TABLE.c.id, TABLE.c.state).where(_DUE).order_by(TABLE.c.id).limit(sa.bindparam("limit"))
_DUE_ROWS_LOCKED = _DUE_ROWS.with_for_update(skip_locked=True)
_CLAIM = (TABLE.update()
          .where(TABLE.c.id.in_(sa.bindparam("ids", expanding=True)), TABLE.c.state == sa.bindparam("from_state"),
                 _DUE)
          .values(state=SENDING, lease_until=sa.bindparam("lease"), attempts=TABLE.c.attempts + 1,
                  updated_at=sa.bindparam("now"), claimed_by=sa.bindparam("claimer")))
_CLAIM_RETURNING = _CLAIM.returning(TABLE.c.id)


def claim(transfer_id: int) -> tuple[Transfer | None, bool]:
    """Take one transfer for this process: ``(transfer, reconcile)``, or ``(None, False)`` if not ours.

    ``reconcile`` is True when an earlier attempt may have reached Maventa (in doubt, or a lease that
    expired): then we read the invoice by our UUID before sending anything.
    """
    session = current_maventa().session
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        return None, False
    now = utcnow()
    claimed = _claim_values(now)
    doubtful = cast("sa.CursorResult[Any]", session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id,
               sa.or_(sa.and_(Transfer.state == IN_DOUBT,
                              sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now)),
                      sa.and_(Transfer.state == SENDING, Transfer.lease_until < now)))
        .values(**claimed).execution_options(synchronize_session=False)
    )).rowcount == 1
    fresh = not doubtful and cast("sa.CursorResult[Any]", session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id, Transfer.state == QUEUED,
               sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now))
        .values(**claimed).execution_options(synchronize_session=False)
    )).rowcount == 1
    session.commit()
    if not (doubtful or fresh):
        return None, False
    session.refresh(transfer)
    return transfer, doubtful


def claim_batch(limit: int) -> list[tuple[Transfer, bool]]:
    """Take up to ``limit`` due transfers, oldest first: ``[(transfer, reconcile), ...]``; one transaction.

    On PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED``, so workers on many hosts
    take disjoint batches without waiting for each other. Elsewhere the conditional UPDATE (same state,
    still due) decides: a row another worker took a moment ago is simply not ours.

    The transfers come loaded with their connections, detached (one query for the batch instead of one
    per send); :func:`send_claimed` uses them as they are in the thread that sends each.
    """
    session = current_maventa().session
    postgres = session.get_bind().dialect.name == "postgresql"
    returning = session.get_bind().dialect.update_returning
    claimed: list[tuple[Transfer, bool]] = []
    lease = timedelta(seconds=float(cfg("MAVENTA_LEASE_SECONDS")))
    for _ in range(3):  # lost races (SQLite): look again, so a short batch means "nothing more is due"
        lost = 0
        with serialized(session):
            now = utcnow()
            rows = session.execute(_DUE_ROWS_LOCKED if postgres else _DUE_ROWS,
                                   {"now": now, "limit": limit - len(claimed)}).all()
            reconcile: dict[int, bool] = {}
            for state in (IN_DOUBT, QUEUED):
                ids = [row.id for row in rows if row.state == state]
                if not ids:
                    continue
                params = {"now": now, "lease": now + lease, "claimer": heartbeat.current_id(), "from_state": state}
                if returning:
                    got = list(session.scalars(_CLAIM_RETURNING, {**params, "ids": ids}))
                else:
                    got = [i for i in ids if cast("sa.CursorResult[Any]", session.execute(
                        _CLAIM, {**params, "ids": [i]})).rowcount == 1]
                reconcile.update((transfer_id, state == IN_DOUBT) for transfer_id in got)
                lost += len(ids) - len(got)
            if reconcile:
                claimed += [(transfer, reconcile[transfer.id]) for transfer in detached(session, list(reconcile))]
            session.commit()
        if not lost or len(claimed) >= limit:
            break
    return claimed


def detached(session: Any, ids: list[int]) -> Sequence[Transfer]:
    """The transfers ``ids`` with their connections, loaded in the claim's transaction, detached.

    A session of their own, closed at once, loads them: they come out detached, so the claiming session's
    commit cannot expire them, without expunging them one by one (each expunge walks the relationships: a
    tenth of a claim's CPU). The thread that works on one uses it as it is, with no query of its own.
    """
    with sa.orm.Session(bind=session.connection()) as loader:
        return loader.scalars(_CLAIMED, {"ids": ids}).unique().all()


@functools.cache
def with_connection() -> tuple[Any, ...]:
    """Load a transfer and its connection in one query."""
    return (sa.orm.joinedload(Transfer.connection),)


_CLAIMED = (sa.select(Transfer).options(*with_connection())
            .where(Transfer.id.in_(sa.bindparam("ids", expanding=True))).order_by(Transfer.id))
