"""Periodic tasks shared by every scheduler: a task's turn is taken with a conditional UPDATE.

``take("sweep", 60, me)`` is True for exactly one scheduler per 60-second interval, on any number of
hosts, with only the database in common (no Redis: the sweep must run while Redis is down). A run holds
its slot until :func:`release` (or until ``hold`` seconds pass, if its scheduler died mid-run), so a
slow run never overlaps the next.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa

from ..infra.models import Slot, utcnow
from ..infra.state import current_state


def take(name: str, interval: float, holder: str, *, hold: float) -> bool:
    session = current_state().session
    now = utcnow()
    if session.get(Slot, name) is None:
        try:
            session.add(Slot(name=name, next_run_at=now, runs=0))
            session.commit()
        except sa.exc.IntegrityError:  # another scheduler made it a moment ago
            session.rollback()
    taken = cast("sa.CursorResult[Any]", session.execute(  # an UPDATE's result counts its rows
        sa.update(Slot)
        .where(Slot.name == name, Slot.next_run_at <= now,
               sa.or_(Slot.running_until.is_(None), Slot.running_until < now))
        .values(next_run_at=now + timedelta(seconds=interval), running_until=now + timedelta(seconds=hold),
                holder=holder, runs=Slot.runs + 1)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    session.commit()
    return taken


def release(name: str, holder: str) -> None:
    session = current_state().session
    session.execute(sa.update(Slot).where(Slot.name == name, Slot.holder == holder)
                    .values(running_until=None).execution_options(synchronize_session=False))
    session.commit()
