"""The transfer state machine: every due invoice reaches Maventa exactly once.

    queued ──claim──▶ sending ──201──▶ accepted ──▶ delivered
      ▲                 │  │               └── Maventa FAILED ──▶ failed
      └── transient ────┘  └── timeout after the request left ──▶ in_doubt ──read by our uuid──▶ accepted | resend
    permanent error (4xx, pre-flight, unverified company) ──────────────────────────────────────▶ failed

The database is the outbox: a row is created first and Redis only dispatches it. Every
state change is a conditional ``UPDATE … WHERE state IN (…)`` checked by its rowcount, so two
workers (or a worker and a webhook) can never both act on one transfer, on SQLite and on
PostgreSQL alike. The host invoice's status changes in the same transaction as our row.

Functions here run inside the host's app context; the RQ job wrappers live in :mod:`.jobs`.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import audit, signals
from .client import errors as maventa_errors
from .crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from .extension import current_maventa
from .i18n import N_, company_locale, gettext
from .models import Connection, Transfer, utcnow
from .routing import ROUTES, send_params
from .settings import transfer_blockers as settings_blockers

log = logging.getLogger("flask_maventa.transfer")

QUEUED, SENDING, IN_DOUBT, ACCEPTED, DELIVERED, FAILED = (
    "queued", "sending", "in_doubt", "accepted", "delivered", "failed")
STATES = (QUEUED, SENDING, IN_DOUBT, ACCEPTED, DELIVERED, FAILED)
OPEN_STATES = (QUEUED, SENDING, IN_DOUBT)  # not yet accepted by Maventa

# Our invoice UUIDs live in their own namespace, so they never collide with anyone else's uuid5.
UUID_NAMESPACE = uuidlib.UUID("5c0b3a52-8d0e-4f55-9a51-6d6176656e74")

# Maventa's ``lang`` values for the customer's ISO 639-1 language.
MAVENTA_LANG = {"fi": "FI", "sv": "SE", "nb": "NO", "nn": "NO", "no": "NO", "da": "DK", "nl": "NL", "en": "EN"}

BODY_LIMIT = 2000  # characters of a response body kept in the timeline


class RetryRefused(ValueError):
    """A retry was asked for a transfer that is not failed (or not the invoice's latest revision)."""


# -- identity ----------------------------------------------------------------------------------------------


def maventa_uuid(connection: Connection, invoice_id: str, revision: int) -> str:
    """Our own invoice UUID for one revision of one invoice of one connection.

    Every attempt of a revision sends the same UUID, so Maventa can never create the invoice twice;
    a retry after a fix is a new revision and so a new UUID.
    """
    name = f"{connection.id}/{connection.company_uuid or ''}/{invoice_id}/{revision}"
    return str(uuidlib.uuid5(UUID_NAMESPACE, name))


def send_job_id(transfer_id: int) -> str:
    return f"maventa-send-{transfer_id}"


def poll_job_id(transfer_id: int) -> str:
    return f"maventa-poll-{transfer_id}"


# -- small helpers -----------------------------------------------------------------------------------------


def _cfg(key: str):
    return current_app.config[key]


def backoff(schedule, attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the schedule's step, at least ``Retry-After``."""
    schedule = list(schedule)
    delay = float(schedule[min(max(attempt - 1, 0), len(schedule) - 1)])
    return max(delay, float(retry_after or 0))


def _transition(session, transfer: Transfer, from_states, **values) -> bool:
    """Move ``transfer`` out of one of ``from_states`` atomically; False if someone else moved it first."""
    values.setdefault("updated_at", utcnow())
    result = session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.state.in_(list(from_states)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    for key, value in values.items():  # keep the loaded object in step without a reload
        sa.orm.attributes.set_committed_value(transfer, key, value)
    return True


def _body_summary(response) -> str | None:
    if response is None:
        return None
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - a streamed or undecodable body is summarised as absent
        return None
    return text[:BODY_LIMIT]


def _error_data(exc: maventa_errors.MaventaError) -> dict:
    data = {"error": type(exc).__name__, "code": exc.code, "message": exc.message, "details": exc.details}
    body = _body_summary(exc.response)
    if body:
        data["response_body"] = body
    return data


def _set_host_status(transfer: Transfer, status_id: str | None) -> None:
    if status_id:
        current_maventa().adapter.set_invoice_status(transfer.invoice_id, status_id)


def _send_signal(signal, transfer: Transfer) -> None:
    try:
        signal.send(transfer, app=current_app._get_current_object())
    except Exception:  # noqa: BLE001 - a host receiver's bug must not undo a committed transfer
        log.exception("a receiver of %s failed for transfer %s", signal.name, transfer.id)


# -- the sweep ---------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    created: list[int] = field(default_factory=list)
    dispatched: list[int] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # company id -> reason
    expired_leases: int = 0
    redis_error: str | None = None


def transfer_blockers(connection: Connection) -> list[str]:
    """Why this connection may not send now (empty: it may); the rules live in the settings module."""
    return list(dict.fromkeys(problem.message for problem in settings_blockers(connection)))


def sweep(*, dispatch: bool = True) -> SweepResult:
    """Create transfers for every due invoice of every active connection, then dispatch what is due.

    Cost: one indexed host query per active connection, returning at most MAVENTA_SWEEP_BATCH ids, and
    one query of our own per batch -- never a scan of the host's invoice table.
    """
    ext = current_maventa()
    session = ext.session
    result = SweepResult()
    batch = int(_cfg("MAVENTA_SWEEP_BATCH"))
    for connection in session.scalars(sa.select(Connection).where(Connection.active.is_(True))).all():
        with company_locale(connection):  # what the sweep writes for a company is in its language
            _sweep_connection(connection, batch, result)
    result.expired_leases = expire_leases()
    if dispatch:
        try:
            result.dispatched = dispatch_due()
        except Exception as exc:  # noqa: BLE001 - Redis down: rows stay queued, the next sweep dispatches them
            result.redis_error = f"{type(exc).__name__}: {exc}"
            log.warning("sweep could not dispatch jobs (%s); the transfers stay queued", result.redis_error)
    for transfer_id in result.created:
        transfer = session.get(Transfer, transfer_id)
        if transfer is not None:
            _send_signal(signals.transfer_queued, transfer)
    return result


def _sweep_connection(connection: Connection, batch: int, result: SweepResult) -> None:
    """One company's part of the sweep: record why it may not send, or create its due transfers."""
    from .views.webhooks import ensure_webhook

    ext = current_maventa()
    session = ext.session
    reason = " ".join(transfer_blockers(connection)) or None
    if connection.blocked_reason != reason:
        connection.blocked_reason = reason
        if reason:
            audit.record(session, "transfer.blocked", reason, connection=connection)
        session.commit()
    if reason:
        result.blocked[connection.company_id] = reason
        return
    ensure_webhook(connection)
    invoice_ids = [str(i) for i in ext.adapter.list_invoice_ids(
        connection.company_id, connection.transfer_status_id, batch)]
    result.created += _create_transfers(session, connection, invoice_ids)


def _create_transfers(session, connection: Connection, invoice_ids: list[str]) -> list[int]:
    """One transfer per invoice that has none yet; the unique (connection, invoice, revision) refuses a twin."""
    if not invoice_ids:
        return []
    known = set(session.scalars(
        sa.select(Transfer.invoice_id).where(
            Transfer.connection_id == connection.id, Transfer.invoice_id.in_(invoice_ids))
    ))
    created = []
    for invoice_id in invoice_ids:
        if invoice_id in known:
            # Whatever state its latest revision is in, the invoice has been handled: a failed one
            # comes back only through "retry after fix" (a new revision), never on its own.
            continue
        transfer = Transfer(
            connection_id=connection.id, invoice_id=invoice_id, revision=1, state=QUEUED,
            maventa_uuid=maventa_uuid(connection, invoice_id, 1),
        )
        try:
            with session.begin_nested():
                session.add(transfer)
                session.flush()
                audit.record(session, "transfer.queued", gettext("Queued for Maventa."), transfer=transfer,
                             connection=connection, data={"revision": 1, "uuid": transfer.maventa_uuid})
        except IntegrityError:  # another sweep created it a moment ago
            continue
        created.append(transfer.id)
    session.commit()
    return created


def expire_leases() -> int:
    """A worker killed mid-send leaves ``sending`` with a lease; once expired the outcome is unknown."""
    session = current_maventa().session
    now = utcnow()
    expired = session.scalars(
        sa.select(Transfer).where(Transfer.state == SENDING, Transfer.lease_until < now)
    ).all()
    count = 0
    for transfer in expired:
        if _transition(session, transfer, [SENDING], state=IN_DOUBT, lease_until=None, next_attempt_at=now):
            audit.record(session, "transfer.in_doubt", gettext(
                "The worker stopped while sending; Maventa will be asked whether the invoice arrived."),
                transfer=transfer)
            count += 1
    session.commit()
    return count


def dispatch_due(limit: int | None = None) -> list[int]:
    """Enqueue a send job for every queued/in-doubt transfer that is due and has no live job in Redis."""
    session = current_maventa().session
    now = utcnow()
    limit = limit or int(_cfg("MAVENTA_SWEEP_BATCH"))
    due = session.scalars(
        sa.select(Transfer.id)
        .where(Transfer.state.in_([QUEUED, IN_DOUBT]),
               sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now))
        .order_by(Transfer.id)
        .limit(limit)
    ).all()
    return [transfer_id for transfer_id in due if enqueue_send(transfer_id)]


def dispatch_polls(limit: int | None = None) -> list[int]:
    """Enqueue a status read for every accepted transfer whose next poll is due."""
    session = current_maventa().session
    limit = limit or int(_cfg("MAVENTA_SWEEP_BATCH"))
    due = session.scalars(
        sa.select(Transfer.id)
        .where(Transfer.state == ACCEPTED, Transfer.next_poll_at <= utcnow())
        .order_by(Transfer.next_poll_at)
        .limit(limit)
    ).all()
    return [transfer_id for transfer_id in due if enqueue_poll(transfer_id)]


# -- Redis dispatch (the only place that talks to RQ) ------------------------------------------------------

# A "started" job is not live here: we only dispatch rows nobody holds a lease on, so its worker either
# died (RQ notices only minutes later) or is about to find the row claimed. The claim decides.
_LIVE_JOB_STATES = ("queued", "scheduled", "deferred")


def _enqueue(job_id: str, func: str, transfer_id: int, delay: float = 0) -> bool:
    """Enqueue ``func(transfer_id)`` under ``job_id`` unless a live job with that id exists.

    A finished or failed job of the same id is replaced. Two dispatchers racing may both enqueue;
    that is harmless, the claim in the database decides who acts.
    """
    from rq.exceptions import DuplicateJobError, NoSuchJobError
    from rq.job import Job

    ext = current_maventa()
    queue = ext.queue()
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        job = None
    if job is not None:
        status = job.get_status(refresh=False)
        if status is not None and str(getattr(status, "value", status)) in _LIVE_JOB_STATES:
            return False
        job.delete()
    options = dict(job_id=job_id, result_ttl=0, failure_ttl=86400,
                   job_timeout=int(_cfg("MAVENTA_LEASE_SECONDS")) + 60, unique=True)
    try:
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), func, transfer_id, **options)
        else:
            queue.enqueue(func, transfer_id, **options)
    except DuplicateJobError:
        return False
    return True


