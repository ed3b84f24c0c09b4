"""``flask maventa worker | scheduler | sweep | doctor``: running and checking the transfer pipeline.

Both long-running commands survive Redis going away: they wait for it and carry on, and since the
database is the outbox nothing is lost meanwhile (the next sweep re-enqueues queued transfers).
"""

from __future__ import annotations

import logging
import time

import click
from flask import current_app

log = logging.getLogger("flask_maventa.worker")

REDIS_WAIT = 2.0  # seconds between reconnection attempts while Redis is down


def _ext():
    from .extension import current_maventa

    return current_maventa()


def _dispose_engines() -> None:
    """No database connection may cross a fork into RQ's work horses or pool workers."""
    for engine in _ext().db.engines.values():
        engine.dispose()


def _wait_for_redis(redis) -> None:
    warned = False
    while True:
        try:
            redis.ping()
            if warned:
                click.echo("Redis is back.")
            return
        except Exception as exc:  # noqa: BLE001 - any connection problem: wait and try again
            if not warned:
                click.echo(f"Redis is not reachable ({type(exc).__name__}); waiting for it...", err=True)
                warned = True
            time.sleep(REDIS_WAIT)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then exit.")
@click.option("--processes", "-n", default=1, show_default=True, help="Worker processes (RQ's worker pool).")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Also run RQ's scheduler for delayed retries (one worker in the fleet takes it).")
def worker_command(burst: bool, processes: int, scheduler: bool) -> None:
    """Run RQ worker(s) on MAVENTA_QUEUE inside this app's context."""
    from rq import Queue, Worker
    from rq.worker_pool import WorkerPool

    logging.basicConfig(level=logging.INFO)
    ext = _ext()
    redis = ext.redis()
    queue_name = current_app.config["MAVENTA_QUEUE"]
    while True:
        _wait_for_redis(redis)
        _dispose_engines()
        if processes > 1:
            pool = WorkerPool([queue_name], connection=redis, num_workers=processes)
            pool.start(burst=burst)
            return
        worker = Worker([Queue(queue_name, connection=redis)], connection=redis)
        worker.work(burst=burst, with_scheduler=scheduler)
        # SIGINT/SIGTERM set the shutdown date (an idle worker stops without setting _stop_requested).
        if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
            return
        # RQ's loop quits on a lost Redis connection; wait for Redis and start a new worker.
        click.echo("The worker stopped (Redis connection lost?); restarting when Redis answers.", err=True)
        time.sleep(REDIS_WAIT)


def build_cron(redis):
    """RQ's cron scheduler with the extension's periodic jobs."""
    from rq.cron import CronScheduler

    from . import jobs

    cfg = current_app.config
    queue_name = cfg["MAVENTA_QUEUE"]
    interval = max(1, int(cfg["MAVENTA_SWEEP_INTERVAL"]))
    cron = CronScheduler(connection=redis)
    cron.register(jobs.sweep, queue_name, interval=interval)
    cron.register(jobs.poll_deliveries, queue_name, interval=interval)
    cron.register(jobs.poll_signings, queue_name, interval=15)
    return cron


@click.command("scheduler")
def scheduler_command() -> None:
    """Enqueue the sweep and the delivery polling every MAVENTA_SWEEP_INTERVAL (RQ's cron).

    Run as many as you like: each interval's sweep runs once across all of them.
    """
    from rq.exceptions import StopRequested

    logging.basicConfig(level=logging.INFO)
    redis = _ext().redis()
    while True:
        _wait_for_redis(redis)
        cron = build_cron(redis)
        try:
            cron.start()
            return  # stopped by a signal
        except StopRequested:
            return
        except Exception as exc:  # noqa: BLE001 - Redis went away mid-loop: wait and start again
            click.echo(f"The scheduler stopped ({type(exc).__name__}); restarting when Redis answers.", err=True)
            time.sleep(REDIS_WAIT)


