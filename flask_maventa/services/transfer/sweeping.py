"""The sweep: one ``maventa_transfer`` row per due invoice, created set-based, and sending started at once.

Per active connection the host is asked for the ids in the transfer status (an indexed query, its
cost independent of the size of the host's invoice table); ids we already have a transfer for are
skipped; the rest are inserted in batches, each with its events in one transaction (``INSERT … ON
CONFLICT DO NOTHING RETURNING``: a concurrent sweep cannot make a twin), and workers are woken after
each batch. The first batch is small and the next ones double up to MAVENTA_SWEEP_BATCH, so the first
invoices are on their way within milliseconds while the sweep goes on.
Every due invoice is taken in one sweep, however many there are.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ...host import HOST_ID_LENGTH, storable_id
from ...infra import audit, signals
from ...infra.models import Connection, DbSession, Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_, english, joined, stored
from ..settings import transfer_blockers as settings_blockers
from ..webhooks import ensure_webhook
from . import dispatch as dispatching
from .recording import send_signal
from .states import QUEUED, TABLE, cfg, commit_retrying, uuid_for

log = logging.getLogger("flask_maventa.transfer")
SQLITE_GAP = 0.03  # seconds between the sweep's transactions on SQLite, so workers can start meanwhile


@dataclass
class SweepResult:
    created: list[int] = field(default_factory=list)
    dispatched: int = 0  # send jobs enqueued
    blocked: dict[str, str] = field(default_factory=dict)  # company id -> reason
    expired_leases: int = 0
    redis_error: str | None = None
    unstorable: int = 0  # due invoices whose host id we cannot keep (see host.storable_id), left alone


def transfer_blockers(connection: Connection) -> list[str]:
    """Why this connection may not send now (empty: it may), in the current locale; the rules live in the
    settings module."""
    return list(dict.fromkeys(str(problem.message) for problem in settings_blockers(connection)))


def _blocker_messages(connection: Connection) -> list[Any]:
    """The same, untranslated (each once)."""
    found = {repr(text): text for problem in settings_blockers(connection) if (text := problem.text(hint=False))}
    return list(found.values())


def sweep(*, dispatch: bool = True) -> SweepResult:
    """Create transfers for every due invoice of every active connection, waking workers as they appear.

    Also hands back the work of stopped workers (:func:`dispatching.expire_leases`), as the scheduler does
    between sweeps.
    """
    session = current_maventa().session
    result = SweepResult()
    sizes = _batch_sizes()
    for connection in session.scalars(sa.select(Connection).where(Connection.active.is_(True))).all():
        _sweep_connection(connection, result, dispatch, sizes)
    result.expired_leases = dispatching.expire_leases()
    if dispatch:
        _wake_workers(result)  # in-doubt and retried transfers are due too
    _signal_created(session, result.created)
    return result


def _wake_workers(result: SweepResult) -> None:
    if result.redis_error is not None:
        return  # tried once this sweep; the scheduler's next dispatch tries again
    try:
        result.dispatched += dispatching.dispatch(dispatching.SEND)
    except Exception as exc:  # noqa: BLE001 - Redis down: rows stay queued, the scheduler dispatches them
        result.redis_error = f"{type(exc).__name__}: {exc}"
        log.warning("sweep could not dispatch jobs (%s); the transfers stay queued", type(exc).__name__)


def _batch_sizes() -> Iterator[int]:
    """Rows per transaction: small at first, so workers get the first invoices at once, then doubling up to
    MAVENTA_SWEEP_BATCH, so a large backlog costs few commits."""
    size, batch = 2 * int(cfg("MAVENTA_SEND_CONCURRENCY")), int(cfg("MAVENTA_SWEEP_BATCH"))
    while True:
        yield min(size, batch)
        size *= 2


def _sweep_connection(connection: Connection, result: SweepResult, dispatch_jobs: bool,
                      sizes: Iterator[int]) -> None:
    """One company's part of the sweep: record why it may not send, or create its due transfers."""
    ext = current_maventa()
    session = ext.session
    blockers = _blocker_messages(connection)
    blocked = joined(blockers) if blockers else None
    reason = english(blocked) or None  # stored untranslated; the English in blocked_reason, for logs
    if connection.blocked_reason != reason or (blocked is not None and connection.blocked is None):
        connection.blocked_reason, connection.blocked = reason, blocked
        if blocked is not None:
            audit.record(session, "transfer.blocked", blocked, connection=connection)
        session.commit()
    if reason:
        result.blocked[connection.company_id] = reason
        return
    ensure_webhook(connection)
    batch = int(cfg("MAVENTA_SWEEP_BATCH"))
    limit, seen = batch, set()
    while True:
        # The host lists at most `limit` ids; invoices already on their way still count against it, so ask
        # for more until the host has no more to give (each round re-reads at most as many as before).
        ids = [str(i) for i in ext.adapter.list_invoice_ids(connection.company_id, connection.transfer_status_id or "",
                                                            limit)]
        fresh = [i for i in dict.fromkeys(ids) if i not in seen]
        seen.update(fresh)
        fresh = _storable(connection, fresh, result)
        start = 0
        while start < len(fresh):
            size = next(sizes)
            created = create_transfers(session, connection, fresh[start:start + size])
            start += size
            result.created += created
            if created and dispatch_jobs:
                _wake_workers(result)
                if session.get_bind().dialect.name == "sqlite":
                    # One writer at a time, and a waiting worker only polls for the lock: leave it a gap.
                    time.sleep(SQLITE_GAP)
        if len(ids) < limit:
            return
        limit *= 2