def enqueue_send(transfer_id: int, delay: float = 0) -> bool:
    return _enqueue(send_job_id(transfer_id), "flask_maventa.jobs.send_transfer", transfer_id, delay)


def enqueue_poll(transfer_id: int, delay: float = 0) -> bool:
    return _enqueue(poll_job_id(transfer_id), "flask_maventa.jobs.poll_transfer", transfer_id, delay)


def _try_enqueue(fn, transfer_id: int, delay: float = 0) -> None:
    """Enqueue if Redis answers; otherwise the sweep finds the row by its state and time."""
    try:
        fn(transfer_id, delay)
    except Exception as exc:  # noqa: BLE001 - Redis down must never lose or fail a transfer
        log.warning("could not enqueue job for transfer %s (%s); the sweep will", transfer_id, type(exc).__name__)


# -- sending -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str
    detail: str = ""


def claim(transfer_id: int) -> tuple[Transfer | None, bool]:
    """Take the transfer for this worker: ``(transfer, reconcile)``, or ``(None, False)`` if not ours.

    ``reconcile`` is True when an earlier attempt may have reached Maventa (in doubt, or a lease that
    expired): then we read the invoice by our UUID before sending anything.
    """
    session = current_maventa().session
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        return None, False
    now = utcnow()
    lease = now + timedelta(seconds=int(_cfg("MAVENTA_LEASE_SECONDS")))
    claimed = {"state": SENDING, "lease_until": lease, "attempts": Transfer.attempts + 1, "updated_at": now}
    doubtful = session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id,
               sa.or_(sa.and_(Transfer.state == IN_DOUBT,
                              sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now)),
                      sa.and_(Transfer.state == SENDING, Transfer.lease_until < now)))
        .values(**claimed).execution_options(synchronize_session=False)
    ).rowcount == 1
    fresh = not doubtful and session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id, Transfer.state == QUEUED,
               sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now))
        .values(**claimed).execution_options(synchronize_session=False)
    ).rowcount == 1
    session.commit()
    if not (doubtful or fresh):
        return None, False
    session.refresh(transfer)
    return transfer, doubtful


