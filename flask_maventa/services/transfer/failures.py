"""A permanent failure (failed, the host's failure status, one error email) and the user's retry after a fix
(a new revision with a new UUID)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from ...infra import audit, signals
from ...infra import counters as metrics
from ...infra.i18n import company_locale, gettext
from ...infra.models import Transfer, utcnow
from ...infra.state import current_state as current_maventa
from ...infra.texts import T_, english, render
from . import dispatch as dispatching
from .recording import (
    attempt_notes,
    commit_step,
    error_columns,
    error_data,
    request_columns,
    send_signal,
    set_host_status,
)
from .states import (
    ACCEPTED,
    FAILED,
    QUEUED,
    SENDING,
    Note,
    Outcome,
    RetryRefused,
    commit_retrying,
    log_step,
    maventa_uuid,
    transition,
    write_notes,
)

log = logging.getLogger("flask_maventa.transfer")


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
        moved = transition(session, transfer, [SENDING, ACCEPTED], notes=attempt_notes(transfer, note),
                           state=FAILED, lease_until=None, claimed_by=None,
                           next_attempt_at=None, next_poll_at=None, finished_at=utcnow(),
                           **error_columns(code, message, hint_text),
                           **{**request_columns(transfer), **(values or {})})
        if not moved:
            return False
        set_host_status(transfer, transfer.connection.failure_status_id)
        log_step(transfer, "failed", level=logging.WARNING, code=str(code)[:64], http_status=status)
        return True

    if not commit_step(session, transfer, write, what="fail"):
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
    # By ids (a Core insert): the transfer and its connection stay out of the session (see send_claimed).
    commit_retrying(ext.session, lambda: write_notes(ext.session, transfer, Note(kind, message)), what=kind)


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