def _storable(connection: Connection, invoice_ids: list[str], result: SweepResult) -> list[str]:
    """The ids our table can hold; the others are named in the log on every sweep, and nothing else of the
    company's stops for them (one bad id must not hold back every other invoice's transfer)."""
    good = []
    for invoice_id in invoice_ids:
        if storable_id(invoice_id):
            good.append(invoice_id)
            continue
        result.unstorable += 1
        log.error("step=sweep_skip company=%s invoice_id=%r: the host's invoice id is longer than %d characters "
                  "or holds a NUL; it cannot be sent until the ERP gives it a shorter id",
                  connection.company_id, invoice_id[:80], HOST_ID_LENGTH)
    return good


def create_transfers(session: DbSession, connection: Connection, invoice_ids: list[str]) -> list[int]:
    """One queued transfer (revision 1) per invoice that has none yet, with its event; one transaction.

    Whatever state an invoice's latest revision is in, the invoice has been handled: a failed one comes
    back only through "retry after a fix" (a new revision), never on its own.
    """
    if not invoice_ids:
        return []
    connection_id, company_uuid = connection.id, connection.company_uuid
    known = set(session.scalars(sa.select(Transfer.invoice_id).where(
        Transfer.connection_id == connection_id, Transfer.invoice_id.in_(invoice_ids))))
    now = utcnow()
    rows = [{"connection_id": connection_id, "invoice_id": invoice_id, "revision": 1, "state": QUEUED,
             "maventa_uuid": uuid_for(connection_id, company_uuid, invoice_id, 1), "attempts": 0, "poll_count": 0,
             "created_at": now, "updated_at": now}
            for invoice_id in invoice_ids if invoice_id not in known]
    if not rows:
        return []
    message = T_("Queued for Maventa.")

    def write() -> list[int]:
        if session.get_bind().dialect.name == "postgresql":
            return _queue_on_postgresql(session, connection_id, rows, message, now)
        uuids = {row["invoice_id"]: row["maventa_uuid"] for row in rows}
        inserted = _insert_new(session, rows)
        audit.record_many(session, [
            {"kind": "transfer.queued", "message": message, "connection_id": connection_id,
             "transfer_id": transfer_id, "data": {"revision": 1, "uuid": uuids[invoice_id]}, "created_at": now}
            for transfer_id, invoice_id in inserted])
        return [transfer_id for transfer_id, _ in inserted]

    return sorted(commit_retrying(session, write, what="sweep"))