def send(transfer_id: int) -> Outcome:
    """One attempt to deliver a transfer to Maventa (the body of the send job)."""
    transfer, reconcile = claim(transfer_id)
    if transfer is None:
        return Outcome("skipped", "not queued, not due, or claimed by another worker")
    with company_locale(transfer.connection):
        return _attempt(transfer, reconcile)


def _attempt(transfer: Transfer, reconcile: bool) -> Outcome:
    ext = current_maventa()
    connection = transfer.connection
    try:
        company = ext.company_client(connection)
    except SecretUnreadable:
        return _pause(transfer)
    except ValueError as exc:
        return fail(transfer, "NO_CREDENTIALS", str(exc),
                    N_("Enter the company's Maventa credentials on its Maventa page, then retry."))

    if reconcile:
        outcome = _reconcile(transfer, company)
        if outcome is not None:
            return outcome

    prepared = _prepare(transfer, connection)
    if isinstance(prepared, Outcome):
        return prepared
    xml, params, summary = prepared

    session = ext.session
    audit.record(session, "transfer.request", gettext("Sending to Maventa (attempt %(n)s).", n=transfer.attempts),
                 transfer=transfer, data=summary)
    session.commit()
    try:
        answer = company.send_invoice(xml, f"invoice_{transfer.id}_r{transfer.revision}.xml",
                                      uuid=transfer.maventa_uuid, **params)
    except maventa_errors.ConflictError as exc:  # Maventa already has this uuid: find out what it holds
        _record_error(transfer, exc, "transfer.conflict")
        return _reconcile(transfer, company) or _retry(transfer, exc, in_doubt=True)
    except maventa_errors.InDoubtError as exc:
        return _retry(transfer, exc, in_doubt=True)
    except maventa_errors.TransientError as exc:
        return _retry(transfer, exc, in_doubt=False)
    except maventa_errors.UnverifiedCompanyError as exc:
        return fail(transfer, "UNVERIFIED", exc.message, N_(
            "The company has not finished signing the Maventa agreement. Complete the signing on its "
            "Maventa page, then retry."), error=exc)
    except maventa_errors.InvalidCredentialsError as exc:
        return fail(transfer, "INVALID_CREDENTIALS", exc.message, N_(
            "Maventa refused the company's credentials. Check the Company UUID and User API key on its "
            "Maventa page, then retry."), error=exc)
    except maventa_errors.PermanentError as exc:
        return fail(transfer, exc.code or f"HTTP_{exc.status}", str(exc), N_(
            "Maventa refused the invoice. Correct the invoice or the customer card as the message says, "
            "then retry."), error=exc)
    return accept(transfer, answer, http_status=201)


