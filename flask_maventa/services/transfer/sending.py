"""Sending one transfer: claim it, build the document, upload it, record Maventa's answer.

    queued ──claim──▶ sending ──201──▶ accepted
      ▲                 │  │
      └── transient ────┘  └── the answer was lost ──▶ in_doubt ──read by our uuid──▶ accepted | send again
    permanent error (4xx, pre-flight, no credentials) ─────────────────────────────────▶ failed

A claim sets a lease (MAVENTA_LEASE_SECONDS) and the claiming process's id; the scheduler turns a
claim whose lease expired, or whose process stopped beating, into ``in_doubt``. An in-doubt transfer
is first looked up at Maventa by our uuid: found, it is accepted without a second upload.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa

from ...client import errors as maventa_errors
from ...client.languages import maventa_language
from ...client.package import invoice_zip
from ...document.findings import Finding
from ...document.markers import N_
from ...infra import audit, heartbeat, signals
from ...infra import counters as metrics
from ...infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ...infra.i18n import company_locale, gettext
from ...infra.models import Connection, DbSession, Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_, Msg, english, finding_text, joined, render, stored
from ..maventa_errors import kind_of
from ..routing import send_params
from . import dispatch as dispatching
from .states import (
    ACCEPTED,
    FAILED,
    IN_DOUBT,
    QUEUED,
    SENDING,
    TABLE,
    Note,
    Outcome,
    RetryRefused,
    backoff,
    cfg,
    commit_retrying,
    log_step,
    maventa_uuid,
    request_slot,
    serialized,
    transition,
    write_notes,
)

log = logging.getLogger("flask_maventa.transfer")
T = TypeVar("T")

# Maventa's ``lang`` values for the customer's ISO 639-1 language.

BODY_LIMIT = 2000  # characters of a response body kept in the timeline


# -- small helpers -----------------------------------------------------------------------------------------


def _body_summary(response: Any) -> str | None:
    if response is None:
        return None
    try:
        text: str = response.text
    except Exception:  # noqa: BLE001 - a streamed or undecodable body is summarised as absent
        return None
    return text[:BODY_LIMIT]


def error_data(exc: maventa_errors.MaventaError) -> dict[str, Any]:
    data = {"error": type(exc).__name__, "code": exc.code, "message": exc.message, "details": exc.details}
    body = _body_summary(exc.response)
    if body:
        data["response_body"] = body
    return data


def set_host_status(transfer: Transfer, status_id: str | None) -> None:
    if status_id:
        current_maventa().adapter.set_invoice_status(transfer.invoice_id, status_id)


def send_signal(signal: Any, transfer: Transfer) -> None:
    if not signal.receivers:
        return
    try:
        signal.send(transfer, app=current_maventa().app)
    except Exception:  # a host receiver's bug must not undo a committed transfer
        log.exception("a receiver of %s failed for transfer %s", signal.name, transfer.id)


def short_answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("id", "status", "invoice_nr", "sum", "currency", "recipient", "created_at", "destination")
    return {k: answer[k] for k in keep if k in answer}


# -- claiming ----------------------------------------------------------------------------------------------


def _claim_values(now: Any) -> dict[str, Any]:
    lease = now + timedelta(seconds=float(cfg("MAVENTA_LEASE_SECONDS")))
    return {"state": SENDING, "lease_until": lease, "attempts": Transfer.attempts + 1, "updated_at": now,
            "claimed_by": heartbeat.current_id()}


# The batch claim runs every few invoices: its statements are built once, with parameters.
_DUE = sa.and_(TABLE.c.state.in_([QUEUED, IN_DOUBT]),
               sa.or_(TABLE.c.next_attempt_at.is_(None), TABLE.c.next_attempt_at <= sa.bindparam("now")))
_DUE_ROWS = sa.select(TABLE.c.id, TABLE.c.state).where(_DUE).order_by(TABLE.c.id).limit(sa.bindparam("limit"))
_DUE_ROWS_LOCKED = _DUE_ROWS.with_for_update(skip_locked=True)
_CLAIM = (TABLE.update()
          .where(TABLE.c.id.in_(sa.bindparam("ids", expanding=True)), TABLE.c.state == sa.bindparam("from_state"),
                 _DUE)
          .values(state=SENDING, lease_until=sa.bindparam("lease"), attempts=TABLE.c.attempts + 1,
                  updated_at=sa.bindparam("now"), claimed_by=sa.bindparam("claimer")))
_CLAIM_RETURNING = _CLAIM.returning(TABLE.c.id)


def claim(transfer_id: int) -> tuple[Transfer | None, bool]:
    """Take one transfer for this process: ``(transfer, reconcile)``, or ``(None, False)`` if not ours.

    ``reconcile`` is True when an earlier attempt may have reached Maventa (in doubt, or a lease that
    expired): then we read the invoice by our UUID before sending anything.
    """
    session = current_maventa().session
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        return None, False
    now = utcnow()
    claimed = _claim_values(now)
    doubtful = cast("sa.CursorResult[Any]", session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id,
               sa.or_(sa.and_(Transfer.state == IN_DOUBT,
                              sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now)),
                      sa.and_(Transfer.state == SENDING, Transfer.lease_until < now)))
        .values(**claimed).execution_options(synchronize_session=False)
    )).rowcount == 1
    fresh = not doubtful and cast("sa.CursorResult[Any]", session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer_id, Transfer.state == QUEUED,
               sa.or_(Transfer.next_attempt_at.is_(None), Transfer.next_attempt_at <= now))
        .values(**claimed).execution_options(synchronize_session=False)
    )).rowcount == 1
    session.commit()
    if not (doubtful or fresh):
        return None, False
    session.refresh(transfer)
    return transfer, doubtful


def claim_batch(limit: int) -> list[tuple[Transfer, bool]]:
    """Take up to ``limit`` due transfers, oldest first: ``[(transfer, reconcile), ...]``; one transaction.

    On PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED``, so workers on many hosts
    take disjoint batches without waiting for each other. Elsewhere the conditional UPDATE (same state,
    still due) decides: a row another worker took a moment ago is simply not ours.

    The transfers come loaded with their connections, detached (one query for the batch instead of one
    per send); :func:`send_claimed` gives each its own copy in the session of the thread that sends it.
    """
    session = current_maventa().session
    postgres = session.get_bind().dialect.name == "postgresql"
    returning = session.get_bind().dialect.update_returning
    claimed: list[tuple[Transfer, bool]] = []
    lease = timedelta(seconds=float(cfg("MAVENTA_LEASE_SECONDS")))
    for _ in range(3):  # lost races (SQLite): look again, so a short batch means "nothing more is due"
        lost = 0
        with serialized(session):
            now = utcnow()
            rows = session.execute(_DUE_ROWS_LOCKED if postgres else _DUE_ROWS,
                                   {"now": now, "limit": limit - len(claimed)}).all()
            reconcile: dict[int, bool] = {}
            for state in (IN_DOUBT, QUEUED):
                ids = [row.id for row in rows if row.state == state]
                if not ids:
                    continue
                params = {"now": now, "lease": now + lease, "claimer": heartbeat.current_id(), "from_state": state}
                if returning:
                    got = list(session.scalars(_CLAIM_RETURNING, {**params, "ids": ids}))
                else:
                    got = [i for i in ids if cast("sa.CursorResult[Any]", session.execute(
                        _CLAIM, {**params, "ids": [i]})).rowcount == 1]
                reconcile.update((transfer_id, state == IN_DOUBT) for transfer_id in got)
                lost += len(ids) - len(got)
            if reconcile:
                transfers = session.scalars(_CLAIMED, {"ids": list(reconcile)}).unique().all()
                for transfer in transfers:  # out of this session before the commit expires them
                    session.expunge(transfer)
                    if transfer.connection in session:
                        session.expunge(transfer.connection)
                claimed += [(transfer, reconcile[transfer.id]) for transfer in transfers]
            session.commit()
        if not lost or len(claimed) >= limit:
            break
    return claimed


@functools.cache
def with_connection() -> tuple[Any, ...]:
    """Load a transfer and its connection in one query."""
    return (sa.orm.joinedload(Transfer.connection),)


_CLAIMED = (sa.select(Transfer).options(*with_connection())
            .where(Transfer.id.in_(sa.bindparam("ids", expanding=True))).order_by(Transfer.id))


# -- one attempt -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What an attempt sent, recorded in the same transaction as Maventa's answer to it.

    One write transaction per attempt instead of two: the database commits half as often, which on
    SQLite is most of what a send costs. A worker killed mid-request leaves no request event; the
    in-doubt event written when its claim is handed back says what happened instead.
    """

    at: datetime
    invoice_number: str | None
    route: str
    message: Msg
    summary: dict[str, Any]


