"""Many transfers at once: claim due work in batches and run it on a pool of threads.

The job (:func:`send_due`, :func:`poll_due`) runs in a long-lived worker process. Its thread claims
due rows in batches (a send job reads their invoices from the host with them, :mod:`.reading`) and
hands them to a pool of threads that share the process's one pooled HTTP client, token cache and
compiled SQL. At most MAVENTA_SEND_CONCURRENCY requests to Maventa are in flight
(:func:`.states.request_slot`); a quarter as many threads again build the next documents and record
the last answers meanwhile, so the request slots never wait for our own work. Each result is
committed by the thread that got it, as it lands. The batch is topped up as it drains, so the threads
never wait for the slowest request of a batch. The job ends when nothing more is due, when the worker
is asked to stop (in-flight requests finish, nothing new is claimed), or after JOB_SECONDS, handing
over to a new job so the other queues get a turn.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, g

from ...infra.models import Transfer
from ...infra.state import current_state
from . import claiming, delivery, reading, sending
from . import dispatch as dispatching
from .states import Outcome, cfg, request_slots

log = logging.getLogger("flask_maventa.transfer")

STOP = threading.Event()  # set by the worker on SIGTERM/SIGINT: finish what is in flight, claim nothing new

_pool: tuple[int, int, ThreadPoolExecutor] | None = None
_pool_guard = threading.Lock()


def executor(size: int) -> ThreadPoolExecutor:
    """The process's thread pool (made again after a fork, or when the size changes)."""
    global _pool
    with _pool_guard:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] != size:
            _pool = (os.getpid(), size, ThreadPoolExecutor(size, thread_name_prefix="maventa"))
        return _pool[2]


def pool_threads(concurrency: int) -> int:
    """The batch's threads for ``concurrency`` requests in flight: that many, and a quarter as many again
    (at least one) to prepare and record. Half as many again kept the slots as busy, but every extra
    runnable thread adds GIL hand-offs: measured, ~0.4 ms more CPU per send at W = 8."""
    return concurrency + max(1, concurrency // 4)


def _task(app: Flask, work: Callable[..., Outcome], item: Sequence[Any]) -> Outcome:
    with app.app_context():  # its own database session, released when the context ends
        g.maventa_own_session = True
        try:
            return work(*item)
        except Exception as exc:  # one transfer's bug must not stop the others; its lease recovers it
            log.exception("step=crash work=%s item=%s", work.__name__, item)
            return Outcome("error", type(exc).__name__)


def run(claim: Callable[[int], list[Any]], work: Callable[..., Outcome], *,
        budget: float | None = None) -> Counter[str]:
    """Claim and work until nothing is due, a stop is asked for, or ``budget`` seconds have passed."""
    app = current_state().app
    size = int(cfg("MAVENTA_SEND_CONCURRENCY"))
    threads = pool_threads(size)
    pool = executor(threads)
    deadline = time.monotonic() + (dispatching.JOB_SECONDS if budget is None else budget)
    outcomes: Counter[str] = Counter()
    results: queue.SimpleQueue[Future[Outcome]] = queue.SimpleQueue()
    pending = 0
    short = False  # the last claim got fewer than it asked for: nothing more was due then
    last = None
    with request_slots(size):
        while True:
            open_ = not STOP.is_set() and time.monotonic() < deadline
            if open_ and not short and pending <= threads + size:
                # Claimed while a round of requests still waits, as the claim and the host's reads of the
                # batch take this thread tens of ms; and 2 x W at a time: a claim costs as much CPU as a
                # dozen of its rows.
                wanted = threads + 3 * size - pending
                try:
                    items = claim(wanted)
                except Exception:  # the database is away: finish what we hold; retried later
                    log.exception("step=claim_failed")
                    items = []
                for item in items:
                    pool.submit(_task, app, work, item).add_done_callback(results.put)
                pending += len(items)
                short, last = len(items) < wanted, len(items)
            if not pending:
                if not open_ or last == 0:
                    break
                short = False  # all done: one more look, retries may have come due meanwhile
                continue
            outcomes[results.get().result().state] += 1
            pending -= 1
    return outcomes


def send_due(budget: float | None = None) -> dict[str, int]:
    """The send job: upload every due transfer, MAVENTA_SEND_CONCURRENCY at a time."""
    outcomes = run(_claim_and_read, sending.send_claimed, budget=budget)
    _hand_over(dispatching.SEND)
    return dict(outcomes)


def _claim_and_read(limit: int) -> list[tuple[Transfer, bool, reading.ReadAhead]]:
    """A batch of due transfers with their invoices, read from the host in one go where it can."""
    return reading.read_ahead(claiming.claim_batch(limit))


def poll_due(budget: float | None = None) -> dict[str, int]:
    """The poll job: read the delivery status of every accepted transfer whose read is due."""
    outcomes = run(delivery.claim_polls, delivery.poll_claimed, budget=budget)
    _hand_over(dispatching.POLL)
    return dict(outcomes)


def _hand_over(kind: str) -> None:
    """Stopped with work still due (budget spent, or a stop): make sure a job waits for it."""
    if dispatching.count_due(kind):
        dispatching.try_dispatch(kind)