def _pause(transfer: Transfer) -> Outcome:
    """MAVENTA_SECRET_KEY cannot read the company's key: a configuration mistake, not the invoice's.
    The transfer waits in the queue (the attempt not counted) until the key is right; nothing fails."""
    session = current_maventa().session
    delay = float(_cfg("MAVENTA_SWEEP_INTERVAL"))
    already = transfer.last_error_code == "SECRET_UNREADABLE"
    if not _transition(session, transfer, [SENDING], state=QUEUED, lease_until=None,
                       attempts=max(transfer.attempts - 1, 0), next_attempt_at=utcnow() + timedelta(seconds=delay),
                       last_error_code="SECRET_UNREADABLE", last_error_message=gettext(UNREADABLE),
                       last_error_hint=gettext(UNREADABLE_HINT)):
        session.rollback()
        return Outcome("skipped", "lease lost")
    if not already:  # once, not on every dispatch while the key stays wrong
        audit.record(session, "transfer.paused", gettext(UNREADABLE), transfer=transfer)
    session.commit()
    return Outcome(QUEUED, "paused: the stored key cannot be decrypted")


def _prepare(transfer: Transfer, connection: Connection):
    """The UBL and routing for one attempt, or a failed Outcome when the document cannot be sent."""
    from .findings import DocumentError, errors
    from .preflight import preflight
    from .ubl import build_ubl, pdf_attachment_filename

    adapter = current_maventa().adapter
    try:
        doc = adapter.get_invoice_document(transfer.invoice_id)
    except Exception as exc:  # noqa: BLE001 - the host's lookup failed: nothing can be sent
        return fail(transfer, "NO_DOCUMENT", f"{type(exc).__name__}: {exc}", N_(
            "The ERP could not produce the invoice data. Check that the invoice still exists, then retry."))
    if transfer.invoice_number != doc.number:
        transfer.invoice_number = doc.number
    pdf = adapter.get_invoice_pdf(transfer.invoice_id) if connection.send_pdf else None
    findings = errors(preflight(doc, rules_dir=_cfg("MAVENTA_PEPPOL_RULES_DIR"), pdf=pdf))
    if findings:
        return _fail_findings(transfer, findings)
    try:
        xml = build_ubl(doc, pdf=pdf, pdf_filename=pdf_attachment_filename(doc) if pdf else None)
    except DocumentError as exc:
        return _fail_findings(transfer, exc.findings)

    routing = doc.routing()
    params = {
        **send_params(routing, connection),
        "print_own_image": True if pdf else None,
        "image_pdf": pdf,  # with it the client uploads a ZIP of the XML and this PDF (client/package.py)
        "lang": MAVENTA_LANG.get((doc.language or "").lower()),
    }
    if routing.eia:
        transfer.route = "einvoice"
    elif params["recipient_email"]:
        transfer.route = "email"
    else:
        transfer.route = "print"
    summary = {
        "attempt": transfer.attempts, "revision": transfer.revision, "uuid": transfer.maventa_uuid,
        "invoice_number": doc.number, "format": "PEPPOLBIS30", "bytes": len(xml), "with_pdf": bool(pdf),
        "recipient_eia": routing.eia, "recipient_operator": routing.operator,
        "recipient_email": params["recipient_email"], "disabled_routes": list(params["disabled_routes"]),
        "lang": params["lang"], "expected_route": transfer.route,
    }
    return xml, params, summary


