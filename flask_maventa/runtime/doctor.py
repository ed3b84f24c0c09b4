"""``flask maventa doctor``: every way the integration can be broken, one line each, with its fix.

Checks are small functions in two lists, so a new one is one function and one line:

- :data:`CHECKS` take the :class:`Doctor` and yield :class:`Result` lines (configuration, database,
  Redis, heartbeats, stuck transfers, ...);
- :data:`CONNECTION_CHECKS` take the :class:`Doctor` and one connection and yield its lines
  (credentials, verified, settings, seller data, batch reads, webhook).

A check that cannot tell (its precondition failed, e.g. no tables) yields nothing. The command prints
``[ok]``/``[FAIL]`` lines, a ``fix:`` under each failure, and exits 1 when anything failed. No line
ever holds a secret: messages come from our own texts and from the client's scrubbed errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import click
import httpx
import sqlalchemy as sa
from flask import Config, current_app
from sqlalchemy.orm import scoped_session
from sqlalchemy.pool import QueuePool

from ..client.http import tls_context
from ..document.preflight import check_document
from ..host import HostAdapter
from ..infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ..infra.heartbeat import SCHEDULER, WORKER, health
from ..infra.models import Connection, metadata
from ..infra.state import MaventaState, current_state
from ..services.transfer import oldest_due_age, transfer_blockers
from ..services.transfer.batch import pool_threads
from ..services.transfer.queries import stuck_count
from .doctor_live import live_checks


@dataclass(frozen=True)
class Result:
    ok: bool
    what: str
    fix: str = ""


def ok(what: str) -> Result:
    return Result(True, what)


def problem(what: str, fix: str) -> Result:
    return Result(False, what, fix)


@dataclass
class Doctor:
    """What the checks share: the extension, its config, and what earlier checks found out."""

    ext: MaventaState
    config: Config
    live: bool = False  # --live: also the read-only checks against Maventa (doctor_live.py)
    tables_ok: bool = False
    connections: list[Connection] = field(default_factory=list)

    @property
    def session(self) -> scoped_session[Any]:
        return self.ext.session


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    return f"{seconds // 3600} hours"


# -- the checks ---------------------------------------------------------------------------------------------


def vendor_key(doc: Doctor) -> Iterator[Result]:
    if doc.config.get("MAVENTA_VENDOR_API_KEY"):
        yield ok("MAVENTA_VENDOR_API_KEY is set")
    else:
        yield problem("MAVENTA_VENDOR_API_KEY is not set", "set it to your partner 'Software API key' from Maventa")


def secret_key(doc: Doctor) -> Iterator[Result]:
    if doc.config.get("MAVENTA_SECRET_KEY") or doc.config["MAVENTA_ENVIRONMENT"] != "production":
        yield ok("MAVENTA_SECRET_KEY is set" if doc.config.get("MAVENTA_SECRET_KEY")
                 else "API keys are encrypted with a key derived from SECRET_KEY (not production)")
    else:
        yield problem("MAVENTA_SECRET_KEY is not set", "generate one with `flask maventa generate-key`")


def maventa_url(doc: Doctor) -> Iterator[Result]:
    url = doc.ext.base_url()
    if url.startswith(("http://", "https://")):
        yield ok(f"Maventa URL: {url}")
    else:
        yield problem(f"Maventa URL is {url!r}", "check MAVENTA_ENVIRONMENT / MAVENTA_SANDBOX_URL")


def database(doc: Doctor) -> Iterator[Result]:
    try:
        existing = set(sa.inspect(doc.ext.db.engine).get_table_names())
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        yield problem(f"the database does not answer ({type(exc).__name__})", "check SQLALCHEMY_DATABASE_URI")
        return
    missing = sorted(set(metadata.tables) - existing)
    if missing:
        yield problem(f"maventa_* tables are missing: {', '.join(missing)}", "run `flask maventa upgrade`")
        return
    doc.tables_ok = True
    doc.connections = list(doc.session.scalars(sa.select(Connection).order_by(Connection.id)))
    yield ok("maventa_* tables exist")


def pool_size(doc: Doctor) -> Iterator[Result]:
    pool = doc.ext.db.engine.pool
    if not isinstance(pool, QueuePool):
        return  # SQLite memory, NullPool, StaticPool: no limit to check
    capacity = pool.size() + max(0, pool._max_overflow)  # QueuePool has no public accessor for it
    concurrency = int(doc.config["MAVENTA_SEND_CONCURRENCY"])
    needed = pool_threads(concurrency) + 2  # the batch's threads, the job's own, the heartbeat
    if capacity >= needed:
        yield ok(f"database pool ({capacity} connections) fits MAVENTA_SEND_CONCURRENCY")
    else:
        yield problem(f"the database pool has {capacity} connections; a worker process needs {needed}",
                      "raise pool_size/max_overflow in SQLALCHEMY_ENGINE_OPTIONS or lower MAVENTA_SEND_CONCURRENCY")


def redis_reachable(doc: Doctor) -> Iterator[Result]:
    where = doc.config["MAVENTA_REDIS_URL"].split("@")[-1]
    try:
        doc.ext.redis().ping()
    except Exception as exc:  # noqa: BLE001
        yield problem(f"Redis does not answer at {where} ({type(exc).__name__})",
                      "start Redis or fix MAVENTA_REDIS_URL; transfers wait in the database meanwhile")
        return
    yield ok(f"Redis answers at {where}")


def heartbeats(doc: Doctor) -> Iterator[Result]:
    if not doc.tables_ok:
        return
    commands = {WORKER: "flask maventa worker", SCHEDULER: "flask maventa scheduler"}
    for kind, found in health(doc.session).items():
        if found.alive:
            yield ok(f"{found.alive} {kind}(s) alive")
        elif found.last_seen is None:
            yield problem(f"no {kind} has ever run", f"start `{commands[kind]}` (see Deploying in the README)")
        else:
            yield problem(f"no {kind} has been alive for {_ago(found.silent_for or timedelta(0))}",
                          f"start `{commands[kind]}` again and check its log")


def stuck_transfers(doc: Doctor) -> Iterator[Result]:
    if not doc.tables_ok:
        return
    stuck = stuck_count()
    minutes = int(doc.config["MAVENTA_STUCK_MINUTES"])
    if stuck:
        yield problem(f"{stuck} transfer(s) not accepted by Maventa after {minutes} minutes "
                      f"(oldest due for {_ago(timedelta(seconds=oldest_due_age()))})",
                      "check that workers and a scheduler run and reach Maventa; the transfer log shows each error")
    else:
        yield ok(f"no transfer waiting longer than {minutes} minutes")


def webhook_reachable(doc: Doctor) -> Iterator[Result]:
    base = doc.config.get("MAVENTA_WEBHOOK_BASE_URL")
    if not base:
        yield ok("webhooks off (MAVENTA_WEBHOOK_BASE_URL unset): delivery status comes by polling")
        return
    url = f"{base.rstrip('/')}{doc.config['MAVENTA_URL_PREFIX'].rstrip('/')}/webhooks/0/doctor-probe"
    try:  # an unknown token must get our own 403 answer: then Maventa's calls reach this app too
        answer = httpx.post(url, json={}, timeout=10, verify=tls_context())
        reached = answer.status_code == 403 and "unknown webhook" in answer.text
        detail = str(answer.status_code)
    except httpx.HTTPError as exc:
        reached, detail = False, type(exc).__name__
    if reached:
        yield ok(f"the webhook endpoint answers at {base}")
    else:
        yield problem(f"the webhook endpoint does not answer at {base} ({detail})",
                      "make MAVENTA_WEBHOOK_BASE_URL this app's public URL, reachable from the internet")


def live(doc: Doctor) -> Iterator[Result]:
    """``--live``: read-only checks, against Maventa, of what we assume beyond its swagger."""
    if not doc.live or not doc.tables_ok:
        return
    for passed, what, fix in live_checks():
        yield Result(passed, what, fix)


def connections(doc: Doctor) -> Iterator[Result]:
    for connection in doc.connections:
        for check in CONNECTION_CHECKS:
            yield from check(doc, connection)


# -- per connection -----------------------------------------------------------------------------------------


def credentials(doc: Doctor, connection: Connection) -> Iterator[Result]:
    label = f"company {connection.company_id}"
    if not connection.has_credentials:
        if connection.active:
            yield problem(f"{label}: active without Maventa credentials",
                          "register the company or enter its credentials on its Maventa page")
        return
    try:
        doc.ext.company_client(connection).check_credentials()
    except SecretUnreadable:
        yield problem(f"{label}: {UNREADABLE}", UNREADABLE_HINT)
        return
    except Exception as exc:  # noqa: BLE001 - the client's messages are scrubbed of secrets
        yield problem(f"{label}: {type(exc).__name__}: {exc}",
                      "check the Company UUID and User API key on the company's Maventa page")
        return
    yield ok(f"{label}: Maventa accepts its credentials" + (" (active)" if connection.active else ""))


def verified(doc: Doctor, connection: Connection) -> Iterator[Result]:
    if not connection.active:
        return
    label = f"company {connection.company_id}"
    if connection.verified:
        yield ok(f"{label}: verified by Maventa")
    else:
        yield problem(f"{label}: not verified by Maventa ({connection.company_state})",
                      "complete the signing on the company's Maventa page")


def settings_valid(doc: Doctor, connection: Connection) -> Iterator[Result]:
    if not connection.active:
        return
    label = f"company {connection.company_id}"
    reasons = transfer_blockers(connection)
    if reasons:
        yield problem(f"{label}: the sweep skips it: {' '.join(reasons)}",
                      "fix its settings on the company's Maventa page")
    else:
        yield ok(f"{label}: settings let it send")


def seller_data(doc: Doctor, connection: Connection) -> Iterator[Result]:
    """The company's own data (the seller part of its invoices) is enough for a valid e-invoice."""
    if not connection.active or not connection.transfer_status_id:
        return
    label = f"company {connection.company_id}"
    adapter = doc.ext.adapter
    ids = list(adapter.list_invoice_ids(connection.company_id, connection.transfer_status_id, 1))
    if not ids:
        yield ok(f"{label}: no invoice waiting, seller data not checked")
        return
    try:
        document = adapter.get_invoice_document(str(ids[0]))
    except Exception as exc:  # noqa: BLE001 - the host's own lookup failed
        yield problem(f"{label}: invoice {ids[0]} cannot be read ({type(exc).__name__})",
                      "check the ERP's HostAdapter.get_invoice_document")
        return
    seller = [f for f in check_document(document) if f.severity == "error" and f.field.startswith("seller")]
    if seller:
        yield problem(f"{label}: its seller data would fail every invoice: "
                      + "; ".join(f.render_message() for f in seller),
                      " ".join(dict.fromkeys(f.render_hint() for f in seller if f.hint)) or
                      "complete the company's data in the ERP")
    else:
        yield ok(f"{label}: seller data is complete (checked on invoice {ids[0]})")