def _request_columns(transfer: Transfer) -> dict[str, Any]:
    request: Request | None = getattr(transfer, "pending_request", None)
    return {} if request is None else {"invoice_number": request.invoice_number, "route": request.route}


def _write_notes(session: DbSession, transfer: Transfer, *notes: Note) -> None:
    """The attempt's request event (if not written yet) and ``notes``, in one statement."""
    request: Request | None = getattr(transfer, "pending_request", None)
    if request is not None:  # dated when it was sent, before the answer's event
        notes = (Note("transfer.request", request.message, None, request.summary, request.at), *notes)
    write_notes(session, transfer, *notes)


def _commit(session: DbSession, transfer: Transfer, write: Callable[[], T], *, what: str) -> T:
    """:func:`commit_retrying` for a step of an attempt; the attempt's request is written once, with it."""
    value = commit_retrying(session, write, what=what)
    transfer.pending_request = None
    return value


def send(transfer_id: int) -> Outcome:
    """Claim one transfer and make one attempt to deliver it to Maventa (tests, the CLI, a single job)."""
    transfer, reconcile = claim(transfer_id)
    if transfer is None:
        return Outcome("skipped", "not queued, not due, or claimed by another worker")
    log_step(transfer, "claimed", reconcile=reconcile or None)
    return attempt(transfer, reconcile)


