"""`flask maventa sweep` and `flask maventa doctor` as an operator runs them."""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.serving import make_server

from flask_maventa import HostAdapter
from flask_maventa.infra import heartbeat
from flask_maventa.infra.models import Process, Transfer, utcnow
from flask_maventa.runtime import doctor
from flask_maventa.services import transfer

from ..fixtures import launcher
from .conftest import ROOT, invoice_json, wait_for


def _flask(host, *args):
    return launcher.run([sys.executable, "-m", "flask", "maventa", *args], cwd=ROOT, env=host.env(),
                        capture_output=True, text=True, timeout=120)


def _alive(host, kind):
    host.db.session.rollback()
    return host.db.session.scalar(sa.select(sa.func.count()).select_from(Process).where(
        Process.kind == kind, Process.stopped_at.is_(None)))


def _silent(host, kind):
    host.db.session.rollback()
    return heartbeat.health(host.db.session)[kind].silent_for is not None


def test_sweep_command_creates_and_dispatches(host):
    host.connect()
    host.add_invoice("1")
    host.connect("c1-bergen", transfer_status_id="sent")
    result = _flask(host, "sweep")
    assert result.returncode == 0, result.stderr
    assert "created 1 transfer(s), dispatched 1 job(s)" in result.stdout
    assert "skipped company c1-bergen" in result.stdout
    assert host.states() == {"1": "queued"}


def test_doctor_reports_a_working_setup_and_names_fixes(host):
    good = host.connect()
    host.add_invoice("1", status_id="draft")
    host.worker()
    host.scheduler()
    wait_for(lambda: _alive(host, "worker") and _alive(host, "scheduler"), timeout=30, what="heartbeats")
    result = _flask(host, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("Maventa accepts its credentials", "Redis answers", "1 worker(s) alive", "1 scheduler(s) alive",
                 "c1: verified by Maventa", "c1: settings let it send", "no transfer waiting longer"):
        assert line in result.stdout, line

    good.api_key_encrypted = host.ext.secrets().encrypt("not-the-key-42")
    host.db.session.commit()
    broken = _flask(host, "doctor")
    assert broken.returncode == 1
    assert "fix: check the Company UUID and User API key" in broken.stdout
    assert "not-the-key-42" not in broken.stdout + broken.stderr


def test_doctor_fails_without_workers_and_scheduler_and_says_how_long(make_host):
    host = make_host(MAVENTA_HEARTBEAT_TIMEOUT=2)
    with host.app.app_context():
        host.connect()
        never = _flask(host, "doctor")
        assert never.returncode == 1
        assert "[FAIL] no worker has ever run\n       fix: start `flask maventa worker`" in never.stdout
        assert "[FAIL] no scheduler has ever run" in never.stdout

        worker = host.worker()
        wait_for(lambda: _alive(host, "worker"), timeout=30, what="the worker's heartbeat")
        host.kill(worker)  # no clean exit: the heartbeat just stops
        # Waited for in-process on the rule the doctor reads (a doctor process per poll cost seconds each).
        wait_for(lambda: _silent(host, "worker"), timeout=30, what="the worker's heartbeat to go stale")
        silent = _flask(host, "doctor")
        assert silent.returncode == 1
        assert "no worker has been alive for" in silent.stdout, silent.stdout


def test_doctor_finds_stuck_transfers_and_incomplete_seller_data(host):
    host.connect()
    seller = invoice_json("S-1")
    seller["seller"].pop("vat_number", None)
    seller["seller"]["address"] = None
    host.add_invoice("1", seller)
    host.add_invoice("2")
    transfer.sweep(dispatch=False)
    host.db.session.execute(sa.update(Transfer).values(created_at=utcnow() - timedelta(hours=2)))
    host.db.session.commit()
    lines: list[str] = []
    problems = doctor.run(lines.append)
    text = "\n".join(lines)
    assert problems >= 2
    assert "[FAIL] 2 transfer(s) not accepted by Maventa after 30 minutes" in text
    assert "[FAIL] company c1: its seller data would fail every invoice" in text
    assert "fix:" in text.split("seller data would fail")[1].split("\n")[1]


def test_doctor_compares_the_hosts_batch_reads_with_its_one_by_one_reads(host, monkeypatch):
    """A batch read that mixed up its ids would send one customer's invoice under another's number."""
    host.connect(send_pdf=True)
    host.add_invoice("1", invoice_json("B-1"), pdf=b"%PDF-1.4\n%one\n%%EOF\n")
    host.add_invoice("2", invoice_json("B-2"), pdf=b"%PDF-1.4\n%two\n%%EOF\n")

    def lines() -> str:
        found: list[str] = []
        doctor.run(found.append)
        return "\n".join(found)

    assert "[ok] company c1: the ERP's batch read agrees with its one-by-one read (checked on invoice 1)" in lines()
    adapter = type(host.adapter)
    documents, pdfs = adapter.get_invoice_documents, adapter.get_invoice_pdfs
    monkeypatch.setattr(adapter, "get_invoice_pdfs", lambda self, ids: {"1": pdfs(self, ["2"])["2"]})
    mixed = lines()
    assert "[FAIL] company c1: the ERP's batch read gives invoice 1 other data than its one-by-one read" in mixed
    assert "fix: make HostAdapter.get_invoice_documents and get_invoice_pdfs give what" in mixed
    monkeypatch.setattr(adapter, "get_invoice_pdfs", pdfs)
    monkeypatch.setattr(adapter, "get_invoice_documents", lambda self, ids: {"1": documents(self, ["2"])["2"]})
    assert "[FAIL] company c1: the ERP's batch read gives invoice 1 other data" in lines()
    monkeypatch.setattr(adapter, "get_invoice_documents", lambda self, ids: 1 / 0)
    assert "[FAIL] company c1: the ERP's batch read of invoice 1 failed (ZeroDivisionError)" in lines()
    monkeypatch.setattr(adapter, "get_invoice_documents", HostAdapter.get_invoice_documents)
    assert "batch read" not in lines()  # none: nothing to compare


def test_doctor_checks_that_the_webhook_endpoint_answers(make_host):
    host = make_host()
    server = make_server("127.0.0.1", 0, host.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host.app.config["MAVENTA_WEBHOOK_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
        with host.app.app_context():
            lines: list[str] = []
            doctor.run(lines.append)
            assert any(line.startswith("[ok] the webhook endpoint answers") for line in lines), lines
            host.app.config["MAVENTA_WEBHOOK_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
            lines.clear()
            doctor.run(lines.append)
            assert any(line.startswith("[FAIL] the webhook endpoint does not answer") for line in lines), lines
    finally:
        server.shutdown()


def test_a_new_doctor_check_is_one_function_and_one_line(host):
    def key_is_long_enough(doc):
        yield doctor.problem("the example check failed", "do what the example says")

    doctor.CHECKS.append(key_is_long_enough)
    try:
        lines: list[str] = []
        doctor.run(lines.append)
    finally:
        doctor.CHECKS.remove(key_is_long_enough)
    assert "[FAIL] the example check failed\n       fix: do what the example says" in lines