def batch_reads(doc: Doctor, connection: Connection) -> Iterator[Result]:
    """The host's optional batch reads (which the worker uses) give what its one-by-one reads give: a batch
    read that mixed up its ids would send one customer's invoice under another's number."""
    if not connection.active or not connection.transfer_status_id:
        return
    adapter = doc.ext.adapter
    if type(adapter).get_invoice_documents is HostAdapter.get_invoice_documents:
        return  # none: the worker reads each invoice as it sends it
    label = f"company {connection.company_id}"
    ids = [str(i) for i in adapter.list_invoice_ids(connection.company_id, connection.transfer_status_id, 1)]
    if not ids:
        return
    fix = ("make HostAdapter.get_invoice_documents and get_invoice_pdfs give what get_invoice_document and "
           "get_invoice_pdf give for the same id (or remove them: each invoice is then read as it is sent)")
    try:
        documents = adapter.get_invoice_documents(ids)
        differs = ids[0] in documents and documents[ids[0]] != adapter.get_invoice_document(ids[0])
        if connection.send_pdf and not differs:
            pdfs = adapter.get_invoice_pdfs(ids)
            differs = ids[0] in pdfs and pdfs[ids[0]] != adapter.get_invoice_pdf(ids[0])
    except Exception as exc:  # noqa: BLE001 - the host's lookup failed
        yield problem(f"{label}: the ERP's batch read of invoice {ids[0]} failed ({type(exc).__name__})", fix)
        return
    if differs:
        yield problem(f"{label}: the ERP's batch read gives invoice {ids[0]} other data than its one-by-one read", fix)
    else:
        yield ok(f"{label}: the ERP's batch read agrees with its one-by-one read (checked on invoice {ids[0]})")