def send_claimed(claimed: Transfer, reconcile: bool) -> Outcome:
    """The attempt for a transfer :func:`claim_batch` gave this process (runs in a worker thread).

    The claimed (detached) transfer is copied into this thread's session without a query: each thread
    has its own objects, as if it had loaded them.
    """
    transfer = current_maventa().session.merge(claimed, load=False)
    if transfer.state != SENDING:
        return Outcome("skipped", "no longer ours")
    return attempt(transfer, reconcile)


def attempt(transfer: Transfer, reconcile: bool) -> Outcome:
    ext = current_maventa()
    connection = transfer.connection
    try:
        company = ext.company_client(connection)
    except SecretUnreadable:
        return _pause(transfer, reconcile=reconcile)
    except ValueError:  # disconnected (services/disconnect.py): the invoice waits for the next connection
        return _pause(transfer, reconcile=reconcile, code="DISCONNECTED")

    if reconcile:
        outcome = reconcile_by_uuid(transfer, company)
        if outcome is not None:
            return outcome

    prepared = _prepare(transfer, connection)
    if isinstance(prepared, Outcome):
        return prepared
    upload, filename, params, summary, number, route = prepared

    session = ext.session
    log_step(transfer, "request", bytes=summary["bytes"])
    transfer.pending_request = Request(utcnow(), number, route, T_(
        "Sending to Maventa (attempt %(n)s).", n=transfer.attempts), summary)
    with request_slot(session):
        started = time.monotonic()
        answer: Mapping[str, Any] | maventa_errors.MaventaError
        try:
            answer = company.send_invoice(upload, filename, uuid=summary["uuid"], **params)
        except maventa_errors.MaventaError as exc:
            answer = exc
        seconds = time.monotonic() - started
    if isinstance(answer, maventa_errors.MaventaError):
        metrics.SEND_SECONDS.labels(type(answer).__name__).observe(seconds)
        return _refused(transfer, company, answer)
    metrics.SEND_SECONDS.labels("accepted").observe(seconds)
    return accept(transfer, answer, http_status=201, duration_ms=seconds * 1000)


