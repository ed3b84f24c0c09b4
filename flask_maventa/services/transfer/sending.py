"""Sending one transfer: claim it, build the document, upload it, record Maventa's answer.

    queued ──claim──▶ sending ──201──▶ accepted
      ▲                 │  │
      └── transient ────┘  └── the answer was lost ──▶ in_doubt ──read by our uuid──▶ accepted | send again
    permanent error (4xx, pre-flight, no credentials) ─────────────────────────────────▶ failed

Claims are made in claiming.py; what each step writes, in recording.py; a permanent failure, in
failures.py. An in-doubt transfer is first looked up at Maventa by our uuid: found, it is accepted
without a second upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ...client import errors as maventa_errors
from ...client.languages import maventa_language
from ...client.package import invoice_zip
from ...document.findings import Finding
from ...document.markers import N_
from ...infra import counters as metrics
from ...infra import signals
from ...infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ...infra.models import Connection, Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_, finding_text, joined
from ..maventa_errors import kind_of, quoted
from ..routing import send_params
from .claiming import claim
from .failures import fail
from .reading import NOTHING, ReadAhead
from .recording import (
    Request,
    attempt_notes,
    commit_step,
    error_columns,
    error_data,
    request_columns,
    send_signal,
    set_host_status,
    short_answer,
    write_attempt_notes,
)
from .states import (
    ACCEPTED,
    IN_DOUBT,
    QUEUED,
    SENDING,
    TABLE,
    Note,
    Outcome,
    backoff,
    cfg,
    commit_retrying,
    host_reads,
    log_step,
    request_slot,
    transient_db_error,
    transition,
)


def send(transfer_id: int) -> Outcome:
    """Claim one transfer and make one attempt to deliver it to Maventa (tests, the CLI, a single job)."""
    transfer, reconcile = claim(transfer_id)
    if transfer is None:
        return Outcome("skipped", "not queued, not due, or claimed by another worker")
    log_step(transfer, "claimed", reconcile=reconcile or None)
    return attempt(transfer, reconcile)


def send_claimed(claimed: Transfer, reconcile: bool, ahead: ReadAhead = NOTHING) -> Outcome:
    """The attempt for a transfer :func:`claim_batch` gave this process (runs in a worker thread).

    The claimed transfer is used as it came, detached: it is this thread's alone, and its connection is
    shared, read only, with the batch's other transfers of that company. Nothing in an attempt attaches
    either to a session (every write is a Core statement by id), so no copy into the thread's session is
    needed (a merge of the two cost ~0.3 ms of CPU per send). ``ahead``: its invoice, if the job read it
    with the batch (reading.py).
    """
    if claimed.state != SENDING:
        return Outcome("skipped", "no longer ours")
    return attempt(claimed, reconcile, ahead)


def attempt(transfer: Transfer, reconcile: bool, ahead: ReadAhead = NOTHING) -> Outcome:
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

    prepared = _prepare(transfer, connection, ahead)
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


def _pause(transfer: Transfer, *, reconcile: bool = False, code: str = "SECRET_UNREADABLE",
           error: BaseException | None = None) -> Outcome:
    """The company's key cannot be used: MAVENTA_SECRET_KEY cannot read it (a configuration mistake, not the
    invoice's), or the company was disconnected (``code="DISCONNECTED"``); or the ERP could not be read
    for now (``code="HOST_UNAVAILABLE"``, ``error``: its database restarting, locked or away). The transfer
    waits (the attempt not counted) and is tried again; nothing fails, and one that may have reached
    Maventa stays in doubt, to be asked about before anything is sent again."""
    session = current_maventa().session
    delay = float(cfg("MAVENTA_SWEEP_INTERVAL"))
    message: Any
    if code == "DISCONNECTED":
        message = T_("The company is disconnected from Maventa: the invoice waits until it is connected again.")
        hint = T_("Connect the company to Maventa again on its Maventa page; the invoice is sent then.")
    elif code == "HOST_UNAVAILABLE":
        session.rollback()  # the failed read left the transaction unusable; the rows load again in write()
        message = joined([T_("The invoice could not be read from the ERP for now; it is tried again in %(s)s s.",
                             s=int(delay)), T_("The error: %(error)s", error=_host_error(error))])
        hint = T_("Temporary problem; it is retried automatically.")
    else:
        message, hint = T_(UNREADABLE), T_(UNREADABLE_HINT)

    def write() -> bool:
        already = transfer.last_error_code == code
        # The note once, not on every dispatch while the key stays wrong.
        if not transition(session, transfer, [SENDING], notes=() if already else [Note("transfer.paused", message)],
                          state=IN_DOUBT if reconcile else QUEUED, lease_until=None, claimed_by=None,
                          attempts=max(transfer.attempts - 1, 0), next_attempt_at=utcnow() + timedelta(seconds=delay),
                          **error_columns(code, message, hint)):
            return False
        log_step(transfer, "paused", level=logging.WARNING)
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
    refused = joined([T_("Maventa refused the invoice."), quoted(exc)])
    if isinstance(exc, maventa_errors.UnverifiedCompanyError):
        return fail(transfer, "UNVERIFIED", refused, N_(
            "The company has not finished signing the Maventa agreement. Complete the signing on its "
            "Maventa page, then retry."), error=exc)
    if isinstance(exc, maventa_errors.InvalidCredentialsError):
        return fail(transfer, "INVALID_CREDENTIALS", refused, N_(
            "Maventa refused the company's credentials. Check the Company UUID and User API key on its "
            "Maventa page, then retry."), error=exc)
    return fail(transfer, exc.code or f"HTTP_{exc.status}", refused, N_(
        "Correct the invoice or the customer card as the message says, "
        "then retry."), error=exc)


# One attempt's upload (the UBL, or the ZIP of it and the company's PDF) and its file name, send_invoice's
# arguments, the request event's summary, the invoice number, the expected route.
Prepared = tuple[bytes, str, dict[str, Any], dict[str, Any], str, str]


def _prepare(transfer: Transfer, connection: Connection, ahead: ReadAhead) -> Prepared | Outcome:
    """The UBL and routing for one attempt, or a failed Outcome when the document cannot be sent."""
    from ...document.findings import DocumentError, errors
    from ...document.official import preflight
    from ...document.ubl import build_ubl, pdf_attachment_filename

    ext = current_maventa()
    adapter = ext.adapter
    doc, pdf = ahead.document, ahead.pdf if connection.send_pdf else None
    read_pdf = connection.send_pdf and not ahead.pdf_read
    try:
        if doc is None or read_pdf:  # what the batch's read did not give
            with host_reads(ext.session):
                if doc is None:
                    doc = adapter.get_invoice_document(transfer.invoice_id)
                if read_pdf:
                    pdf = adapter.get_invoice_pdf(transfer.invoice_id)
    except Exception as exc:  # noqa: BLE001 - the host's lookup failed: nothing can be sent now
        if _for_now(exc):  # the ERP's database restarting or locked: the invoice is fine, read it again later
            return _pause(transfer, code="HOST_UNAVAILABLE", error=exc)
        message = joined([T_("The ERP could not produce the invoice data."),
                          T_("The error: %(error)s", error=_host_error(exc))])
        return fail(transfer, "NO_DOCUMENT", message, N_(
            "Check that the invoice still exists in the ERP, then retry."))
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


def _for_now(exc: BaseException) -> bool:
    """An error of the host's lookup that says nothing about the invoice: its database (or whatever the
    adapter reads, over a network) could not be reached or was busy."""
    return transient_db_error(exc) or isinstance(exc, (ConnectionError, TimeoutError))


def _host_error(exc: BaseException | None) -> str:
    """The host's error in one line: a database error's own words, without the statement and parameters
    SQLAlchemy adds to them (a page shows this; the query is in the worker's log)."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {str(cause).strip()}"


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
            write_attempt_notes(session, transfer, Note("transfer.reconciled", message, 404))

        commit_step(session, transfer, write_missing, what="reconcile")
        metrics.step("reconciled")
        return None
    except maventa_errors.TransientError as exc:
        return _retry(transfer, exc, in_doubt=True)
    except maventa_errors.PermanentError as exc:
        refused = joined([T_("Maventa refused to say whether it has the invoice."), quoted(exc)])
        return fail(transfer, exc.code or f"HTTP_{exc.status}", refused, N_(
            "Check the company's credentials, then retry."), error=exc)
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
            session, transfer, [SENDING], notes=attempt_notes(transfer, *notes),
            state=ACCEPTED, lease_until=None, next_attempt_at=None, claimed_by=None,
            maventa_invoice_id=invoice_id, maventa_status=answer.get("status") or "PENDING", accepted_at=now,
            poll_count=0, next_poll_at=now + timedelta(seconds=float(cfg("MAVENTA_POLL_SCHEDULE")[0])),
            last_error_code=None, last_error_message=None, last_error_hint=None, last_error=None,
            **request_columns(transfer),
        )
        if not moved:  # our lease expired and someone else took over; they will reach the same answer
            return False
        set_host_status(transfer, transfer.connection.success_status_id)
        log_step(transfer, "accepted", http_status=http_status, duration_ms=duration_ms)
        return True

    if not commit_step(session, transfer, write, what="accept"):
        return Outcome("skipped", "lease lost")
    metrics.step("accepted")
    send_signal(signals.transfer_accepted, transfer)
    return Outcome(ACCEPTED, invoice_id)


