"""``flask maventa worker | scheduler | sweep``: running the transfer pipeline.

Both long-running commands outlive Redis: the database is the outbox, Redis only wakes workers, and
the scheduler refills Redis from the database whenever it comes back (see :mod:`flask_maventa.runtime`).
"""

from __future__ import annotations

import logging

import click
from flask.cli import with_appcontext

from ..infra.state import current_state

LOG_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


def _logging() -> None:
    """Log to stderr only when the host configured no logging of its own (its handlers, levels stay as set)."""
    from ..infra import redaction
    from ..runtime import scheduler, worker  # noqa: F401 - their loggers exist before the filter goes on

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # our client logs its requests itself
    redaction.install_log_filter()


@click.command("worker")
@with_appcontext
@click.option("--processes", "-n", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes on this host (each sends MAVENTA_SEND_CONCURRENCY at once).")
@click.option("--concurrency", "-c", type=click.IntRange(1),
              help="Requests in flight per process (default: MAVENTA_SEND_CONCURRENCY).")
@click.option("--queue", "kinds", multiple=True, type=click.Choice(["send", "poll", "default"]),
              help="Work only on these queues (repeatable; default: all three).")
@click.option("--burst", is_flag=True, help="Work in this process until the queues are empty, then exit.")
def worker_command(processes: int, concurrency: int | None, kinds: tuple[str, ...], burst: bool) -> None:
    """Send due invoices and read their delivery status (long-lived RQ workers, no fork per job)."""
    from ..runtime import worker

    _logging()
    app = current_state().app
    if concurrency:
        app.config["MAVENTA_SEND_CONCURRENCY"] = concurrency
    raise SystemExit(worker.run(app, processes=processes, burst=burst, kinds=kinds or None))


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Sweep for due invoices, hand back stopped workers' work and wake workers, on MAVENTA_*_INTERVAL.

    Run one per host if you like: each task runs once per interval across all of them.
    """
    from ..runtime import scheduler

    _logging()
    scheduler.run(current_state().app)


@click.command("sweep")
@with_appcontext
@click.option("--no-dispatch", is_flag=True, help="Only create transfers; do not enqueue send jobs.")
def sweep_command(no_dispatch: bool) -> None:
    """Run one sweep now: create transfers for due invoices and enqueue send jobs for them."""
    from ..services import transfer

    result = transfer.sweep(dispatch=not no_dispatch)
    click.echo(f"created {len(result.created)} transfer(s), dispatched {result.dispatched} job(s), "
               f"moved {result.expired_leases} expired lease(s) to in doubt")
    for company_id, reason in result.blocked.items():
        click.echo(f"skipped company {company_id}: {reason}")
    if result.redis_error:
        click.echo(f"Redis: {result.redis_error} - the transfers stay queued until Redis answers.", err=True)