def _fail_findings(transfer: Transfer, findings) -> Outcome:
    message = "; ".join(f.render_message(gettext) for f in findings)
    hint = " ".join(dict.fromkeys(h for f in findings if (h := f.render_hint(gettext))))
    return fail(transfer, "PREFLIGHT", message, hint, data={"findings": [f.to_json() for f in findings]})


def _reconcile(transfer: Transfer, company) -> Outcome | None:
    """Did an earlier attempt reach Maventa? Found: accepted. Not found: None (send again, same uuid)."""
    session = current_maventa().session
    try:
        answer = company.get_invoice(transfer.maventa_uuid)
    except maventa_errors.NotFoundError:
        audit.record(session, "transfer.reconciled", gettext(
            "Maventa does not have the invoice; sending it again with the same UUID."), transfer=transfer,
            http_status=404)
        session.commit()
        return None
    except maventa_errors.TransientError as exc:
        return _retry(transfer, exc, in_doubt=True)
    except maventa_errors.PermanentError as exc:
        return fail(transfer, exc.code or f"HTTP_{exc.status}", str(exc), N_(
            "Maventa refused to say whether it received the invoice. Check the company's credentials, "
            "then retry."), error=exc)
    audit.record(session, "transfer.reconciled", gettext("Maventa already had the invoice."),
                 transfer=transfer, http_status=200)
    return accept(transfer, answer, http_status=200)


