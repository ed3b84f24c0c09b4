"""Who works on what, and when: lease expiry, and waking workers through Redis.

Redis holds no state we need. A job says only "there is work"; the database says which work
(:func:`send.claim_batch` takes due rows itself), so a Redis restarted empty loses nothing: the
scheduler's next dispatch (every MAVENTA_DISPATCH_INTERVAL) enqueues jobs again for whatever is due.

Three queues, so a burst of one kind never starves another: ``<MAVENTA_QUEUE>-send`` (uploads),
``<MAVENTA_QUEUE>-poll`` (delivery-status reads) and ``<MAVENTA_QUEUE>`` (the signing poll).
"""

from __future__ import annotations

import logging
import math

import sqlalchemy as sa
from rq import Queue

from ...infra import audit, heartbeat
from ...infra import counters as metrics
from ...infra.models import Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_
from .states import ACCEPTED, IN_DOUBT, SENDING, cfg, commit_retrying, due, log_step, poll_due, transition

log = logging.getLogger("flask_maventa.transfer")

SEND, POLL = "send", "poll"
JOBS = {SEND: "flask_maventa.runtime.jobs.send_due", POLL: "flask_maventa.runtime.jobs.poll_due"}
JOB_SECONDS = 60.0  # a job stops claiming after this long and hands over, so other queues get a turn
COUNT_CAP = 100_000  # counting due rows stops here: enough to size the jobs, cheap on a huge backlog


def queue_name(kind: str | None = None) -> str:
    base = cfg("MAVENTA_QUEUE")
    return base if kind is None else f"{base}-{kind}"


def queue_names() -> list[str]:
    """Every queue a worker listens to by default, sends first."""
    return [queue_name(SEND), queue_name(POLL), queue_name()]


def _queue(kind: str | None) -> Queue:
    return Queue(queue_name(kind), connection=current_maventa().redis())


def count_due(kind: str) -> int:
    session = current_maventa().session
    where = due(utcnow()) if kind == SEND else poll_due(utcnow())
    return session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(Transfer.id).where(where).limit(COUNT_CAP).subquery())) or 0


def dispatch(kind: str) -> int:
    """Make sure idle workers find a job while ``kind`` work is due; returns the jobs enqueued.

    One job keeps MAVENTA_SEND_CONCURRENCY requests in flight until nothing is due, so we want as many
    waiting jobs as workers could take (one per live worker, fewer for a small backlog). Jobs already
    waiting count; an extra job that finds nothing due ends at once. Raises on a Redis error.
    """
    pending = count_due(kind)
    if not pending:
        return 0
    session = current_maventa().session
    workers = heartbeat.health(session)[heartbeat.WORKER].alive
    session.commit()  # end the read transaction: this may run for a while on SQLite otherwise
    wanted = min(max(1, workers), math.ceil(pending / int(cfg("MAVENTA_SEND_CONCURRENCY"))))
    queue = _queue(kind)
    missing = wanted - queue.count
    for _ in range(max(0, missing)):
        queue.enqueue(JOBS[kind], job_timeout=int(JOB_SECONDS + float(cfg("MAVENTA_LEASE_SECONDS")) + 60),
                      result_ttl=0, failure_ttl=86400, description=f"maventa: {kind} what is due")
    return max(0, missing)


def try_dispatch(kind: str) -> int | None:
    """:func:`dispatch`, or None when Redis does not answer (the scheduler tries again on its next tick)."""
    try:
        return dispatch(kind)
    except Exception as exc:  # noqa: BLE001 - Redis down must never lose or fail a transfer
        metrics.REDIS_ERRORS.inc()
        log.warning("could not dispatch %s jobs (%s); the scheduler will when Redis answers", kind,
                    type(exc).__name__)
        return None


def queue_depths() -> dict[str, int]:
    """Jobs waiting per queue; empty when Redis does not answer."""
    try:
        return {queue_name(kind): _queue(kind).count for kind in (SEND, POLL, None)}
    except Exception:  # noqa: BLE001 - metrics must answer while Redis is down
        return {}


def expire_leases() -> int:
    """Hand back the work of workers that stopped: the outcome of their sends is unknown (in doubt).

    A send is in doubt when its lease expired, or as soon as the process holding it stopped beating
    (killed, host gone) -- well before the lease would tell. Status reads claimed by such a process are
    simply due again. Returns the sends moved to in doubt.
    """
    session = current_maventa().session
    now = utcnow()
    dead = heartbeat.dead_ids()
    stale = session.scalars(sa.select(Transfer).where(
        Transfer.state == SENDING, sa.or_(Transfer.lease_until < now, Transfer.claimed_by.in_(dead)))).all()
    count = 0
    for transfer in stale:
        def write(transfer: Transfer = transfer) -> bool:
            moved = transition(session, transfer, [SENDING], state=IN_DOUBT, lease_until=None,
                               next_attempt_at=now, claimed_by=None)
            if moved:
                log_step(transfer, "lease_expired")
                audit.record(session, "transfer.in_doubt", T_(
                    "The worker stopped while sending; Maventa will be asked whether the invoice arrived."),
                    transfer=transfer)
            return moved

        if commit_retrying(session, write, what="lease expiry"):
            metrics.step("lease_expired")
            count += 1
    commit_retrying(session, lambda: session.execute(
        sa.update(Transfer).where(Transfer.state == ACCEPTED, Transfer.claimed_by.in_(dead))
        .values(next_poll_at=now, claimed_by=None).execution_options(synchronize_session=False)),
        what="poll claims")
    return count