def _pause(transfer: Transfer, *, reconcile: bool = False, code: str = "SECRET_UNREADABLE") -> Outcome:
    """The company's key cannot be used: MAVENTA_SECRET_KEY cannot read it (a configuration mistake, not the
    invoice's), or the company was disconnected (``code="DISCONNECTED"``). The transfer waits (the attempt
    not counted) until there is a key again; nothing fails, and one that may have reached Maventa stays in
    doubt, to be asked about before anything is sent again."""
    session = current_maventa().session
    delay = float(cfg("MAVENTA_SWEEP_INTERVAL"))
    already = transfer.last_error_code == code
    if code == "DISCONNECTED":
        message = T_("The company is disconnected from Maventa: the invoice waits until it is connected again.")
        hint = T_("Connect the company to Maventa again on its Maventa page; the invoice is sent then.")
    else:
        message, hint = T_(UNREADABLE), T_(UNREADABLE_HINT)

    def write() -> bool:
        if not transition(session, transfer, [SENDING], state=IN_DOUBT if reconcile else QUEUED, lease_until=None,
                          claimed_by=None, attempts=max(transfer.attempts - 1, 0),
                          next_attempt_at=utcnow() + timedelta(seconds=delay),
                          **error_columns(code, message, hint)):
            return False
        log_step(transfer, "paused", level=logging.WARNING)
        if not already:  # once, not on every dispatch while the key stays wrong
            write_notes(session, transfer, Note("transfer.paused", message))
        return True

    if not commit_retrying(session, write, what="pause"):
        return Outcome("skipped", "lease lost")
    return Outcome(IN_DOUBT if reconcile else QUEUED, f"paused: {code}")


def _refused(transfer: Transfer, company: Any, exc: maventa_errors.MaventaError) -> Outcome:
    """What an error of the upload means for the transfer."""
    if isinstance(exc, maventa_errors.ConflictError):  # Maventa already has this uuid: find out what it holds
        _record_error(transfer, exc, "transfer.conflict")
        return reconcile_by_uuid(transfer, company) or _retry(transfer, exc, in_doubt=True)
    if isinstance(exc, maventa_errors.InDoubtError):
        return _retry(transfer, exc, in_doubt=True)
    if isinstance(exc, maventa_errors.TransientError):
        return _retry(transfer, exc, in_doubt=False)
    if isinstance(exc, maventa_errors.UnverifiedCompanyError):
        return fail(transfer, "UNVERIFIED", exc.message, N_(
            "The company has not finished signing the Maventa agreement. Complete the signing on its "
            "Maventa page, then retry."), error=exc)
    if isinstance(exc, maventa_errors.InvalidCredentialsError):
        return fail(transfer, "INVALID_CREDENTIALS", exc.message, N_(
            "Maventa refused the company's credentials. Check the Company UUID and User API key on its "
            "Maventa page, then retry."), error=exc)
    return fail(transfer, exc.code or f"HTTP_{exc.status}", str(exc), N_(
        "Maventa refused the invoice. Correct the invoice or the customer card as the message says, "
        "then retry."), error=exc)


# One attempt's upload (the UBL, or the ZIP of it and the company's PDF) and its file name, send_invoice's
# arguments, the request event's summary, the invoice number, the expected route.
Prepared = tuple[bytes, str, dict[str, Any], dict[str, Any], str, str]


