"""The engine's own guarantees, driven in this process: batches, transient database errors after Maventa
answered, structured log lines, the metrics exposition and the heartbeat warnings on the log page."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from flask_maventa import HostAdapter
from flask_maventa.infra import counters, heartbeat
from flask_maventa.infra.models import Event, Process, utcnow
from flask_maventa.runtime import metrics
from flask_maventa.services import transfer

from .conftest import BUYER_EIA, invoice_json, wait_for

PREFIX = "/settings/integrations/maventa"


def _events(host, transfer_id):
    host.db.session.expire_all()
    return [e.kind for e in host.db.session.scalars(
        sa.select(Event).where(Event.transfer_id == transfer_id).order_by(Event.created_at, Event.id))]


def test_a_batch_sends_every_due_transfer_concurrently_and_records_each_answer(make_host):
    host = make_host(MAVENTA_SEND_CONCURRENCY=4)
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in range(1, 13):
            host.add_invoice(f"{n:02}", invoice_json(f"C-{n}"))
        host.add_invoice("13", invoice_json("C-13", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                        "country": "NO"}}))  # pre-flight fails
        transfer.sweep(dispatch=False)
        host.sandbox.config(latency_ms=300)  # long enough for the sends to overlap however loaded the machine
        outcomes = transfer.send_due()
        assert outcomes == {"accepted": 12, "failed": 1}
        # Counted by the sandbox, not timed: several invoices in flight at once, never more than the setting.
        assert 2 <= host.sandbox.stats()["peak_invoice_posts_in_flight"] <= 4
        received = host.sandbox.invoices()
        assert set(received["received_per_uuid"].values()) == {1} and len(received["received_per_uuid"]) == 12
        accepted = [t for t in host.transfers() if t.state == "accepted"]
        assert all(t.invoice_number and t.route == "einvoice" and t.claimed_by is None for t in accepted)
        assert _events(host, accepted[0].id) == ["transfer.queued", "transfer.request", "transfer.accepted"]
        assert transfer.send_due() == {}  # nothing left: the next job ends at once


def test_a_claimed_transfer_is_sent_detached_and_nothing_attaches_it_or_its_shared_connection(make_host):
    """The batch's threads use the claimed objects as they are (no copy per thread): the transfers of one
    company share their connection, so no step may put either into a thread's session -- a second thread
    attaching the same connection would fail. Driven here as two threads' sessions open at once, with an
    acceptance and a failure (pre-flight, then its error email: the failure path writes the most)."""
    from flask import g

    from flask_maventa.infra.models import Connection, Transfer

    host = make_host()
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("01", invoice_json("D-1"))
        host.add_invoice("02", invoice_json("D-2", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                       "country": "NO"}}))  # pre-flight fails
        transfer.sweep(dispatch=False)
        claimed = sorted(transfer.claim_batch(10), key=lambda item: item[0].invoice_id)
        assert [t.invoice_id for t, _ in claimed] == ["01", "02"]
        assert claimed[0][0].connection is claimed[1][0].connection  # one object for the company, shared

    def attached(session):
        return [o for o in session.identity_map.values() if isinstance(o, (Transfer, Connection))]

    with host.app.app_context():  # one thread's context and session ...
        g.maventa_own_session = True
        first = transfer.send_claimed(*claimed[1])
        assert attached(host.ext.session) == []
        with host.app.app_context():  # ... and another's, while the first is still open
            g.maventa_own_session = True
            second = transfer.send_claimed(*claimed[0])
            assert attached(host.ext.session) == []
    assert (first.state, second.state) == ("failed", "accepted")
    with host.app.app_context():
        assert host.states() == {"01": "accepted", "02": "failed"}
        failed = host.transfers("02")[0]
        assert _events(host, failed.id)[-1] in ("transfer.mail", "transfer.mail_failed")


def test_a_claimed_read_comes_detached_with_its_connection_and_is_read_without_a_query_of_its_own(make_host):
    """Status reads are claimed as sends are: loaded with their connection in the claim, detached, the
    company's connection shared; the read makes no query before its request and attaches nothing, in two
    threads' sessions open at once."""
    from flask import g

    from flask_maventa.infra.models import Connection, Transfer

    host = make_host()
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        for n in ("01", "02"):
            host.add_invoice(n, invoice_json(f"R-{n}"))
        transfer.sweep(dispatch=False)
        assert transfer.send_due() == {"accepted": 2}
        host.db.session.execute(sa.update(Transfer).values(next_poll_at=utcnow() - timedelta(seconds=1)))
        host.db.session.commit()
        claimed = sorted(transfer.claim_polls(10), key=lambda item: item[0].invoice_id)
        assert [t.invoice_id for t, in claimed] == ["01", "02"]
        assert claimed[0][0].connection is claimed[1][0].connection
        assert transfer.claim_polls(10) == []  # held by this claim
        engine = host.db.engine

    statements: list[str] = []

    def attached(session):
        return [o for o in session.identity_map.values() if isinstance(o, (Transfer, Connection))]

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with host.app.app_context():
            g.maventa_own_session = True
            first = transfer.poll_claimed(*claimed[0])
            assert attached(host.ext.session) == []
            with host.app.app_context():
                g.maventa_own_session = True
                second = transfer.poll_claimed(*claimed[1])
                assert attached(host.ext.session) == []
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert (first.state, second.state) == ("delivered", "delivered")
    assert "SELECT" not in statements, statements  # each read's writes only: no transfer loaded again
    with host.app.app_context():
        assert {t.state for t in host.transfers()} == {"delivered"}


