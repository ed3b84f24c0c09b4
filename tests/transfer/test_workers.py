"""End to end with real processes: `flask maventa worker` / `scheduler` subprocesses, a real Redis, the
sandbox over HTTP, the SMTP sink, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import Queue

from flask_maventa.infra.models import Process, Transfer, utcnow
from flask_maventa.services import transfer

from ..fixtures.processes import descendants
from .conftest import BUYER_EIA, invoice_json, wait_for

pytestmark = pytest.mark.slow


def _all_in(host, states, count):
    found = host.states()
    return len(found) == count and set(found.values()) <= set(states)


def _processes(host, kind):
    host.db.session.rollback()
    return host.db.session.scalars(sa.select(Process).where(Process.kind == kind)).all()


def _waits_for_redis_after_restart(host) -> bool:
    """A process log says its worker loop restarted and then that it waits for Redis."""
    for log in host.logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        restarted = text.find("starting it again")
        if restarted >= 0 and "Redis is not reachable" in text[restarted:]:
            return True
    return False


def _send_queue(host):
    return Queue(transfer.queue_name(transfer.SEND), connection=host.ext.redis())


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_happy_path_scheduler_and_worker_deliver_and_set_the_success_status(make_host, smtp_server, database,
                                                                            request):
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    host = make_host(database_url=url, smtp=smtp_server)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 6):
            host.add_invoice(str(n), invoice_json(f"H-{n}"))
        host.add_invoice("6", invoice_json("H-6"), status_id="draft")
        host.scheduler()
        host.scheduler()  # two schedulers: still one sweep per interval
        host.worker()
        try:
            wait_for(lambda: _all_in(host, ["delivered"], 5), timeout=60, what="5 delivered")
        except AssertionError:
            raise AssertionError(f"{host.states()}\n{host.output()}") from None
        assert all(host.status_of(str(n)) == "transferred" for n in range(1, 6))
        assert host.status_of("6") == "draft"
        received = host.sandbox.invoices()
        assert set(received["invoices_per_number"].values()) == {1}
        assert set(received["received_per_uuid"].values()) == {1}
        assert host.sandbox.stats()["tokens_issued"] == 1  # one token for the company, whatever the process
        assert {p.kind for p in _processes(host, "worker") + _processes(host, "scheduler")} == {"worker", "scheduler"}


def test_workers_racing_for_the_same_rows_never_send_twice(make_host, smtp_server):
    """Three worker processes, more jobs than work, all claiming from the same due rows at once."""
    host = make_host(smtp=smtp_server, MAVENTA_SEND_CONCURRENCY=3)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 31):
            host.add_invoice(f"{n:02}", invoice_json(f"R-{n}"))
        host.sandbox.config(latency_ms=50)
        assert len(transfer.sweep(dispatch=False).created) == 30
        for _ in range(6):
            _send_queue(host).enqueue("flask_maventa.runtime.jobs.send_due")
        for _ in range(3):
            host.worker()
        wait_for(lambda: _all_in(host, ["accepted", "delivered"], 30), timeout=90, what="30 accepted")
        received = host.sandbox.invoices()
        assert len(received["received_per_uuid"]) == 30
        assert set(received["received_per_uuid"].values()) == {1}, received["received_per_uuid"]
        assert all(t.attempts == 1 and t.claimed_by is None for t in host.transfers())
        assert "step=accepted" in host.output()


def test_worker_killed_mid_send_is_reconciled_after_the_lease(make_host, smtp_server):
    host = make_host(smtp=smtp_server, MAVENTA_LEASE_SECONDS=2)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        host.sandbox.config(latency_ms=2500)
        (transfer_id,) = transfer.sweep().created
        worker = host.worker()
        wait_for(lambda: host.states().get("1") == "sending", timeout=30, what="sending")
        time.sleep(1.0)  # the POST is in flight (the sandbox holds it for 2.5 s)
        host.kill(worker)
        assert host.states()["1"] == "sending"
        host.sandbox.config(latency_ms=0)
        lease_until = host.transfers("1")[0].lease_until
        wait_for(lambda: utcnow() > lease_until, timeout=10, what="the lease to expire")
        result = transfer.sweep()
        row = host.transfers("1")[0]
        assert result.expired_leases == 1, (row.state, row.lease_until, row.attempts, host.output())
        host.worker()
        wait_for(lambda: host.states()["1"] in ("accepted", "delivered"), timeout=30, what="reconciled")
        received = host.sandbox.invoices()
        row = host.transfers("1")[0]
        assert received["invoices_per_number"] == {"N-1": 1}
        # The killed POST reached the sandbox; the next attempt found it by our uuid and sent nothing.
        assert received["received_per_uuid"] == {row.maventa_uuid: 1}
        assert row.attempts == 2
        assert host.status_of("1") == "transferred"


def test_a_silent_worker_is_handed_back_long_before_its_lease(make_host, smtp_server):
    """The default lease is 5 minutes; a worker whose heartbeat stops is known dead after seconds."""
    host = make_host(smtp=smtp_server, MAVENTA_LEASE_SECONDS=300, MAVENTA_HEARTBEAT_TIMEOUT=3,
                     MAVENTA_DISPATCH_INTERVAL=1)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        host.sandbox.config(latency_ms=3000)
        host.scheduler()
        worker = host.worker()
        wait_for(lambda: host.states().get("1") == "sending", timeout=30, what="sending")
        claimed_by = host.transfers("1")[0].claimed_by
        assert claimed_by and claimed_by in {p.id for p in _processes(host, "worker")}
        host.kill(worker)  # the supervisor and its child: nothing is left to finish the POST
        started = time.monotonic()
        wait_for(lambda: host.states()["1"] == "in_doubt", timeout=20, what="in doubt")
        assert time.monotonic() - started < 15  # the heartbeat told, not the 300 s lease
        host.sandbox.config(latency_ms=0)
        host.worker()
        wait_for(lambda: host.states()["1"] in ("accepted", "delivered"), timeout=30, what="reconciled")
        row = host.transfers("1")[0]
        assert host.sandbox.invoices()["received_per_uuid"] == {row.maventa_uuid: 1}
        assert row.attempts == 2 and row.claimed_by is None


def test_a_killed_worker_process_is_replaced_by_its_supervisor(make_host, smtp_server):
    host = make_host(smtp=smtp_server, MAVENTA_HEARTBEAT_TIMEOUT=3, MAVENTA_DISPATCH_INTERVAL=1)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        worker = host.worker()
        (child,) = wait_for(lambda: [p for p in descendants(worker.pid)], what="the worker process")
        wait_for(lambda: any(p.pid == child for p in _processes(host, "worker")), what="its heartbeat")
        os.kill(child, signal.SIGKILL)
        (replacement,) = wait_for(lambda: [p for p in descendants(worker.pid) if p != child], timeout=20,
                                  what="a new worker process")
        assert worker.poll() is None
        host.add_invoice("1")
        host.scheduler()
        wait_for(lambda: host.states().get("1") in ("accepted", "delivered"), timeout=60, what="sent by the new one")
        assert any(p.pid == replacement and p.stopped_at is None for p in _processes(host, "worker"))


def test_sigterm_is_a_warm_shutdown_and_the_heartbeat_says_stopped(make_host, smtp_server):
    host = make_host(smtp=smtp_server)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        host.sandbox.config(latency_ms=2000)
        transfer.sweep()
        worker = host.worker()
        wait_for(lambda: host.states().get("1") == "sending", timeout=30, what="sending")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert host.states()["1"] == "accepted"  # the request in flight was finished, not abandoned
        (process,) = _processes(host, "worker")
        assert process.stopped_at is not None


def test_worker_survives_a_redis_restart_mid_job_and_nothing_is_lost(make_host, smtp_server, redis_server):
    if redis_server.process is None:
        from tests.fixtures.services import require_service

        require_service("redis-server", "stopping and restarting Redis needs the redis-server binary")
    host = make_host(smtp=smtp_server, MAVENTA_SEND_CONCURRENCY=2, MAVENTA_DISPATCH_INTERVAL=1)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 9):
            host.add_invoice(str(n))
        host.sandbox.config(latency_ms=700)  # 8 invoices, 2 at a time: the job runs for ~3 s
        worker = host.worker()
        host.scheduler()
        wait_for(lambda: "sending" in host.states().values(), timeout=120, what="the job is running")

        redis_server.process.terminate()  # mid-job
        redis_server.process.wait(10)
        # Redis is down: pages work, the sweep records transfers in the database (the outbox).
        host.add_invoice("9")
        host.add_invoice("10")
        result = transfer.sweep()
        assert len(result.created) == 2 and result.redis_error
        page = host.app.test_client().get("/settings/integrations/maventa/transfers")
        assert page.status_code == 200 and 'data-state="queued"' in page.get_data(as_text=True)
        # The job finishes while Redis is down: RQ's bookkeeping fails and its loop gives up.
        wait_for(lambda: "starting it again" in host.output(None), timeout=120, what="the worker loop to restart")
        # The loop came round and now waits for Redis: its own line says so, no fixed pause needed.
        wait_for(lambda: _waits_for_redis_after_restart(host) or worker.poll() is not None, timeout=120,
                 what="the worker to wait for Redis")
        assert worker.poll() is None, host.output()  # still running, waiting for Redis

        redis_server.restart()  # empty: every job in Redis is gone
        host.sandbox.config(latency_ms=0)
        host.add_invoice("11")  # due while nothing else moves: the next sweep takes it
        wait_for(lambda: _all_in(host, ["accepted", "delivered"], 11), timeout=240,
                 what="everything sent after Redis came back")
        assert worker.poll() is None
        assert set(host.sandbox.invoices()["invoices_per_number"].values()) == {1}
        assert set(host.sandbox.invoices()["received_per_uuid"].values()) == {1}
        assert "Redis answers again" in host.output(None)


def test_the_scheduler_alone_expires_leases_and_refills_an_empty_redis(make_host, smtp_server):
    """No worker runs: the scheduler still hands back expired claims and keeps a job waiting for due work."""
    host = make_host(smtp=smtp_server, MAVENTA_DISPATCH_INTERVAL=1)
    with host.app.app_context():
        host.connect()
        host.add_invoice("1")
        host.add_invoice("2")
        created = transfer.sweep(dispatch=False).created
        host.db.session.execute(sa.update(Transfer).where(Transfer.id == created[0]).values(
            state="sending", attempts=1, lease_until=utcnow() - timedelta(seconds=5)))
        host.db.session.commit()
        host.ext.redis().flushall()
        host.scheduler()
        wait_for(lambda: host.states()[host.transfers()[0].invoice_id] == "in_doubt", timeout=20,
                 what="the expired lease handed back")
        wait_for(lambda: _send_queue(host).count == 1, timeout=20, what="a send job waiting")
        host.ext.redis().flushall()  # Redis restarted empty
        wait_for(lambda: _send_queue(host).count == 1, timeout=20, what="a send job waiting again")


def test_error_email_reaches_the_smtp_server_from_the_worker(make_host, smtp_server):
    host = make_host(smtp=smtp_server)
    with host.app.app_context():
        host.connect(signed=False)  # Maventa refuses: the company never signed
        host.add_invoice("1", invoice_json("E-1"))
        transfer.sweep()
        host.worker("--burst")
        (mail,) = smtp_server.wait_for(1, timeout=60)
        assert host.states() == {"1": "failed"}
        assert "E-1" in mail["Subject"]
        body = mail.get_content()
        assert "signing" in body.lower() and host.transfers("1")[0].last_error_message.split(" - ")[0] in body
        assert host.status_of("1") == "failed"


def test_worker_and_scheduler_outlive_a_postgresql_restart_mid_run(make_host, smtp_server, own_postgres_server):
    """PostgreSQL restarts while invoices are on their way (every connection of every process cut): the
    processes keep running, and every invoice is delivered exactly once after it is back."""
    server = own_postgres_server  # not the shared one: it must not restart under other tests
    host = make_host(database_url=server.create_database("restart"), smtp=smtp_server, MAVENTA_SEND_CONCURRENCY=2)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 9):
            host.add_invoice(str(n))
        host.sandbox.config(latency_ms=700)  # 8 invoices, 2 at a time: sending takes ~3 s
        worker = host.worker()
        scheduler = host.scheduler()
        wait_for(lambda: "sending" in host.states().values(), timeout=120, what="sending under way")

        host.db.session.close()  # this test's own connections, as any process's, are cut by the restart
        host.db.engine.dispose()
        server.restart(down_seconds=2)
        host.sandbox.config(latency_ms=0)
        host.add_invoice("9")  # due after the restart: the next sweep takes it
        try:
            wait_for(lambda: _all_in(host, ["accepted", "delivered"], 9), timeout=240,
                     what="everything sent after the restart")
        except AssertionError:
            raise AssertionError(f"{host.states()}\n{host.output(None)}") from None
        assert worker.poll() is None and scheduler.poll() is None, host.output()
        received = host.sandbox.invoices()
        assert set(received["invoices_per_number"].values()) == {1}
        assert set(received["received_per_uuid"].values()) == {1}
        assert len(received["received_per_uuid"]) == 9
