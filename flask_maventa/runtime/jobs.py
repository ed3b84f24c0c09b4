"""RQ jobs: plain module-level functions, run inside the host's app context by ``flask maventa worker``.

A job only says "there is work of this kind"; it takes the work itself from the database (the outbox),
so a job lost with Redis loses nothing, and an extra job finds nothing to do and ends. The scheduler
(``flask maventa scheduler``) enqueues them; see :mod:`flask_maventa.services.transfer.dispatch`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..infra import redaction
from ..infra.state import current_state
from ..services import transfer
from ..services.onboarding import poll_pending_signings

log = logging.getLogger("flask_maventa.jobs")

_engine_pid: int | None = None


class JobFailed(Exception):
    """What RQ keeps of a failed job: the original exception's type and message, scrubbed of secrets."""


@contextmanager
def job_context() -> Iterator[None]:
    """A fresh app context (its own database session); after a fork, inherited connections are dropped."""
    global _engine_pid
    try:
        app = current_state().app
    except RuntimeError:
        raise RuntimeError(
            "flask-maventa jobs need the host's app context: run the worker with `flask maventa worker` "
            "(FLASK_APP pointing at your app), not a bare `rq worker`."
        ) from None
    with app.app_context():
        db = current_state().db
        if _engine_pid != os.getpid():
            # Sockets inherited from the parent process must never be used by the child.
            for engine in db.engines.values():
                engine.dispose(close=False)
            _engine_pid = os.getpid()
        try:
            yield
        except Exception as exc:
            # RQ stores a failed job's traceback text in Redis, where no log filter reaches: log the whole
            # story through our (scrubbing) logger, and give RQ only a scrubbed one-line summary.
            log.exception("job failed")
            raise JobFailed(redaction.scrub_text(f"{type(exc).__name__}: {exc}")) from None
        finally:
            db.session.remove()


def send_due() -> dict[str, int]:
    """Upload every due transfer, MAVENTA_SEND_CONCURRENCY at a time (queue ``<MAVENTA_QUEUE>-send``)."""
    with job_context():
        return transfer.send_due()


def poll_due() -> dict[str, int]:
    """Read the delivery status of every accepted transfer that is due (queue ``<MAVENTA_QUEUE>-poll``)."""
    with job_context():
        return transfer.poll_due()


def poll_deliveries() -> dict[str, int]:
    """Wake the pollers if delivery-status reads are due (the scheduler does this on every dispatch tick)."""
    with job_context():
        return {"dispatched": transfer.try_dispatch(transfer.POLL) or 0}


def poll_signings() -> dict[str, int]:
    """The onboarding area's signing-status poll (enqueued by the scheduler every 15 s)."""
    with job_context():
        return poll_pending_signings()
