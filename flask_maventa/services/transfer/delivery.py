"""Delivery status: read each accepted invoice from Maventa until it is delivered or failed.

    accepted ──DELIVERED──▶ delivered
        └─────FAILED──────▶ failed (Maventa's action message is the reason)

Reads are due at ``next_poll_at`` (MAVENTA_POLL_SCHEDULE backoff); a webhook only makes one due now.
A worker claims due reads by moving ``next_poll_at`` a lease ahead, so two workers never read the same
invoice at once; reads are harmless to repeat, so a claim lost with its worker is simply due again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa

from ...client import errors as maventa_errors
from ...client.api import ROUTES
from ...document.markers import N_
from ...infra import counters as metrics
from ...infra import heartbeat, signals
from ...infra.models import Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_, joined
from ..maventa_errors import quoted
from . import dispatch as dispatching
from .claiming import detached, with_connection
from .failures import fail
from .recording import send_signal, short_answer
from .states import (
    ACCEPTED,
    DELIVERED,
    TABLE,
    Note,
    Outcome,
    backoff,
    cfg,
    commit_retrying,
    log_step,
    request_slot,
    serialized,
    transition,
)

_POLL_DUE = sa.and_(TABLE.c.state == ACCEPTED, TABLE.c.next_poll_at <= sa.bindparam("now"))
_DUE_READS = sa.select(TABLE.c.id).where(_POLL_DUE).order_by(TABLE.c.next_poll_at).limit(sa.bindparam("limit"))
_DUE_READS_LOCKED = _DUE_READS.with_for_update(skip_locked=True)
_CLAIM_READS = (TABLE.update().where(TABLE.c.id.in_(sa.bindparam("ids", expanding=True)), _POLL_DUE)
                .values(next_poll_at=sa.bindparam("hold"), claimed_by=sa.bindparam("claimer")))


def claim_polls(limit: int) -> list[tuple[Transfer]]:
    """Take up to ``limit`` due status reads for this process, most overdue first; one transaction.

    The transfers come loaded with their connections, detached, as :func:`.claiming.claim_batch` gives
    sends: :func:`poll_claimed` reads each without a query of its own."""
    session = current_maventa().session
    dialect = session.get_bind().dialect
    with serialized(session):
        now = utcnow()
        ids = list(session.scalars(_DUE_READS_LOCKED if dialect.name == "postgresql" else _DUE_READS,
                                   {"now": now, "limit": limit}))
        if not ids:
            session.commit()
            return []
        params = {"now": now, "hold": now + timedelta(seconds=float(cfg("MAVENTA_LEASE_SECONDS"))),
                  "claimer": heartbeat.current_id()}
        if dialect.update_returning:
            got = list(session.scalars(_CLAIM_READS.returning(TABLE.c.id), {**params, "ids": ids}))
        else:
            got = [i for i in ids if cast("sa.CursorResult[Any]", session.execute(
                _CLAIM_READS, {**params, "ids": [i]})).rowcount == 1]
        transfers = detached(session, got) if got else []
        session.commit()
    return [(transfer,) for transfer in transfers]


def poll(transfer_id: int) -> Outcome:
    """Read an accepted invoice's status from Maventa: delivered, failed, or ask again later.

    Runs for accepted transfers even when the connection has been deactivated since.
    """
    transfer = current_maventa().session.get(Transfer, transfer_id, options=with_connection())
    if transfer is None or transfer.state != ACCEPTED:
        return Outcome("skipped", "not accepted")
    return _read_status(transfer)


def poll_claimed(transfer: Transfer) -> Outcome:
    """The read :func:`claim_polls` gave this process (runs in a worker thread), on the transfer as it was
    loaded, detached: nothing in a read attaches it to a session (every write is a statement by id)."""
    if transfer.state != ACCEPTED:
        return Outcome("skipped", "not accepted")
    return _read_status(transfer)


def _read_status(transfer: Transfer) -> Outcome:
    ext = current_maventa()
    session = ext.session
    schedule = cfg("MAVENTA_POLL_SCHEDULE")
    try:
        company = ext.company_client(transfer.connection)
        with request_slot(session):
            answer = company.get_invoice(transfer.maventa_invoice_id or transfer.maventa_uuid)
    except (maventa_errors.MaventaError, ValueError) as exc:
        return _read_failed(transfer, exc)
    status = str(answer.get("status") or "").upper()
    if status == "DELIVERED":
        return _delivered(transfer, answer)
    if status == "FAILED":
        return _maventa_failed(transfer, company, answer)
    count = transfer.poll_count + 1
    delay = backoff(schedule, count + 1)
    commit_retrying(session, lambda: transition(
        session, transfer, [ACCEPTED], poll_count=count, maventa_status=status or None, claimed_by=None,
        next_poll_at=utcnow() + timedelta(seconds=delay)), what="poll")
    return Outcome(ACCEPTED, status)


def _read_failed(transfer: Transfer, error: Exception) -> Outcome:
    """The status could not be read: ask again later, on the poll schedule (at least Retry-After)."""
    session = current_maventa().session
    delay = backoff(cfg("MAVENTA_POLL_SCHEDULE"), transfer.poll_count + 1, getattr(error, "retry_after", None))
    status = getattr(error, "status", None)

    def write() -> None:
        if transition(session, transfer, [ACCEPTED], notes=[Note("transfer.poll_error", str(error), status)],
                      poll_count=transfer.poll_count + 1, claimed_by=None,
                      next_poll_at=utcnow() + timedelta(seconds=delay)):
            log_step(transfer, "poll_error", error=type(error).__name__, http_status=status)

    commit_retrying(session, write, what="poll error")
    return Outcome(ACCEPTED, str(error))


def _delivered(transfer: Transfer, answer: Mapping[str, Any]) -> Outcome:
    session = current_maventa().session
    message = T_("Maventa delivered the invoice.")

    def write() -> bool:
        note = Note("transfer.delivered", message, 200, {"response": short_answer(answer)})
        if not transition(session, transfer, [ACCEPTED], notes=[note], state=DELIVERED, maventa_status="DELIVERED",
                          next_poll_at=None, claimed_by=None, finished_at=utcnow(),
                          route=route_of(answer.get("destination")) or transfer.route):
            return False
        log_step(transfer, "delivered")
        return True

    if not commit_retrying(session, write, what="delivered"):
        return Outcome("skipped", "already moved on")
    metrics.step("delivered")
    send_signal(signals.transfer_delivered, transfer)
    return Outcome(DELIVERED)


def route_of(channel: str | None) -> str | None:
    """Our route name in a Maventa channel or destination text (``EINVOICE``, ``EMAIL``, ``PRINT``)."""
    text = str(channel or "").lower()
    return next((route for route in ROUTES if route in text), None)


def _maventa_failed(transfer: Transfer, company: Any, answer: Mapping[str, Any]) -> Outcome:
    """Maventa could not deliver, or its own validation refused the invoice: its action says which."""
    from ...client.actions import failure_of

    try:
        with request_slot(current_maventa().session):
            actions = company.invoice_actions(transfer.maventa_invoice_id or transfer.maventa_uuid)
    except maventa_errors.TransientError as exc:  # the reason is worth waiting for: read again later
        return _read_failed(transfer, exc)
    except maventa_errors.MaventaError:
        actions = []
    failure = failure_of(actions)
    said = [quoted(failure.message)] if failure.message else []
    data = {"response": short_answer(answer), "actions": actions[-5:] if actions else [], "rule": failure.rule}
    values = {"route": route_of(failure.channel), "maventa_status": "FAILED"}  # the route Maventa failed on
    if failure.validation:
        refused = joined([T_("Maventa's own validation refused the invoice."), *said])
        return fail(transfer, "MAVENTA_INVALID", refused, N_(
            "Maventa accepted the invoice but its own validation refused it; the message names the rule. "
            "Correct the invoice in the ERP as the rule says, then retry."), data=data, values=values)
    return fail(transfer, "MAVENTA_FAILED", joined([T_("Maventa could not deliver the invoice."), *said]), N_(
        "Check the customer's e-invoice address, email and postal address on the customer card, then retry."),
        data=data, values=values)


def hint_reread(transfer: Transfer) -> None:
    """A webhook said something happened: read the invoice again soon (now, through the queue)."""
    session = current_maventa().session
    commit_retrying(session, lambda: transition(session, transfer, [ACCEPTED], next_poll_at=utcnow()),
                    what="webhook hint")
    dispatching.try_dispatch(dispatching.POLL)
