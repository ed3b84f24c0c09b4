"""The transfer tests' host: the SQL-backed host app, a sandbox company, real workers as subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from flask_maventa.infra.models import Connection, Transfer, utcnow

from ..fixtures import launcher
from ..fixtures.processes import kill_tree
from .hostapp import create_app, host_invoice

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "ubl" / "cases"
BUYER_EIA = "0192:123456785"


def invoice_json(number: str, **changes) -> dict:
    """A valid Norwegian invoice from the UBL corpus, renumbered; ``buyer`` changes are merged."""
    document = json.loads((CASES / "no_domestic_basic.json").read_text())
    document["number"] = number
    buyer = changes.pop("buyer", None)
    if buyer is not None:
        document["buyer"] = {k: v for k, v in {**document["buyer"], **buyer}.items() if v is not None}
    document.update(changes)
    return document


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Host:
    """One host app (in this process) plus helpers to run real workers/schedulers on the same config."""

    def __init__(self, tmp_path, database_url, redis_url, sandbox, smtp=None, **config):
        self.sandbox = sandbox
        self.config = {
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'host.db'}",
            "MAVENTA_REDIS_URL": redis_url,
            "MAVENTA_QUEUE": f"maventa-test-{uuid.uuid4().hex[:8]}",
            "MAVENTA_SANDBOX_URL": sandbox.url,
            "MAVENTA_VENDOR_API_KEY": sandbox.vendor_api_key,
            "MAVENTA_RETRY_SCHEDULE": [1, 1, 1],
            "MAVENTA_POLL_SCHEDULE": [1, 1, 2],
            "MAVENTA_SWEEP_INTERVAL": 1,
            "MAVENTA_DISPATCH_INTERVAL": 1,  # the scheduler enqueues delivery polls on this tick (default 5 s)
            "MAVENTA_LEASE_SECONDS": 30,
            "MAVENTA_HTTP_TIMEOUT": 10.0,
            "MAVENTA_MAIL_SERVER": "127.0.0.1",
            "MAVENTA_MAIL_PORT": smtp.port if smtp else 1,
            "MAVENTA_SECRET_KEY": None,
        }
        self.config.update(config)
        self.app = create_app(**self.config)
        self.db = self.app.extensions["test.db"]
        self.ext = self.app.extensions["maventa"]
        self.adapter = self.ext.adapter
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.tmp_path = tmp_path

    # -- data --------------------------------------------------------------------------------

    def connect(self, company_id: str = "c1", *, signed: bool = True, **fields) -> Connection:
        company_uuid, api_key = self.sandbox.new_company(verified=signed)
        values = dict(
            company_id=company_id, environment="sandbox", company_uuid=company_uuid,
            api_key_encrypted=self.ext.secrets().encrypt(api_key), company_state="VERIFIED", auth_state="SIGNED",
            transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed",
            error_emails="errors@fjord.example", active=True, activated_at=utcnow(), settings_saved_at=utcnow(),
            send_pdf=False, send_customer_email=True,
        )
        values.update(fields)
        connection = Connection(**values)
        self.db.session.add(connection)
        self.db.session.commit()
        return connection

    def add_invoice(self, invoice_id: str, document: dict | None = None, **kwargs) -> None:
        self.adapter.add_invoice(invoice_id, document or invoice_json(f"N-{invoice_id}"), **kwargs)

    def transfers(self, invoice_id: str | None = None) -> list[Transfer]:
        self.db.session.rollback()
        self.db.session.expire_all()
        query = self.db.session.query(Transfer).order_by(Transfer.id)
        if invoice_id is not None:
            query = query.filter_by(invoice_id=invoice_id)
        return query.all()

    def states(self) -> dict[str, str]:
        return {t.invoice_id: t.state for t in self.transfers()}

    def status_of(self, invoice_id: str) -> str:
        self.db.session.rollback()
        return self.db.session.execute(
            host_invoice.select().with_only_columns(host_invoice.c.status_id).where(host_invoice.c.id == invoice_id)
        ).scalar()

    # -- processes ---------------------------------------------------------------------------

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(FLASK_APP="tests.transfer.hostapp:create_app", MAVENTA_TEST_CONFIG=json.dumps(self.config),
                   PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        return env

    def start(self, *args: str) -> subprocess.Popen:
        log = self.tmp_path / f"proc{len(self.processes)}.log"
        self.logs.append(log)
        with log.open("wb") as output:  # the process writes to its own copy of the file
            process = launcher.popen(
                [sys.executable, "-m", "flask", "maventa", *args], cwd=ROOT, env=self.env(),
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def worker(self, *args: str) -> subprocess.Popen:
        return self.start("worker", *args)

    def scheduler(self) -> subprocess.Popen:
        return self.start("scheduler")

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        """Kill a worker and every process below it (its supervisor's children)."""
        kill_tree(process.pid, sig)
        process.wait(15)

    def output(self, tail: int | None = 4000) -> str:
        """The processes' logs, the last ``tail`` characters of each (None: all of it)."""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail if tail else 0:]}"
                         for p in self.logs if p.exists())

    def close(self) -> None:
        # Clean-up after the test, not a check: every process and everything below it is killed at once (a
        # warm shutdown, one process after the other, cost seconds per test; the SIGTERM test checks that).
        for process in self.processes:
            kill_tree(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers of its session (start_new_session)
        for process in self.processes:
            process.wait(15)
        with self.app.app_context():
            self.db.session.remove()
            self.db.engine.dispose()


@pytest.fixture
def make_host(tmp_path, redis_url, sandbox):
    hosts = []

    def factory(database_url=None, smtp=None, **config) -> Host:
        host = Host(tmp_path, database_url, redis_url, sandbox, smtp, **config)
        hosts.append(host)
        return host

    yield factory
    for host in hosts:
        host.close()


@pytest.fixture
def host(make_host, smtp_server):
    """SQLite host with the SMTP sink wired in; the app context is pushed."""
    host = make_host(smtp=smtp_server)
    host.smtp = smtp_server
    with host.app.app_context():
        yield host