def accept(transfer: Transfer, answer: dict, *, http_status: int) -> Outcome:
    """Maventa has the invoice: our row and the host's success status in one transaction."""
    session = current_maventa().session
    now = utcnow()
    answer = answer if isinstance(answer, dict) else {}
    moved = _transition(
        session, transfer, [SENDING], state=ACCEPTED, lease_until=None, next_attempt_at=None,
        maventa_invoice_id=str(answer.get("id") or transfer.maventa_uuid),
        maventa_status=answer.get("status") or "PENDING", accepted_at=now, poll_count=0,
        next_poll_at=now + timedelta(seconds=float(_cfg("MAVENTA_POLL_SCHEDULE")[0])),
        last_error_code=None, last_error_message=None, last_error_hint=None,
    )
    if not moved:  # our lease expired and someone else took over; they will reach the same answer
        session.rollback()
        return Outcome("skipped", "lease lost")
    _set_host_status(transfer, transfer.connection.success_status_id)
    audit.record(session, "transfer.accepted", gettext("Maventa accepted the invoice."), transfer=transfer,
                 http_status=http_status, data={"response": _short(answer)})
    session.commit()
    _send_signal(signals.transfer_accepted, transfer)
    return Outcome(ACCEPTED, transfer.maventa_invoice_id)


def _short(answer: dict) -> dict:
    keep = ("id", "status", "invoice_nr", "sum", "currency", "recipient", "created_at", "destination")
    return {k: answer[k] for k in keep if k in answer}


def _record_error(transfer: Transfer, exc: maventa_errors.MaventaError, kind: str) -> None:
    session = current_maventa().session
    audit.record(session, kind, str(exc), transfer=transfer, http_status=exc.status, data=_error_data(exc))
    session.commit()


def _retry(transfer: Transfer, exc: maventa_errors.MaventaError, *, in_doubt: bool) -> Outcome:
    """A transient failure: back off on the retry schedule (at least Retry-After), same UUID next time."""
    session = current_maventa().session
    schedule = _cfg("MAVENTA_RETRY_SCHEDULE")
    if not in_doubt and transfer.attempts > len(schedule):
        return fail(transfer, "UNREACHABLE", str(exc), N_(
            "Maventa could not be reached after several attempts. Check Maventa's service status, then retry."),
            error=exc)
    delay = backoff(schedule, transfer.attempts, getattr(exc, "retry_after", None))
    next_at = utcnow() + timedelta(seconds=delay)
    state = IN_DOUBT if in_doubt else QUEUED
    moved = _transition(session, transfer, [SENDING], state=state, lease_until=None, next_attempt_at=next_at,
                        last_error_code=exc.code or type(exc).__name__, last_error_message=str(exc),
                        last_error_hint=gettext("Temporary problem; it is retried automatically."))
    if not moved:
        session.rollback()
        return Outcome("skipped", "lease lost")
    message = (gettext("The answer was lost; Maventa will be asked about the invoice in %(s)s s.", s=int(delay))
               if in_doubt else gettext("Temporary failure; retrying in %(s)s s.", s=int(delay)))
    audit.record(session, "transfer.in_doubt" if in_doubt else "transfer.retry", message, transfer=transfer,
                 http_status=exc.status, data=_error_data(exc))
    session.commit()
    _try_enqueue(enqueue_send, transfer.id, delay)
    return Outcome(state, str(exc))


def fail(transfer: Transfer, code: str, message: str, hint: str, *, error=None, data=None) -> Outcome:
    """A permanent failure: failed, the host's failure status, and an error email -- once."""
    session = current_maventa().session
    hint_text = gettext(hint) if hint else ""
    moved = _transition(session, transfer, [SENDING, ACCEPTED], state=FAILED, lease_until=None,
                        next_attempt_at=None, next_poll_at=None, finished_at=utcnow(),
                        last_error_code=str(code)[:64], last_error_message=message, last_error_hint=hint_text)
    if not moved:
        session.rollback()
        return Outcome("skipped", "already moved on")
    _set_host_status(transfer, transfer.connection.failure_status_id)
    event_data = dict(data or {})
    if error is not None:
        event_data.update(_error_data(error))
    audit.record(session, "transfer.failed", message, transfer=transfer,
                 http_status=getattr(error, "status", None), data=event_data or None)
    session.commit()
    _mail_failure(transfer)
    _send_signal(signals.transfer_failed, transfer)
    return Outcome(FAILED, message)