def _prepare(transfer: Transfer, connection: Connection) -> Prepared | Outcome:
    """The UBL and routing for one attempt, or a failed Outcome when the document cannot be sent."""
    from ...document.findings import DocumentError, errors
    from ...document.official import preflight
    from ...document.ubl import build_ubl, pdf_attachment_filename

    adapter = current_maventa().adapter
    try:
        doc = adapter.get_invoice_document(transfer.invoice_id)
    except Exception as exc:  # noqa: BLE001 - the host's lookup failed: nothing can be sent
        return fail(transfer, "NO_DOCUMENT", f"{type(exc).__name__}: {exc}", N_(
            "The ERP could not produce the invoice data. Check that the invoice still exists, then retry."))
    pdf = adapter.get_invoice_pdf(transfer.invoice_id) if connection.send_pdf else None
    rules_dir = cfg("MAVENTA_PEPPOL_RULES_DIR")
    if rules_dir:  # the official rules too; without them the pre-flight is build_ubl's own checks
        findings = errors(preflight(doc, rules_dir=rules_dir, pdf=pdf))
        if findings:
            return _fail_findings(transfer, findings, doc.number)
    try:
        xml = build_ubl(doc, pdf=pdf, pdf_filename=pdf_attachment_filename(doc) if pdf else None)
    except DocumentError as exc:
        return _fail_findings(transfer, exc.findings, doc.number)

    routing = doc.routing()
    params: dict[str, Any] = {
        **send_params(routing, connection),
        "print_own_image": True if pdf else None,
        "lang": maventa_language(doc.language),
    }
    if routing.eia:
        route = "einvoice"
    elif params["recipient_email"]:
        route = "email"
    else:
        route = "print"
    summary = {
        "attempt": transfer.attempts, "revision": transfer.revision, "uuid": transfer.maventa_uuid,
        "invoice_number": doc.number, "format": "PEPPOLBIS30", "bytes": len(xml), "with_pdf": bool(pdf),
        "recipient_eia": routing.eia, "recipient_operator": routing.operator,
        "recipient_email": params["recipient_email"], "disabled_routes": list(params["disabled_routes"]),
        "lang": params["lang"], "expected_route": route, "transfer": transfer.id,
    }
    filename = f"invoice_{transfer.id}_r{transfer.revision}.xml"
    # With the company's own PDF the upload is a ZIP of the XML and the PDF (client/package.py), packed
    # here, before a request slot is taken: a slot is only held while Maventa has the request.
    upload, filename = invoice_zip(xml, pdf, filename) if pdf else (xml, filename)
    return upload, filename, params, summary, doc.number, route


def _fail_findings(transfer: Transfer, findings: Sequence[Finding], number: str | None) -> Outcome:
    message = joined((finding_text(f) for f in findings), "; ")
    hints = {(f.hint, repr(sorted(f.params.items()))): f for f in findings if f.hint}  # each hint once
    hint = joined(finding_text(f, "hint") for f in hints.values())
    return fail(transfer, "PREFLIGHT", message, hint, data={"findings": [f.to_json() for f in findings]},
                values={"invoice_number": number})


def reconcile_by_uuid(transfer: Transfer, company: Any) -> Outcome | None:
    """Did an earlier attempt reach Maventa? Found: accepted. Not found: None (send again, same uuid)."""
    session = current_maventa().session
    try:
        with request_slot(session):
            answer = company.get_invoice(transfer.maventa_uuid)
    except maventa_errors.NotFoundError:
        message = T_("Maventa does not have the invoice; sending it again with the same UUID.")

        def write_missing() -> None:
            log_step(transfer, "reconciled", found=False)
            _write_notes(session, transfer, Note("transfer.reconciled", message, 404))

        _commit(session, transfer, write_missing, what="reconcile")
        metrics.step("reconciled")
        return None
    except maventa_errors.TransientError as exc:
        return _retry(transfer, exc, in_doubt=True)
    except maventa_errors.PermanentError as exc:
        return fail(transfer, exc.code or f"HTTP_{exc.status}", str(exc), N_(
            "Maventa refused to say whether it received the invoice. Check the company's credentials, "
            "then retry."), error=exc)
    metrics.step("reconciled")
    return accept(transfer, answer, http_status=200, reconciled=True)


