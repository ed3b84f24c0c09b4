"""``flask maventa scheduler``: the timetable, run in this process, needing only the database.

Every second it looks whether one of its tasks is due; a task runs only in the scheduler that takes its
slot (:mod:`.slots`), so any number of schedulers on any number of hosts run each task once per interval.

- ``dispatch`` (MAVENTA_DISPATCH_INTERVAL): hand back the work of stopped workers (expired leases, silent
  heartbeats), then make sure a job waits in Redis for every kind of due work. Needs no worker; if Redis
  is down it is simply tried again on the next tick, and a Redis restarted empty is refilled from the
  database the same way.
- ``sweep`` (MAVENTA_SWEEP_INTERVAL): a transfer row for every due invoice, Redis or not.
- ``signing`` (15 s): enqueue the signing-state poll when a signing request is waiting for its answer.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from rq import Queue

from ..infra import heartbeat
from ..infra.models import Connection, utcnow
from ..infra.state import current_state
from ..services import transfer
from ..services.transfer import queue_name
from . import jobs, slots
from .database import use_wal

log = logging.getLogger("flask_maventa.scheduler")

TICK = 1.0
SIGNING_INTERVAL = 15.0

Summary = dict[str, object]  # what a task did, for its log line


@dataclass(frozen=True)
class Task:
    name: str
    interval: Callable[[Flask], float]
    run: Callable[[], Summary]


def _dispatch() -> Summary:
    expired = transfer.expire_leases()
    return {"expired_leases": expired, "send_jobs": transfer.try_dispatch(transfer.SEND),
            "poll_jobs": transfer.try_dispatch(transfer.POLL)}


def _sweep() -> Summary:
    result = transfer.sweep()
    return {"created": len(result.created), "dispatched": result.dispatched, "blocked": len(result.blocked),
            "expired_leases": result.expired_leases, "redis_error": result.redis_error}


def _signing() -> Summary:

    session = current_state().session
    waiting = session.scalar(sa.select(sa.func.count()).select_from(Connection).where(
        Connection.auth_next_check_at.is_not(None), Connection.auth_next_check_at <= utcnow(),
        Connection.company_state != "VERIFIED"))
    session.commit()
    if not waiting:
        return {"waiting": 0}
    try:
        Queue(queue_name(), connection=current_state().redis()).enqueue(
            jobs.poll_signings, result_ttl=0, failure_ttl=86400, description="maventa: signing poll")
    except Exception as exc:  # noqa: BLE001 - Redis down: the next slot enqueues it
        return {"waiting": waiting, "redis_error": type(exc).__name__}
    return {"waiting": waiting, "enqueued": 1}


TASKS = [
    Task("dispatch", lambda app: float(app.config["MAVENTA_DISPATCH_INTERVAL"]), _dispatch),
    Task("sweep", lambda app: float(app.config["MAVENTA_SWEEP_INTERVAL"]), _sweep),
    Task("signing", lambda app: SIGNING_INTERVAL, _signing),
]


def run(app: Flask, *, stop: threading.Event | None = None, tasks: list[Task] | None = None) -> None:
    """Run the timetable until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    use_wal(app)
    beat = heartbeat.Heartbeat(app, heartbeat.SCHEDULER).start()
    log.info("scheduler %s started", beat.id)
    try:
        while not stop.is_set():
            for task in tasks or TASKS:
                if stop.is_set():
                    break
                _run_task(app, task, beat.id)
            stop.wait(TICK)
    finally:
        beat.stop()
        log.info("scheduler %s stopped", beat.id)


def _run_task(app: Flask, task: Task, holder: str) -> None:
    with app.app_context():
        session = current_state().session
        interval = task.interval(app)
        try:
            if not slots.take(task.name, interval, holder, hold=max(3 * interval, 60.0)):
                return
        except sa.exc.SQLAlchemyError as exc:
            session.rollback()
            log.warning("step=%s_skipped reason=database error=%s", task.name, type(exc).__name__)
            return
        started = time.monotonic()
        log.debug("step=%s_start holder=%s", task.name, holder)
        try:
            summary = task.run()
        except Exception:  # one bad run must not stop the timetable; the next slot runs again
            session.rollback()
            log.exception("step=%s_failed holder=%s", task.name, holder)
            summary = None
        finally:
            try:
                slots.release(task.name, holder)
            except sa.exc.SQLAlchemyError:
                session.rollback()  # the hold expires by itself
        level = logging.INFO if task.name == "sweep" or _did_something(summary) else logging.DEBUG
        fields = " ".join(f"{k}={v}" for k, v in (summary or {}).items() if v not in (None, 0))
        log.log(level, "step=%s_done holder=%s started=%.3f seconds=%.3f %s", task.name, holder,
                time.time() - (time.monotonic() - started), time.monotonic() - started, fields)


def _did_something(summary: Summary | None) -> bool:
    return summary is not None and any(v for k, v in summary.items() if k != "waiting")