def _mail_failure(transfer: Transfer) -> None:
    ext = current_maventa()
    connection = transfer.connection
    recipients = connection.error_email_list
    if not recipients:
        return
    company = ext.adapter.get_company(connection.company_id)
    number = transfer.invoice_number or transfer.invoice_id
    subject = gettext("Maventa: invoice %(number)s could not be sent", number=number)
    body = "\n".join([
        gettext("Invoice %(number)s of %(company)s did not reach the customer through Maventa.",
                number=number, company=company.name if company else connection.company_id),
        "",
        gettext("Reason: %(reason)s", reason=transfer.last_error_message or ""),
        gettext("What to do: %(hint)s", hint=transfer.last_error_hint or ""),
        "",
        gettext("After fixing it, use Retry in the Maventa transfer log."),
        f"(transfer {transfer.id}, revision {transfer.revision}, uuid {transfer.maventa_uuid})",
    ])
    try:
        ext.adapter.send_mail(recipients, subject, body)
        kind, message = "transfer.mail", gettext("Error report sent to %(to)s.", to=", ".join(recipients))
    except Exception as exc:  # noqa: BLE001 - the transfer is failed either way; say the mail did not go
        log.warning("error email for transfer %s failed: %s", transfer.id, type(exc).__name__)
        kind, message = "transfer.mail_failed", gettext("The error report could not be sent: %(e)s", e=exc)
    audit.record(ext.session, kind, message, transfer=transfer)
    ext.session.commit()


# -- delivery status ---------------------------------------------------------------------------------------


def poll(transfer_id: int) -> Outcome:
    """Read an accepted invoice's status from Maventa: delivered, failed, or ask again later.

    Runs for accepted transfers even when the connection has been deactivated since.
    """
    transfer = current_maventa().session.get(Transfer, transfer_id)
    if transfer is None or transfer.state != ACCEPTED:
        return Outcome("skipped", "not accepted")
    with company_locale(transfer.connection):
        return _read_status(transfer)


def _read_status(transfer: Transfer) -> Outcome:
    ext = current_maventa()
    session = ext.session
    schedule = _cfg("MAVENTA_POLL_SCHEDULE")
    try:
        company = ext.company_client(transfer.connection)
        answer = company.get_invoice(transfer.maventa_invoice_id or transfer.maventa_uuid)
    except (maventa_errors.MaventaError, ValueError) as exc:
        return _poll_later(transfer, exc)
    status = str(answer.get("status") or "").upper()
    if status == "DELIVERED":
        return _delivered(transfer, answer)
    if status == "FAILED":
        return _maventa_failed(transfer, company, answer)
    count = transfer.poll_count + 1
    delay = backoff(schedule, count + 1)
    if _transition(session, transfer, [ACCEPTED], poll_count=count, maventa_status=status or None,
                   next_poll_at=utcnow() + timedelta(seconds=delay)):
        session.commit()
    return Outcome(ACCEPTED, status)


def _poll_later(transfer: Transfer, exc: Exception) -> Outcome:
    """The status could not be read: ask again on the poll schedule (at least Retry-After)."""
    session = current_maventa().session
    delay = backoff(_cfg("MAVENTA_POLL_SCHEDULE"), transfer.poll_count + 1, getattr(exc, "retry_after", None))
    _transition(session, transfer, [ACCEPTED], poll_count=transfer.poll_count + 1,
                next_poll_at=utcnow() + timedelta(seconds=delay))
    audit.record(session, "transfer.poll_error", str(exc), transfer=transfer, http_status=getattr(exc, "status", None))
    session.commit()
    return Outcome(ACCEPTED, str(exc))


def _delivered(transfer: Transfer, answer: dict) -> Outcome:
    session = current_maventa().session
    if not _transition(session, transfer, [ACCEPTED], state=DELIVERED, maventa_status="DELIVERED",
                       next_poll_at=None, finished_at=utcnow(), route=_route(answer.get("destination")) or transfer.route):
        session.rollback()
        return Outcome("skipped", "already moved on")
    audit.record(session, "transfer.delivered", gettext("Maventa delivered the invoice."), transfer=transfer,
                 http_status=200, data={"response": _short(answer)})
    session.commit()
    _send_signal(signals.transfer_delivered, transfer)
    return Outcome(DELIVERED)


def _route(channel: str | None) -> str | None:
    """Our route name in a Maventa channel or destination text (``EINVOICE``, ``EMAIL``, ``PRINT``)."""
    text = str(channel or "").lower()
    return next((route for route in ROUTES if route in text), None)