def _record_error(transfer: Transfer, exc: maventa_errors.MaventaError, kind: str) -> None:
    session = current_maventa().session

    def write() -> None:
        columns = request_columns(transfer)
        if columns:
            session.execute(TABLE.update().where(TABLE.c.id == transfer.id).values(**columns))
        write_attempt_notes(session, transfer, Note(kind, quoted(exc), exc.status, error_data(exc)))

    commit_step(session, transfer, write, what=kind)


def _retry(transfer: Transfer, exc: maventa_errors.MaventaError, *, in_doubt: bool) -> Outcome:
    """A transient failure: back off on the retry schedule (at least Retry-After), same UUID next time.

    No job is enqueued for later: the transfer is due again at ``next_attempt_at``, and whoever claims
    due work then (a running job, or the scheduler's next dispatch) takes it.
    """
    session = current_maventa().session
    schedule = cfg("MAVENTA_RETRY_SCHEDULE")
    if not in_doubt and transfer.attempts > len(schedule):
        if kind_of(exc) == "maventa_error":  # Maventa answered, with its own error: it was reached
            gave_up = joined([T_("Maventa answered with an error of its own on every attempt."), quoted(exc)])
            return fail(transfer, "MAVENTA_ERROR", gave_up, N_(
                "Maventa answered with an error of its own on several attempts. Check Maventa's service status, "
                "then retry."), error=exc)
        gave_up = joined([T_("Maventa could not be reached on any attempt."), quoted(exc)])
        return fail(transfer, "UNREACHABLE", gave_up, N_(
            "Maventa could not be reached after several attempts. Check Maventa's service status, then retry."),
            error=exc)
    delay = backoff(schedule, transfer.attempts, getattr(exc, "retry_after", None))
    state = IN_DOUBT if in_doubt else QUEUED
    message = (T_("The answer was lost; Maventa will be asked about the invoice in %(s)s s.", s=int(delay))
               if in_doubt else T_("Temporary failure; retrying in %(s)s s.", s=int(delay)))
    hint = T_("Temporary problem; it is retried automatically.")

    note = Note("transfer.in_doubt" if in_doubt else "transfer.retry", message, exc.status, error_data(exc))

    def write() -> bool:
        moved = transition(session, transfer, [SENDING], notes=attempt_notes(transfer, note), state=state,
                           lease_until=None, claimed_by=None,
                           next_attempt_at=utcnow() + timedelta(seconds=delay),
                           **error_columns(exc.code or type(exc).__name__, joined([message, quoted(exc)]), hint),
                           **request_columns(transfer))
        if not moved:
            return False
        log_step(transfer, "in_doubt" if in_doubt else "retry", http_status=exc.status, delay_s=delay,
                 error=type(exc).__name__)
        return True

    if not commit_step(session, transfer, write, what="retry"):
        return Outcome("skipped", "lease lost")
    metrics.step("in_doubt" if in_doubt else "retry")
    return Outcome(state, str(exc))