def _in_transaction(host) -> bool:
    """Whether the host's session has a database transaction open right now (the driver's own view)."""
    raw = host.db.session.connection().connection.driver_connection
    if host.db.engine.dialect.name == "postgresql":
        from psycopg import pq

        return raw.info.transaction_status != pq.TransactionStatus.IDLE
    return raw.in_transaction


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
@pytest.mark.parametrize("batch_reads", [True, False], ids=["batch_reads", "one_by_one"])
def test_the_hosts_reads_run_with_no_transaction_open_on_postgresql_and_its_writes_in_one(make_host, database,
                                                                                          batch_reads, request,
                                                                                          monkeypatch):
    """A host with batch reads gives a batch's invoices and PDFs in one call each, read by the job's thread
    right after its claim (reading.py), and no attempt reads them again. Without them, a batch task reads
    the host's invoice and PDF through the host's own ``db.session`` with no BEGIN on PostgreSQL (SQLite
    never opened one for a read). Either way the step's writes (the host's status among them) stay one
    transaction and the pool gets its connections back transactional."""
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    host = make_host(database_url=url, MAVENTA_SEND_CONCURRENCY=2)
    seen: list[tuple[str, bool]] = []
    adapter = type(host.adapter)
    if not batch_reads:  # HostAdapter's defaults: nothing read ahead
        for name in ("get_invoice_documents", "get_invoice_pdfs"):
            monkeypatch.setattr(adapter, name, getattr(HostAdapter, name))

    def watched(name):
        original = getattr(adapter, name)

        def call(self, *args):
            result = original(self, *args)
            seen.append((name, _in_transaction(host)))
            return result
        monkeypatch.setattr(adapter, name, call)

    for name in ("get_invoice_document", "get_invoice_pdf", "set_invoice_status"):
        watched(name)
    if batch_reads:
        watched("get_invoice_documents")
        watched("get_invoice_pdfs")
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect(send_pdf=True)
        for n in range(1, 5):
            host.add_invoice(f"{n:02}", invoice_json(f"R-{n}", buyer={"einvoice_operator": None}),
                             pdf=b"%PDF-1.4\n%test\n%%EOF\n")
        transfer.sweep(dispatch=False)
        assert transfer.send_due() == {"accepted": 4}
        writes = [("set_invoice_status", True)] * 4
        if batch_reads:  # one call each for the whole batch, in the claim's thread (then rolled back)
            assert sorted(name for name, _ in seen if name != "set_invoice_status") == [
                "get_invoice_documents", "get_invoice_pdfs"]
            assert sorted(item for item in seen if item[0] == "set_invoice_status") == writes
        else:
            assert sorted(seen) == sorted([("get_invoice_document", False), ("get_invoice_pdf", False)] * 4 + writes)
        assert host.states() == {f"{n:02}": "accepted" for n in range(1, 5)}
        assert {t.state for t in host.transfers()} == {"accepted"}
        assert set(host.sandbox.invoices()["received_per_uuid"].values()) == {1}
        assert _events(host, host.transfers("01")[0].id) == ["transfer.queued", "transfer.request",
                                                              "transfer.accepted"]
        host.db.session.remove()
        if database == "postgresql":  # every pooled connection came back out of autocommit
            pool = host.db.engine.pool
            held = [pool.connect() for _ in range(pool.size())]
            try:
                assert [c.driver_connection.autocommit for c in held] == [False] * len(held)
            finally:
                for c in held:
                    c.close()

        seen.clear()
        host.add_invoice("05", invoice_json("R-5", buyer={"einvoice_operator": None}), pdf=b"%PDF-1.4\n%%EOF\n")
        transfer.sweep(dispatch=False)
        assert transfer.send(host.transfers("05")[0].id).state == "accepted"  # the host's session: unchanged
        in_host_transaction = database == "postgresql"  # psycopg's BEGIN came with the claimed row's reload
        assert seen == [("get_invoice_document", in_host_transaction), ("get_invoice_pdf", in_host_transaction),
                        ("set_invoice_status", True)]


