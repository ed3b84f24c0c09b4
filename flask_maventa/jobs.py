"""RQ jobs: plain module-level functions taking ids, run inside the host's app context.

The worker is ``flask maventa worker`` (it pushes the host's app context before RQ forks a work
horse per job); each job opens a fresh app context of its own so its database session starts and
ends with the job. Periodic jobs are enqueued by ``flask maventa scheduler`` (RQ's cron) on every
scheduler process; a Redis ``SET NX EX`` slot makes each run once per interval across all of them.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import asdict

from flask import current_app

log = logging.getLogger("flask_maventa.jobs")

_engine_pid: int | None = None


@contextmanager
def job_context():
    """A fresh app context; after a fork, the engine's inherited connections are dropped first."""
    global _engine_pid
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        raise RuntimeError(
            "flask-maventa jobs need the host's app context: run the worker with `flask maventa worker` "
            "(FLASK_APP pointing at your app), not a bare `rq worker`."
        ) from None
    with app.app_context():
        from .extension import current_maventa

        db = current_maventa().db
        if _engine_pid != os.getpid():
            # Sockets inherited from the parent process must never be used by the child.
            for engine in db.engines.values():
                engine.dispose(close=False)
            _engine_pid = os.getpid()
        try:
            yield
        finally:
            db.session.remove()


def claim_slot(name: str, interval: float) -> bool:
    """True for exactly one caller per ``interval``-second slot, however many schedulers enqueue it."""
    from .extension import current_maventa

    interval = max(1, int(interval))
    bucket = int(time.time() // interval)
    key = f"maventa:slot:{name}:{bucket}"
    return bool(current_maventa().redis().set(key, os.getpid(), nx=True, ex=interval * 2))


# -- the jobs ----------------------------------------------------------------------------------------------


def send_transfer(transfer_id: int) -> dict:
    """One attempt to send a transfer (claimed atomically; a second worker gets "skipped")."""
    from . import transfer

    with job_context():
        return asdict(transfer.send(int(transfer_id)))


def poll_transfer(transfer_id: int) -> dict:
    """Read an accepted invoice's delivery status from Maventa."""
    from . import transfer

    with job_context():
        return asdict(transfer.poll(int(transfer_id)))


def sweep() -> dict:
    """The periodic sweep: due invoices → transfers → send jobs (once per MAVENTA_SWEEP_INTERVAL)."""
    from . import transfer

    with job_context():
        if not claim_slot("sweep", current_app.config["MAVENTA_SWEEP_INTERVAL"]):
            return {"skipped": "another scheduler ran this interval's sweep"}
        result = transfer.sweep()
        return {"created": len(result.created), "dispatched": len(result.dispatched),
                "blocked": result.blocked, "expired_leases": result.expired_leases}


def poll_deliveries() -> dict:
    """Enqueue a status read for every accepted transfer whose next poll time has come."""
    from . import transfer

    with job_context():
        if not claim_slot("poll", current_app.config["MAVENTA_SWEEP_INTERVAL"]):
            return {"skipped": "another scheduler ran this interval's polling"}
        return {"dispatched": len(transfer.dispatch_polls())}


def poll_signings() -> dict:
    """The onboarding area's signing-status poll."""
    from .registration import poll_pending_signings

    with job_context():
        if not claim_slot("signing", 15):
            return {"skipped": "another scheduler ran it"}
        result = poll_pending_signings()
        return result if isinstance(result, dict) else {"result": repr(result)}