def _queue_on_postgresql(session: DbSession, connection_id: int, rows: list[dict[str, Any]], message: Any,
                         now: Any) -> list[int]:
    """The rows a concurrent sweep has not inserted, and their "queued" events, in one statement; their ids.

    Its text is the same for any number of rows (the invoices and uuids go as two arrays), so psycopg and
    SQLAlchemy convert and compile it once: a multi-row VALUES list is a new, long text for every batch
    size, which psycopg parses again each time (that and the events' executemany were ~60 % of a sweep)."""
    return list(session.scalars(_queue_statement(), {
        "connection_id": connection_id, "now": now, "message": english(message), "text": stored(message),
        "invoice_ids": [row["invoice_id"] for row in rows], "uuids": [row["maventa_uuid"] for row in rows]}))


@functools.cache
def _queue_statement() -> sa.Insert:
    given = sa.func.unnest(sa.bindparam("invoice_ids", type_=postgresql.ARRAY(sa.String)),
                           sa.bindparam("uuids", type_=postgresql.ARRAY(sa.String))).table_valued(
        sa.column("invoice_id", sa.String), sa.column("uuid", sa.String)).render_derived(name="given")
    connection_id = sa.bindparam("connection_id", type_=TABLE.c.connection_id.type)
    now = sa.bindparam("now", type_=TABLE.c.created_at.type)
    new = (postgresql.insert(TABLE)
           .from_select(["connection_id", "invoice_id", "revision", "state", "maventa_uuid", "attempts", "poll_count",
                         "created_at", "updated_at"],
                        sa.select(connection_id, given.c.invoice_id, sa.literal(1), sa.literal(QUEUED), given.c.uuid,
                                  sa.literal(0), sa.literal(0), now, now))
           .on_conflict_do_nothing()
           .returning(TABLE.c.id, TABLE.c.maventa_uuid)
           .cte("new"))
    # The event's text goes through its column's scrubbing type; its data is built from our own revision
    # and uuid, which hold no secret.
    return (audit.EVENTS.insert()
            .from_select(["kind", "message", "text", "connection_id", "transfer_id", "data", "created_at"],
                         sa.select(sa.literal("transfer.queued"),
                                   sa.bindparam("message", type_=audit.EVENTS.c.message.type),
                                   sa.bindparam("text", type_=audit.EVENTS.c.text.type), connection_id, new.c.id,
                                   sa.func.json_build_object("revision", 1, "uuid", new.c.maventa_uuid), now))
            .returning(audit.EVENTS.c.transfer_id))


def _insert_new(session: DbSession, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Insert the rows a concurrent sweep has not; ``(id, invoice_id)`` of those inserted."""
    table = TABLE
    dialect = session.get_bind().dialect
    if dialect.name in ("postgresql", "sqlite") and dialect.insert_executemany_returning:
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.invoice_id)
        return [(row.id, row.invoice_id) for row in session.execute(statement, rows)]
    inserted = []  # other databases: row by row, the unique constraint refusing a twin
    for row in rows:
        try:
            with session.begin_nested():
                transfer_id = session.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one()
        except IntegrityError:
            continue
        inserted.append((transfer_id, row["invoice_id"]))
    return inserted


def _signal_created(session: DbSession, transfer_ids: list[int]) -> None:
    if not transfer_ids or not signals.transfer_queued.receivers:
        return  # loading every row only to tell nobody would be most of the sweep's cost
    for start in range(0, len(transfer_ids), 500):
        for transfer in session.scalars(sa.select(Transfer).where(Transfer.id.in_(transfer_ids[start:start + 500]))):
            send_signal(signals.transfer_queued, transfer)