def accept(transfer: Transfer, answer: Mapping[str, Any], *, http_status: int, duration_ms: float | None = None,
           reconciled: bool = False) -> Outcome:
    """Maventa has the invoice: our row and the host's success status in one transaction."""
    session = current_maventa().session
    answer = answer if isinstance(answer, dict) else {}
    invoice_id = str(answer.get("id") or transfer.maventa_uuid)
    notes = [Note("transfer.reconciled", T_("Maventa already had the invoice."), 200)] if reconciled else []
    notes.append(Note("transfer.accepted", T_("Maventa accepted the invoice."), http_status,
                      {"response": short_answer(answer)}))

    def write() -> bool:
        now = utcnow()
        moved = transition(
            session, transfer, [SENDING], state=ACCEPTED, lease_until=None, next_attempt_at=None, claimed_by=None,
            maventa_invoice_id=invoice_id, maventa_status=answer.get("status") or "PENDING", accepted_at=now,
            poll_count=0, next_poll_at=now + timedelta(seconds=float(cfg("MAVENTA_POLL_SCHEDULE")[0])),
            last_error_code=None, last_error_message=None, last_error_hint=None, last_error=None,
            **_request_columns(transfer),
        )
        if not moved:  # our lease expired and someone else took over; they will reach the same answer
            return False
        set_host_status(transfer, transfer.connection.success_status_id)
        log_step(transfer, "accepted", http_status=http_status, duration_ms=duration_ms)
        _write_notes(session, transfer, *notes)
        return True

    if not _commit(session, transfer, write, what="accept"):
        return Outcome("skipped", "lease lost")
    metrics.step("accepted")
    send_signal(signals.transfer_accepted, transfer)
    return Outcome(ACCEPTED, invoice_id)


def _record_error(transfer: Transfer, exc: maventa_errors.MaventaError, kind: str) -> None:
    session = current_maventa().session

    def write() -> None:
        columns = _request_columns(transfer)
        if columns:
            session.execute(TABLE.update().where(TABLE.c.id == transfer.id).values(**columns))
        _write_notes(session, transfer, Note(kind, str(exc), exc.status, error_data(exc)))

    _commit(session, transfer, write, what=kind)


def _retry(transfer: Transfer, exc: maventa_errors.MaventaError, *, in_doubt: bool) -> Outcome:
    """A transient failure: back off on the retry schedule (at least Retry-After), same UUID next time.

    No job is enqueued for later: the transfer is due again at ``next_attempt_at``, and whoever claims
    due work then (a running job, or the scheduler's next dispatch) takes it.
    """
    session = current_maventa().session
    schedule = cfg("MAVENTA_RETRY_SCHEDULE")
    if not in_doubt and transfer.attempts > len(schedule):
        if kind_of(exc) == "maventa_error":  # Maventa answered, with its own error: it was reached
            return fail(transfer, "MAVENTA_ERROR", str(exc), N_(
                "Maventa answered with an error of its own on several attempts. Check Maventa's service status, "
                "then retry."), error=exc)
        return fail(transfer, "UNREACHABLE", str(exc), N_(
            "Maventa could not be reached after several attempts. Check Maventa's service status, then retry."),
            error=exc)
    delay = backoff(schedule, transfer.attempts, getattr(exc, "retry_after", None))
    state = IN_DOUBT if in_doubt else QUEUED
    message = (T_("The answer was lost; Maventa will be asked about the invoice in %(s)s s.", s=int(delay))
               if in_doubt else T_("Temporary failure; retrying in %(s)s s.", s=int(delay)))
    hint = T_("Temporary problem; it is retried automatically.")

    note = Note("transfer.in_doubt" if in_doubt else "transfer.retry", message, exc.status, error_data(exc))

    def write() -> bool:
        moved = transition(session, transfer, [SENDING], state=state, lease_until=None, claimed_by=None,
                           next_attempt_at=utcnow() + timedelta(seconds=delay),
                           **error_columns(exc.code or type(exc).__name__, str(exc), hint),
                           **_request_columns(transfer))
        if not moved:
            return False
        log_step(transfer, "in_doubt" if in_doubt else "retry", http_status=exc.status, delay_s=delay,
                 error=type(exc).__name__)
        _write_notes(session, transfer, note)
        return True

    if not _commit(session, transfer, write, what="retry"):
        return Outcome("skipped", "lease lost")
    metrics.step("in_doubt" if in_doubt else "retry")
    return Outcome(state, str(exc))


def error_columns(code: str, message: Any, hint: Any) -> dict[str, Any]:
    """A transfer's error columns: the texts untranslated in ``last_error`` (read in the reader's language),
    in English in the two text columns."""
    return {"last_error_code": str(code)[:64], "last_error_message": english(message),
            "last_error_hint": english(hint) or None,
            "last_error": {"message": stored(message), "hint": stored(hint) if hint else None}}


