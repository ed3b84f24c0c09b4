"""Heartbeats of workers and schedulers, in the database (``maventa_process``), not only in Redis.

Each ``flask maventa worker`` process and each ``scheduler`` writes its row every
MAVENTA_HEARTBEAT_TIMEOUT / 6 seconds from a thread of its own. The rest of the extension only reads:
the scheduler hands back the claims of a process silent for longer than MAVENTA_HEARTBEAT_TIMEOUT,
the transfer log and ``flask maventa doctor`` say when no worker or scheduler is alive, and the
metrics export each process's age.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from .models import DbSession, Process, utcnow

log = logging.getLogger("flask_maventa.heartbeat")

WORKER, SCHEDULER = "worker", "scheduler"
KINDS = (WORKER, SCHEDULER)
BEATS_PER_TIMEOUT = 6
KEEP_STOPPED = timedelta(days=7)  # rows of processes gone longer ago are deleted

_current: str | None = None  # this process's id once its heartbeat runs (claims carry it)


def current_id() -> str | None:
    """The heartbeat id of this process (a worker or scheduler), or None (the web, the CLI, tests)."""
    return _current


def _timeout() -> timedelta:
    return timedelta(seconds=float(current_app.config["MAVENTA_HEARTBEAT_TIMEOUT"]))


def dead_ids() -> sa.Select[str]:
    """Ids of processes that stopped, or stopped beating: a subquery for ``claimed_by.in_(...)``."""
    cutoff = utcnow() - _timeout()
    return sa.select(Process.id).where(sa.or_(Process.stopped_at.is_not(None), Process.seen_at < cutoff))


@dataclass(frozen=True)
class KindHealth:
    kind: str
    alive: int  # processes seen within MAVENTA_HEARTBEAT_TIMEOUT
    last_seen: datetime | None  # newest heartbeat of any process of this kind, alive or not

    @property
    def silent_for(self) -> timedelta | None:
        """How long no process of this kind has been alive (None: one is alive, or none ever ran)."""
        if self.alive or self.last_seen is None:
            return None
        return utcnow() - self.last_seen


def health(session: DbSession) -> dict[str, KindHealth]:
    """Per kind: how many are alive and when one was last seen. One small query."""
    cutoff = utcnow() - _timeout()
    alive = sa.func.sum(sa.case((sa.and_(Process.stopped_at.is_(None), Process.seen_at >= cutoff), 1), else_=0))
    rows = session.execute(sa.select(Process.kind, alive, sa.func.max(Process.seen_at)).group_by(Process.kind)).all()
    found = {kind: KindHealth(kind, int(count or 0), seen) for kind, count, seen in rows}
    return {kind: found.get(kind, KindHealth(kind, 0, None)) for kind in KINDS}


def processes(session: DbSession) -> list[Process]:
    return list(session.scalars(sa.select(Process).order_by(Process.kind, Process.hostname, Process.pid)))


class Heartbeat:
    """Writes this process's row now and then every interval from a daemon thread, until ``stop()``.

    ``on_beat`` runs after each beat in the same thread (the worker uses it to notice a parent that died).
    """

    def __init__(self, app: Flask, kind: str, *, queues: str | None = None, concurrency: int = 0,
                 on_beat: Callable[[], None] | None = None) -> None:
        self.app = app
        self.kind = kind
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:128]
        self.queues = queues
        self.concurrency = concurrency
        self.on_beat = on_beat
        self.interval = float(app.config["MAVENTA_HEARTBEAT_TIMEOUT"]) / BEATS_PER_TIMEOUT
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        global _current
        _current = self.id
        self.beat()
        self._thread = threading.Thread(target=self._run, name=f"maventa-heartbeat-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()
            if self.on_beat is not None:
                self.on_beat()

    def beat(self) -> bool:
        """Write the row; a database that does not answer is logged and tried again next time."""
        with self.app.app_context():
            session = self.app.extensions["maventa"].session
            try:
                now = utcnow()
                updated = session.execute(
                    sa.update(Process).where(Process.id == self.id).values(seen_at=now)).rowcount
                if not updated:
                    session.add(Process(id=self.id, kind=self.kind, hostname=socket.gethostname()[:255],
                                        pid=os.getpid(), queues=self.queues, concurrency=self.concurrency,
                                        started_at=now, seen_at=now))
                session.execute(sa.delete(Process).where(Process.seen_at < now - KEEP_STOPPED))
                session.commit()
                return True
            except sa.exc.SQLAlchemyError as exc:
                session.rollback()
                log.warning("heartbeat of %s %s not written: %s", self.kind, self.id, type(exc).__name__)
                return False

    def stop(self) -> None:
        """A clean exit: the row says so, and the process is no longer counted as alive."""
        global _current
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.app.app_context():
            session = self.app.extensions["maventa"].session
            try:
                session.execute(sa.update(Process).where(Process.id == self.id).values(stopped_at=utcnow()))
                session.commit()
            except sa.exc.SQLAlchemyError:
                session.rollback()
        if _current == self.id:
            _current = None
