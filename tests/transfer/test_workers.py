"""End to end with real processes: `flask maventa worker` / `scheduler` subprocesses, a real Redis, the
sandbox over HTTP, the SMTP sink, SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from flask_maventa import transfer

from .conftest import BUYER_EIA, invoice_json, wait_for


def _all_in(host, state, count):
    states = host.states()
    return len(states) == count and set(states.values()) == {state}


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
            wait_for(lambda: _all_in(host, "delivered", 5), timeout=60, what="5 delivered")
        except AssertionError:
            raise AssertionError(f"{host.states()}\n{host.output()}") from None
        assert all(host.status_of(str(n)) == "transferred" for n in range(1, 6))
        assert host.status_of("6") == "draft"
        received = host.sandbox.invoices()
        assert set(received["invoices_per_number"].values()) == {1}
        assert set(received["received_per_uuid"].values()) == {1}


def test_two_workers_racing_never_send_twice(make_host, smtp_server):
    host = make_host(smtp=smtp_server)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 13):
            host.add_invoice(f"{n:02}", invoice_json(f"R-{n}"))
        created = transfer.sweep(dispatch=False).created
        # Every transfer is enqueued twice under two job ids, so both workers really race for each.
        queue = host.ext.queue()
        for transfer_id in created:
            queue.enqueue("flask_maventa.jobs.send_transfer", transfer_id, job_id=f"a-{transfer_id}")
            queue.enqueue("flask_maventa.jobs.send_transfer", transfer_id, job_id=f"b-{transfer_id}")
        host.worker("--no-scheduler")
        host.worker("--no-scheduler")
        wait_for(lambda: _all_in(host, "accepted", 12) or _all_in(host, "delivered", 12)
                 or set(host.states().values()) <= {"accepted", "delivered"} and len(host.states()) == 12,
                 timeout=60, what="12 accepted")
        received = host.sandbox.invoices()
        assert len(received["received_per_uuid"]) == 12
        assert set(received["received_per_uuid"].values()) == {1}, received["received_per_uuid"]
        assert all(t.attempts == 1 for t in host.transfers())


def test_worker_killed_mid_send_is_reconciled_after_the_lease(make_host, smtp_server):
    host = make_host(smtp=smtp_server, MAVENTA_LEASE_SECONDS=2)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        host.sandbox.config(latency_ms=2500)
        (transfer_id,) = transfer.sweep().created
        worker = host.worker("--no-scheduler")
        wait_for(lambda: host.states().get("1") == "sending", timeout=30, what="sending")
        time.sleep(1.0)  # the POST is in flight (the sandbox holds it for 2.5 s)
        host.kill(worker)
        assert host.states()["1"] == "sending"
        host.sandbox.config(latency_ms=0)
        time.sleep(2.5)  # the lease expires
        result = transfer.sweep()
        row = host.transfers("1")[0]
        assert result.expired_leases == 1, (row.state, row.lease_until, row.attempts, host.output())
        host.worker("--no-scheduler")
        wait_for(lambda: host.states()["1"] in ("accepted", "delivered"), timeout=30, what="reconciled")
        received = host.sandbox.invoices()
        row = host.transfers("1")[0]
        assert received["invoices_per_number"] == {"N-1": 1}
        # The killed POST reached the sandbox; the next attempt found it by our uuid and sent nothing.
        assert received["received_per_uuid"] == {row.maventa_uuid: 1}
        assert row.attempts == 2
        assert host.status_of("1") == "transferred"


def test_redis_stopped_and_restarted_nothing_is_lost(make_host, smtp_server, redis_server):
    if redis_server.process is None:
        from tests.fixtures.services import require_service

        require_service("redis-server", "stopping and restarting Redis needs the redis-server binary")
    host = make_host(smtp=smtp_server)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        host.worker()
        host.scheduler()
        wait_for(lambda: host.states().get("1") in ("accepted", "delivered"), timeout=60, what="first sent")

        redis_server.process.terminate()
        redis_server.process.wait(10)
        # Redis is down: pages work, the sweep records transfers in the database (the outbox).
        host.add_invoice("2")
        host.add_invoice("3")
        result = transfer.sweep()
        assert len(result.created) == 2 and result.redis_error
        page = host.app.test_client().get("/settings/integrations/maventa/transfers")
        assert page.status_code == 200 and 'data-state="queued"' in page.get_data(as_text=True)
        assert host.states()["2"] == "queued"

        redis_server.restart()  # empty: every job in Redis is gone
        wait_for(lambda: all(host.states().get(i) in ("accepted", "delivered") for i in ("2", "3")), timeout=90,
                 what="resumed after Redis came back")
        assert set(host.sandbox.invoices()["invoices_per_number"].values()) == {1}


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