def webhook_registered(doc: Doctor, connection: Connection) -> Iterator[Result]:
    if not connection.active or not doc.config.get("MAVENTA_WEBHOOK_BASE_URL"):
        return
    label = f"company {connection.company_id}"
    if connection.webhook_id:
        yield ok(f"{label}: delivery webhook registered with Maventa")
    else:
        yield problem(f"{label}: no delivery webhook registered with Maventa yet",
                      "the next sweep registers it; if this stays, check the scheduler's log")


Check = Callable[[Doctor], Iterable[Result]]
ConnectionCheck = Callable[[Doctor, Connection], Iterable[Result]]

CHECKS: list[Check] = [
    vendor_key, secret_key, maventa_url, database, pool_size, redis_reachable, heartbeats, stuck_transfers,
    webhook_reachable, connections, live,
]
CONNECTION_CHECKS: list[ConnectionCheck] = [
    credentials, verified, settings_valid, seller_data, batch_reads, webhook_registered,
]


def run(echo: Callable[[str], None] = click.echo, *, live: bool = False) -> int:
    """Run every check and print its lines; returns the number of problems."""
    doc = Doctor(ext=current_state(), config=current_app.config, live=live)
    problems = 0
    for check in CHECKS:
        try:
            results = list(check(doc))
        except Exception as exc:  # noqa: BLE001 - a broken check is itself a finding, the others still run
            doc.session.rollback()
            results = [problem(f"{check.__name__} could not run ({type(exc).__name__}: {exc})",
                               "see the exception above in the log; the other checks still ran")]
        for result in results:
            problems += not result.ok
            echo(f"[{'ok' if result.ok else 'FAIL'}] {result.what}"
                 + ("" if result.ok or not result.fix else f"\n       fix: {result.fix}"))
    echo("All checks passed." if not problems else f"{problems} problem(s) found.")
    return problems
