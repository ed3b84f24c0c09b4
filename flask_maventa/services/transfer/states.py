"""The transfer states and the few rules every step follows.

- Every state change is a conditional ``UPDATE … WHERE state IN (…)`` checked by its rowcount
  (:func:`transition`), so two workers, a worker and a webhook, or a worker and the scheduler can
  never both act on one transfer -- on SQLite and PostgreSQL alike.
- A step's writes (our row, the host's status, the event) are committed together by
  :func:`commit_retrying`, which runs them again at once after a transient database error (SQLite's
  ``database is locked``, a PostgreSQL serialization failure or deadlock): an answer Maventa gave is
  recorded now, not left for the lease to expire.
- Every step writes one structured log line (:func:`log_step`): ids, state, attempt, duration; never a
  secret, never a document.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import attributes, scoped_session

from ...infra.models import Connection, DbSession, Transfer, utcnow

log = logging.getLogger("flask_maventa.transfer")

QUEUED, SENDING, IN_DOUBT, ACCEPTED, DELIVERED, FAILED = (
    "queued", "sending", "in_doubt", "accepted", "delivered", "failed")
STATES = (QUEUED, SENDING, IN_DOUBT, ACCEPTED, DELIVERED, FAILED)
OPEN_STATES = (QUEUED, SENDING, IN_DOUBT)  # not yet accepted by Maventa
FINAL_STATES = (DELIVERED, FAILED)

# Our invoice UUIDs live in their own namespace, so they never collide with anyone else's uuid5.
UUID_NAMESPACE = uuidlib.UUID("5c0b3a52-8d0e-4f55-9a51-6d6176656e74")

T = TypeVar("T")
# Core statements on the table skip the ORM's per-statement work (autoflush, bulk plugin).
TABLE = cast(sa.Table, Transfer.__table__)


class RetryRefused(ValueError):
    """A retry was asked for a transfer that is not failed (or not the invoice's latest revision)."""


@dataclass(frozen=True)
class Outcome:
    state: str
    detail: str = ""


@dataclass(frozen=True)
class Note:
    """An event of a transfer's timeline, written in the same transaction as the step it describes."""

    kind: str
    message: Any  # a Msg (translated when read), or plain text nobody translates (see infra/texts.py)
    http_status: int | None = None
    data: dict[str, Any] | None = None
    at: Any = None  # default: now


def write_notes(session: DbSession, transfer: Transfer, *notes: Note) -> None:
    """The events, in one statement (Core, through the audit module's scrubbing)."""
    from ...infra import audit

    audit.record_many(session, _event_dicts(transfer, notes))


def _event_dicts(transfer: Transfer, notes: Iterable[Note]) -> list[dict[str, Any]]:
    return [{"kind": n.kind, "message": n.message, "http_status": n.http_status, "data": n.data, "created_at": n.at,
             "connection_id": transfer.connection_id, "transfer_id": transfer.id} for n in notes]


def maventa_uuid(connection: Connection, invoice_id: str, revision: int) -> str:
    """Our own invoice UUID for one revision of one invoice of one connection.

    Every attempt of a revision sends the same UUID, so Maventa can never create the invoice twice;
    a retry after a fix is a new revision and so a new UUID.
    """
    return uuid_for(connection.id, connection.company_uuid, invoice_id, revision)


def uuid_for(connection_id: int, company_uuid: str | None, invoice_id: str, revision: int) -> str:
    name = f"{connection_id}/{company_uuid or ''}/{invoice_id}/{revision}"
    return str(uuidlib.uuid5(UUID_NAMESPACE, name))


def cfg(key: str) -> Any:
    return current_app.config[key]


def backoff(schedule: Iterable[float], attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the schedule's step, at least ``Retry-After``."""
    steps = list(schedule)
    delay = float(steps[min(max(attempt - 1, 0), len(steps) - 1)])
    return max(delay, float(retry_after or 0))


def due(now: Any) -> sa.ColumnElement[bool]:
    """A queued or in-doubt transfer whose next attempt has come."""
    return sa.and_(Transfer.state.in_([QUEUED, IN_DOUBT]),
                   sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now))


def poll_due(now: Any) -> sa.ColumnElement[bool]:
    """An accepted transfer whose next delivery-status read has come."""
    return sa.and_(Transfer.state == ACCEPTED, Transfer.next_poll_at <= now)


# Built once per set of states it moves out of (plain comparisons: an IN list would be rendered again on
# every execution); the SET clause comes from the parameters' column names, so one statement (and one
# cached compilation per set of columns) serves every transition from there.
@functools.cache
def _transition_from(states: tuple[str, ...]) -> sa.Update:
    return TABLE.update().where(TABLE.c.id == sa.bindparam("_id"), sa.or_(*(TABLE.c.state == s for s in states)))


# What an event row takes from its note; its connection and transfer come from the moved row.
_NOTE_COLUMNS = ("kind", "message", "text", "actor", "http_status", "data", "created_at")


@functools.cache
def _transition_noted(states: tuple[str, ...], columns: tuple[str, ...], notes: int) -> sa.Insert:
    """PostgreSQL: the transition and its ``notes`` events in one statement (a data-modifying CTE), so one
    round trip less per step; the events are inserted only if the row moved. Built once per shape."""
    from ...infra.audit import EVENTS

    moved = (_transition_from(states).values({c: sa.bindparam(f"_v_{c}", type_=TABLE.c[c].type) for c in columns})
             .returning(TABLE.c.id, TABLE.c.connection_id).cte("moved"))
    # Typed casts: PostgreSQL cannot infer a parameter's type from an INSERT's SELECT list.
    rows = [sa.select(*(sa.cast(sa.bindparam(f"_e{i}_{c}", type_=EVENTS.c[c].type), EVENTS.c[c].type)
                        for c in _NOTE_COLUMNS), moved.c.connection_id, moved.c.id)
            for i in range(notes)]
    return (EVENTS.insert().from_select([*_NOTE_COLUMNS, "connection_id", "transfer_id"],
                                        rows[0] if notes == 1 else sa.union_all(*rows))
            .execution_options(preserve_rowcount=True))  # an INSERT's row count is not kept otherwise


def transition(session: DbSession, transfer: Transfer, from_states: Iterable[str], *, notes: Sequence[Note] = (),
               **values: Any) -> bool:
    """Move ``transfer`` out of one of ``from_states`` atomically; False if someone else moved it first.

    ``notes``: the step's events, written only if it moved, in the same transaction -- on PostgreSQL in
    the same statement (:func:`_transition_noted`).
    """
    values.setdefault("updated_at", utcnow())
    # On the session's connection, in its transaction: a Core statement needs none of the ORM's execute.
    connection = session.connection()
    if notes and connection.dialect.name == "postgresql":
        from ...infra.audit import event_rows

        params = {"_id": transfer.id, **{f"_v_{key}": value for key, value in values.items()}}
        for i, row in enumerate(event_rows(_event_dicts(transfer, notes))):
            params.update((f"_e{i}_{column}", row[column]) for column in _NOTE_COLUMNS)
        statement = _transition_noted(tuple(from_states), tuple(values), len(notes))
        if connection.execute(statement, params).rowcount != len(notes):
            return False
    else:
        if connection.execute(_transition_from(tuple(from_states)), {"_id": transfer.id, **values}).rowcount != 1:
            return False
        if notes:
            write_notes(session, transfer, *notes)
    for key, value in values.items():  # keep the loaded object in step without a reload
        attributes.set_committed_value(transfer, key, value)
    return True


# -- transient database errors -----------------------------------------------------------------------------

# SQLSTATEs worth running the same transaction again for: serialization failure, deadlock.
_RETRY_SQLSTATES = {"40001", "40P01"}
DB_RETRY_SECONDS = 60.0


def transient_db_error(exc: BaseException) -> bool:
    """A database error that the same transaction, run again, can get past."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    # SQLite's "database is locked"/"busy", a dropped connection, a server restarting.
    return isinstance(exc, sa.exc.OperationalError) or exc.connection_invalidated


_sqlite_writer = threading.Lock()
_request_slots: threading.BoundedSemaphore | None = None  # set while a batch runs (see .batch)


@contextmanager
def request_slot(session: DbSession) -> Iterator[None]:
    """Wrap every request to Maventa: a batch allows MAVENTA_SEND_CONCURRENCY of them at once, while more
    threads prepare the next documents and record the last answers.

    No database connection (on PostgreSQL, no open transaction) is held while waiting for Maventa. A
    batch task's session is its own: it is closed, and its rows stay usable, detached. Elsewhere (a send
    run in a request or a test) the session is the host's: it is committed, as any step would, and
    nothing of the host's is detached.
    """
    if g.get("maventa_own_session"):
        _release(session)
    else:
        session.commit()
    slots = _request_slots
    if slots is None:
        yield
        return
    with slots:
        yield


@contextmanager
def host_reads(session: DbSession) -> Iterator[None]:
    """Wrap the host's reads of an attempt (its invoice, its PDF): on PostgreSQL, in a batch task, they run
    with no transaction around them, on a connection in autocommit released right after.

    The reads change nothing, so a transaction only cost two round trips more (BEGIN, then the ROLLBACK
    of :func:`request_slot`'s close). Writes never see that connection: the session is closed when the
    reads end, and whatever an attempt writes next (its failure, its answer) gets a transactional one
    again. Elsewhere (SQLite reads without a BEGIN anyway; a session that is the host's, or already in a
    transaction) nothing changes.
    """
    reads_alone = (g.get("maventa_own_session") and not plain_session(session).in_transaction()
                   and session.get_bind().dialect.name == "postgresql")
    if reads_alone:
        # Procured with the option, so its pool checkin resets the isolation level (no round trip either).
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        yield
    finally:
        if reads_alone:
            _release(session)


def _release(session: DbSession) -> None:
    """Close a batch task's own session: its connection back to the pool, its rows usable, detached."""
    try:
        session.close()
    except sa.exc.DBAPIError:  # the database went away meanwhile: what comes next needs no connection
        plain_session(session).invalidate()


def plain_session(session: DbSession) -> sa.orm.Session:
    return session() if isinstance(session, scoped_session) else session


@contextmanager
def request_slots(size: int) -> Iterator[None]:
    """While the block runs, at most ``size`` requests to Maventa are in flight in this process."""
    global _request_slots
    _request_slots = threading.BoundedSemaphore(size)
    try:
        yield
    finally:
        _request_slots = None


def serialized(session: DbSession) -> AbstractContextManager[object]:
    """On SQLite, one write transaction at a time per process: threads queue here instead of in SQLite's
    busy handler, whose growing sleeps would waste most of the time. Other databases lock rows, not files."""
    return _sqlite_writer if session.get_bind().dialect.name == "sqlite" else nullcontext()


def commit_retrying(session: DbSession, write: Callable[[], T], *, what: str = "transfer step") -> T:
    """Run ``write`` and commit; after a transient database error roll back and run it again at once.

    ``write`` must do all of its work in ``session`` (conditional updates re-check the state, so a
    second run after a partial first one is harmless). Gives up after ~DB_RETRY_SECONDS; the lease
    then recovers the transfer as before.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            with serialized(session):
                value = write()
                session.commit()
            return value
        except sa.exc.DBAPIError as exc:
            session.rollback()
            attempt += 1
            if not transient_db_error(exc) or time.monotonic() - started > DB_RETRY_SECONDS:
                raise
            log.warning("step=db_retry what=%s attempt=%d error=%s", what, attempt,
                        type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
            from ...infra import counters as metrics

            metrics.DB_RETRIES.inc()
            time.sleep(min(2.0, 0.01 * 2 ** attempt) if attempt > 1 else 0)


# -- structured log lines ----------------------------------------------------------------------------------


def log_step(transfer: Transfer, step: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One line per transfer step, ``key=value``: ids and numbers only, never a secret or a document.

    The same fields go to ``record.maventa`` for a JSON log formatter. Call it before the commit that
    writes the step (a commit expires the loaded row; reading it again would cost a query).
    """
    data = {"step": step, "transfer": transfer.id, "company": transfer.connection.company_id,
            "invoice": transfer.invoice_id, "revision": transfer.revision, "state": transfer.state,
            "attempt": transfer.attempts, **{k: v for k, v in fields.items() if v is not None}}
    if log.isEnabledFor(level):
        log.log(level, " ".join(f"{key}={_logfmt(value)}" for key, value in data.items()),
                extra={"maventa": data})


def _logfmt(value: Any) -> str:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return f'"{text}"' if (" " in text or not text) else text