def test_sqlite_locked_after_maventa_accepted_is_retried_at_once_not_left_to_the_lease(make_host, monkeypatch):
    """Another connection holds SQLite's write lock just when the answer comes back: the accept waits for it
    and lands, instead of leaving the row `sending` until its lease expires.

    Driven by the events themselves, not by sleeps: the lock is taken when Maventa's answer to the send
    arrives, and given back when the engine reports its first retry."""
    host = make_host(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.05}})  # a short busy timeout
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        (transfer_id,) = transfer.sweep(dispatch=False).created
        blocker = sqlite3.connect(host.db.engine.url.database, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        held, released = threading.Event(), threading.Event()
        real_send = httpx.Client.send

        def send_then_lock(client, request, **kwargs):
            response = real_send(client, request, **kwargs)
            if request.method == "POST" and request.url.path == "/v1/invoices" and not held.is_set():
                blocker.execute("BEGIN EXCLUSIVE")  # Maventa has the invoice; our accept is next
                held.set()
            return response

        class ReleaseOnRetry(logging.Handler):
            def emit(self, record):
                if held.is_set() and not released.is_set() and "step=db_retry" in record.getMessage():
                    blocker.execute("ROLLBACK")  # "database is locked" happened: let the retry through
                    released.set()

        monkeypatch.setattr(httpx.Client, "send", send_then_lock)
        engine_log, handler = logging.getLogger("flask_maventa.transfer"), ReleaseOnRetry(logging.WARNING)
        engine_log.addHandler(handler)
        retries_before = counters.DB_RETRIES._value.get()
        try:
            outcome = transfer.send(transfer_id)
        finally:
            engine_log.removeHandler(handler)
            blocker.close()
        assert held.is_set() and released.is_set()
        assert outcome.state == "accepted"
        assert counters.DB_RETRIES._value.get() > retries_before  # "database is locked" happened, and passed
        row = host.transfers("1")[0]
        assert row.state == "accepted" and row.attempts == 1 and row.lease_until is None
        assert host.status_of("1") == "transferred"
        assert host.sandbox.invoices()["received_per_uuid"] == {row.maventa_uuid: 1}


def test_postgresql_serialization_failure_after_maventa_accepted_is_retried_at_once(make_host, postgres_url,
                                                                                  monkeypatch):
    """SERIALIZABLE isolation: a concurrent writer changes the row while Maventa answers; our accept waits on
    its row lock, fails with a serialization error once the writer commits, is run again at once and lands.

    Driven by the events, not by sleeps: the writer updates the row when Maventa's answer arrives, and
    commits when PostgreSQL shows our accept waiting for that row."""
    host = make_host(database_url=postgres_url, SQLALCHEMY_ENGINE_OPTIONS={"isolation_level": "SERIALIZABLE"})
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        (transfer_id,) = transfer.sweep(dispatch=False).created
        failures_before = counters.DB_RETRIES._value.get()
        engine = sa.create_engine(postgres_url, isolation_level="SERIALIZABLE")
        writer, watcher = engine.connect(), engine.connect()
        committed = threading.Event()
        real_send = httpx.Client.send

        def commit_once_we_wait():
            waiting = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            while not watcher.execute(waiting).scalar_one():
                watcher.rollback()
                time.sleep(0.01)  # polling PostgreSQL's lock table, not waiting for a guessed moment
            writer.commit()
            committed.set()

        def send_then_write(client, request, **kwargs):
            response = real_send(client, request, **kwargs)
            if request.method == "POST" and request.url.path == "/v1/invoices" and not committed.is_set():
                writer.execute(sa.text("UPDATE maventa_transfer SET updated_at = now() WHERE id = :id"),
                               {"id": transfer_id})  # Maventa has the invoice; our accept is next
                threading.Thread(target=commit_once_we_wait, daemon=True).start()
            return response

        monkeypatch.setattr(httpx.Client, "send", send_then_write)
        try:
            outcome = transfer.send(transfer_id)
        finally:
            writer.close()
            watcher.close()
            engine.dispose()
        assert committed.is_set()
        assert outcome.state == "accepted"
        assert counters.DB_RETRIES._value.get() > failures_before
        row = host.transfers("1")[0]
        assert row.state == "accepted" and row.attempts == 1
        assert host.sandbox.invoices()["received_per_uuid"] == {row.maventa_uuid: 1}


def test_every_step_writes_one_structured_line_without_secrets(host, caplog):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    connection = host.connect()
    host.add_invoice("1", invoice_json("L-1"))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    with caplog.at_level(logging.INFO, logger="flask_maventa.transfer"):
        assert transfer.send(transfer_id).state == "accepted"
    lines = [r for r in caplog.records if r.name == "flask_maventa.transfer"]
    steps = [r.maventa["step"] for r in lines]
    assert steps == ["claimed", "request", "accepted"]
    accepted = lines[-1]
    assert accepted.maventa["transfer"] == transfer_id and accepted.maventa["company"] == "c1"
    assert accepted.maventa["state"] == "accepted" and accepted.maventa["attempt"] == 1
    assert "duration_ms" in accepted.maventa and "http_status=201" in accepted.getMessage()
    api_key = host.ext.secrets().decrypt(connection.api_key_encrypted)
    assert all(api_key not in r.getMessage() and "Bearer" not in r.getMessage() for r in caplog.records)


def test_metrics_exposition_has_counters_state_gauges_queue_depth_and_heartbeats(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1")
    host.add_invoice("2")
    created = transfer.sweep().created  # a send job waits in Redis
    transfer.send(created[0])
    beat = heartbeat.Heartbeat(host.app, heartbeat.WORKER, queues="x", concurrency=8)
    beat.beat()
    from werkzeug.test import Client

    response = Client(metrics.make_wsgi_app(host.app)).get("/")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert 'maventa_transfers{state="accepted"} 1.0' in text and 'maventa_transfers{state="queued"} 1.0' in text
    assert 'maventa_transfer_steps_total{step="accepted"}' in text
    assert "maventa_send_seconds_bucket" in text and "maventa_token_requests_total" in text
    assert f'maventa_queue_depth{{queue="{transfer.queue_name(transfer.SEND)}"}} 1.0' in text
    assert 'maventa_processes_alive{kind="worker"} 1.0' in text
    assert f'maventa_heartbeat_age_seconds{{kind="worker",process="{beat.id}"}}' in text
    assert "maventa_oldest_due_seconds" in text


def test_metrics_answer_while_redis_is_down(make_host):
    host = make_host(MAVENTA_REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens
    from werkzeug.test import Client

    with host.app.app_context():
        host.connect()
    text = Client(metrics.make_wsgi_app(host.app)).get("/").get_data(as_text=True)
    assert 'maventa_transfers{state="queued"} 0.0' in text and "maventa_queue_depth{" not in text


def test_the_transfer_log_says_when_no_worker_or_scheduler_is_alive(make_host):
    host = make_host(MAVENTA_HEARTBEAT_TIMEOUT=60)
    with host.app.app_context():
        host.connect()
        client = host.app.test_client()
        html = client.get(f"{PREFIX}/transfers").get_data(as_text=True)
        assert 'data-runtime-warning="worker"' in html and "No worker has ever run" in html
        assert 'data-runtime-warning="scheduler"' in html

        now = utcnow()
        host.db.session.add_all([
            Process(id="w1", kind="worker", hostname="h", pid=1, started_at=now, seen_at=now),
            Process(id="s1", kind="scheduler", hostname="h", pid=2, started_at=now, seen_at=now)])
        host.db.session.commit()
        html = client.get(f"{PREFIX}/transfers/counters", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "data-runtime-warning" not in html

        host.db.session.execute(sa.update(Process).where(Process.id == "w1").values(
            seen_at=now - timedelta(minutes=3)))
        host.db.session.commit()
        html = client.get(f"{PREFIX}/transfers/counters", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "No worker has been alive for 3 min," in html
        assert 'data-runtime-warning="scheduler"' not in html


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_claim_batch_never_hands_one_row_to_two_claimers(make_host, database, request):
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    host = make_host(database_url=url)
    with host.app.app_context():
        host.connect()
        for n in range(1, 41):
            host.add_invoice(f"{n:02}")
        transfer.sweep(dispatch=False)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def claimer():
        try:
            with host.app.app_context():
                while batch := transfer.claim_batch(3):
                    claimed.extend(claimed_transfer.id for claimed_transfer, _ in batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40
    with host.app.app_context():
        wait_for(lambda: set(host.states().values()) == {"sending"}, timeout=5, what="all claimed")


def test_metrics_of_worker_processes_reach_the_web_process_in_multiprocess_mode(make_host, tmp_path):
    """PROMETHEUS_MULTIPROC_DIR set for every process: a worker's counters show in another process's
    exposition (prometheus-client must see the variable before it is imported, hence fresh processes)."""
    import os
    import sys

    from ..fixtures import launcher
    from .conftest import ROOT

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    host = make_host()
    with host.app.app_context():
        host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
        host.connect()
        host.add_invoice("1")
        transfer.sweep()
        env = {**host.env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        worker = launcher.run([sys.executable, "-m", "flask", "maventa", "worker", "--burst"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert worker.returncode == 0, worker.stderr[-3000:]
        assert host.states() == {"1": "accepted"}
    web = launcher.run([sys.executable, "-c", (
        "from tests.transfer.hostapp import create_app\n"
        "from flask_maventa.runtime.metrics import render\n"
        "print(render(create_app()).decode())")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert web.returncode == 0, web.stderr[-3000:]
    assert 'maventa_transfer_steps_total{step="accepted"} 1.0' in web.stdout
    assert 'maventa_send_seconds_count{result="accepted"} 1.0' in web.stdout
    assert 'maventa_transfers{state="accepted"} 1.0' in web.stdout
    assert os.listdir(metrics_dir)  # the worker wrote its counters there