def fail(transfer: Transfer, code: str, message: Any, hint: Any, *, error: Any = None,
         data: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> Outcome:
    """A permanent failure: failed, the host's failure status, and an error email -- once.

    ``message`` and ``hint`` are stored untranslated: a :class:`~...infra.texts.Msg`, a string marked
    with ``N_`` (a hint), a stored text, or plain text nobody translates (Maventa's words, as the message).
    ``values`` are more columns to set in the same conditional UPDATE.
    """
    session = current_maventa().session
    hint_text = T_(hint) if isinstance(hint, str) and hint else hint
    event_data = dict(data or {})
    if error is not None:
        event_data.update(error_data(error))
    status = getattr(error, "status", None)
    note = Note("transfer.failed", message, status, event_data or None)

    def write() -> bool:
        moved = transition(session, transfer, [SENDING, ACCEPTED], state=FAILED, lease_until=None, claimed_by=None,
                           next_attempt_at=None, next_poll_at=None, finished_at=utcnow(),
                           **error_columns(code, message, hint_text),
                           **{**_request_columns(transfer), **(values or {})})
        if not moved:
            return False
        set_host_status(transfer, transfer.connection.failure_status_id)
        log_step(transfer, "failed", level=logging.WARNING, code=str(code)[:64], http_status=status)
        _write_notes(session, transfer, note)
        return True

    if not _commit(session, transfer, write, what="fail"):
        return Outcome("skipped", "already moved on")
    metrics.step("failed")
    _mail_failure(transfer)
    send_signal(signals.transfer_failed, transfer)
    return Outcome(FAILED, english(message))


def _mail_failure(transfer: Transfer) -> None:
    ext = current_maventa()
    connection = transfer.connection
    recipients = connection.error_email_list
    if not recipients:
        return
    with company_locale(connection):  # the recipients' language, whoever's page made the invoice fail
        subject, body = failure_mail(transfer)
    try:
        ext.mailer.send(recipients, subject, body)
        kind, message = "transfer.mail", T_("Error report sent to %(to)s.", to=", ".join(recipients))
    except Exception as exc:  # noqa: BLE001 - the transfer is failed either way; say the mail did not go
        log.warning("error email for transfer %s failed: %s", transfer.id, type(exc).__name__)
        kind, message = "transfer.mail_failed", T_("The error report could not be sent: %(e)s", e=str(exc))
    commit_retrying(ext.session, lambda: audit.record(ext.session, kind, message, transfer=transfer), what=kind)


def failure_mail(transfer: Transfer) -> tuple[str, str]:
    """The error email's subject and body, in the current locale."""
    connection = transfer.connection
    company = current_maventa().adapter.get_company(connection.company_id)
    number = transfer.invoice_number or transfer.invoice_id
    error = transfer.last_error or {}
    reason = render(error["message"]) if error.get("message") is not None else transfer.last_error_message
    hint = render(error["hint"]) if error.get("hint") is not None else transfer.last_error_hint
    subject = gettext("Maventa: invoice %(number)s could not be sent", number=number)
    body = "\n".join([
        gettext("Invoice %(number)s of %(company)s did not reach the customer through Maventa.",
                number=number, company=company.name if company else connection.company_id),
        "",
        gettext("Reason: %(reason)s", reason=reason or ""),
        gettext("What to do: %(hint)s", hint=hint or ""),
        "",
        gettext("After fixing it, use Retry in the Maventa transfer log."),
        f"(transfer {transfer.id}, revision {transfer.revision}, uuid {transfer.maventa_uuid})",
    ])
    return subject, body


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
    set_host_status(new, connection.transfer_status_id)
    audit.record(session, "transfer.retried", T_("Retried as revision %(r)s.", r=revision),
                 transfer=new, actor=actor, data={"previous_transfer": transfer.id, "revision": revision})
    session.commit()
    dispatching.try_dispatch(dispatching.SEND)
    send_signal(signals.transfer_queued, new)
    return new