def _maventa_failed(transfer: Transfer, company, answer: dict) -> Outcome:
    """Maventa could not deliver, or its own validation refused the invoice: its action says which."""
    from .client.actions import failure_of

    try:
        actions = company.invoice_actions(transfer.maventa_invoice_id or transfer.maventa_uuid)
    except maventa_errors.TransientError as exc:  # the reason is worth waiting for: read again later
        return _poll_later(transfer, exc)
    except maventa_errors.MaventaError:
        actions = []
    failure = failure_of(actions)
    reason = failure.message or gettext("Maventa could not deliver the invoice.")
    transfer.route = _route(failure.channel)  # the route Maventa failed on, not the one we expected
    transfer.maventa_status = "FAILED"
    data = {"response": _short(answer), "actions": actions[-5:] if actions else [], "rule": failure.rule}
    if failure.validation:
        return fail(transfer, "MAVENTA_INVALID", reason, N_(
            "Maventa accepted the invoice but its own validation refused it; the message names the rule. "
            "Correct the invoice in the ERP as the rule says, then retry."), data=data)
    return fail(transfer, "MAVENTA_FAILED", reason, N_(
        "Check the customer's e-invoice address, email and postal address on the customer card, then retry."),
        data=data)


def hint_reread(transfer: Transfer) -> None:
    """A webhook said something happened: read the invoice again soon (now, through the queue)."""
    session = current_maventa().session
    if _transition(session, transfer, [ACCEPTED], next_poll_at=utcnow()):
        session.commit()
    _try_enqueue(enqueue_poll, transfer.id)


# -- retry after a fix -------------------------------------------------------------------------------------


def retry(transfer: Transfer, *, actor: str | None = None) -> Transfer:
    """The user fixed the invoice: a new revision (new UUID) goes on its way, the host status follows."""
    session = current_maventa().session
    if transfer.state != FAILED:
        raise RetryRefused(gettext(
            "Only failed transfers can be retried; invoice %(number)s is %(state)s.",
            number=transfer.invoice_number or transfer.invoice_id, state=gettext(transfer.state)))
    latest = session.scalar(sa.select(sa.func.max(Transfer.revision)).where(
        Transfer.connection_id == transfer.connection_id, Transfer.invoice_id == transfer.invoice_id))
    if latest != transfer.revision:
        raise RetryRefused(gettext(
            "Invoice %(number)s has a newer attempt already; retry that one if it fails.",
            number=transfer.invoice_number or transfer.invoice_id))
    connection = transfer.connection
    revision = transfer.revision + 1
    new = Transfer(connection_id=connection.id, invoice_id=transfer.invoice_id, revision=revision,
                   invoice_number=transfer.invoice_number, state=QUEUED,
                   maventa_uuid=maventa_uuid(connection, transfer.invoice_id, revision))
    session.add(new)
    session.flush()  # a concurrent retry of the same revision fails here on the unique constraint
    _set_host_status(new, connection.transfer_status_id)
    audit.record(session, "transfer.retried", gettext("Retried as revision %(r)s.", r=revision),
                 transfer=new, actor=actor, data={"previous_transfer": transfer.id, "revision": revision})
    session.commit()
    _try_enqueue(enqueue_send, new.id)
    _send_signal(signals.transfer_queued, new)
    return new


# -- counters for the log page -----------------------------------------------------------------------------


def counters(connection_ids=None) -> dict[str, int]:
    """queued / sending / accepted / delivered / failed / stuck (open longer than MAVENTA_STUCK_MINUTES)."""
    session = current_maventa().session
    query = sa.select(Transfer.state, sa.func.count()).group_by(Transfer.state)
    stuck_query = sa.select(sa.func.count()).select_from(Transfer).where(
        Transfer.state.in_(OPEN_STATES),
        Transfer.created_at < utcnow() - timedelta(minutes=int(_cfg("MAVENTA_STUCK_MINUTES"))))
    if connection_ids is not None:
        query = query.where(Transfer.connection_id.in_(list(connection_ids)))
        stuck_query = stuck_query.where(Transfer.connection_id.in_(list(connection_ids)))
    by_state = dict(session.execute(query).all())
    return {
        "queued": by_state.get(QUEUED, 0) + by_state.get(IN_DOUBT, 0),
        "sending": by_state.get(SENDING, 0),
        "accepted": by_state.get(ACCEPTED, 0),
        "delivered": by_state.get(DELIVERED, 0),
        "failed": by_state.get(FAILED, 0),
        "stuck": session.scalar(stuck_query) or 0,
    }