@click.command("sweep")
@click.option("--no-dispatch", is_flag=True, help="Only create transfers; do not enqueue send jobs.")
def sweep_command(no_dispatch: bool) -> None:
    """Run one sweep now: create transfers for due invoices and enqueue their send jobs."""
    from . import transfer

    result = transfer.sweep(dispatch=not no_dispatch)
    click.echo(f"created {len(result.created)} transfer(s), dispatched {len(result.dispatched)} job(s), "
               f"moved {result.expired_leases} expired lease(s) to in doubt")
    for company_id, reason in result.blocked.items():
        click.echo(f"skipped company {company_id}: {reason}")
    if result.redis_error:
        click.echo(f"Redis: {result.redis_error} - the transfers stay queued until Redis answers.", err=True)


@click.command("doctor")
@click.option("--live", is_flag=True, help="Also check, read-only, what we assume of Maventa beyond its swagger.")
def doctor_command(live: bool) -> None:
    """Check the configuration, tables, Redis and each connection's Maventa credentials; print fixes."""
    import sqlalchemy as sa

    from .models import Connection, metadata

    ext = _ext()
    cfg = current_app.config
    problems = 0

    def report(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        problems += not ok
        click.echo(f"[{'ok' if ok else 'FAIL'}] {what}" + ("" if ok or not fix else f"\n       fix: {fix}"))

    report(bool(cfg.get("MAVENTA_VENDOR_API_KEY")), "MAVENTA_VENDOR_API_KEY is set",
           "set it to your partner 'Software API key' from Maventa")
    report(bool(cfg.get("MAVENTA_SECRET_KEY")) or cfg["MAVENTA_ENVIRONMENT"] != "production",
           "MAVENTA_SECRET_KEY is set", "generate one with `flask maventa generate-key`")
    report(ext.base_url().startswith(("http://", "https://")), f"Maventa URL: {ext.base_url()}",
           "check MAVENTA_ENVIRONMENT / MAVENTA_SANDBOX_URL")
    try:
        existing = set(sa.inspect(ext.db.engine).get_table_names())
        missing = sorted(set(metadata.tables) - existing)
        report(not missing, "maventa_* tables exist" + (f" (missing: {', '.join(missing)})" if missing else ""),
               "run `flask maventa upgrade`")
    except Exception as exc:  # noqa: BLE001
        report(False, f"database reachable ({type(exc).__name__}: {exc})", "check SQLALCHEMY_DATABASE_URI")
        missing = ["all"]
    try:
        ext.redis().ping()
        report(True, f"Redis answers at {cfg['MAVENTA_REDIS_URL'].split('@')[-1]}")
    except Exception as exc:  # noqa: BLE001
        report(False, f"Redis answers ({type(exc).__name__})",
               "start Redis or fix MAVENTA_REDIS_URL; transfers stay queued in the database meanwhile")
    if not missing:
        for connection in ext.session.scalars(sa.select(Connection).order_by(Connection.id)):
            label = f"company {connection.company_id}"
            if not connection.has_credentials:
                report(not connection.active, f"{label}: no Maventa credentials",
                       "register the company or enter its credentials on its Maventa page")
                continue
            try:
                ext.company_client(connection).check_credentials()
                report(True, f"{label}: Maventa accepts its credentials" + (" (active)" if connection.active else ""))
            except Exception as exc:  # noqa: BLE001 - the client's messages are scrubbed of secrets
                report(False, f"{label}: {type(exc).__name__}: {exc}",
                       "check the Company UUID and User API key on the company's Maventa page")
            if connection.active and connection.blocked_reason:
                report(False, f"{label}: the sweep skips it: {connection.blocked_reason}", "fix its settings")
    if live and not missing:
        from .doctor_live import live_checks

        for ok, what, fix in live_checks():
            report(ok, what, fix)
    click.echo("All checks passed." if not problems else f"{problems} problem(s) found.")
    if problems:
        raise SystemExit(1)
