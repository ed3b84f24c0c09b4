"""The rules of the settings' fields: the three invoice statuses against the host's current statuses (the
Sent-flag rule among them), and the error email addresses. The form asks them inline, saving asks them
again, and the sweep asks the status rules through :func:`~.blockers.transfer_blockers`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...document.identifiers import email_ok
from ...host import InvoiceStatus
from ...infra.i18n import gettext
from ...infra.models import Connection
from ...infra.state import current_state
from ...infra.texts import T_, Msg
from .problems import Problem

STATUS_FIELDS = ("transfer_status_id", "success_status_id", "failure_status_id")

# Problems that are bad input rather than an unfinished mapping: saving refuses them always.
BAD_INPUT = frozenset({"status_unknown", "error_email_invalid", "error_emails_too_many"})
MAX_ERROR_EMAILS = 10


@dataclass(frozen=True)
class StatusMapping:
    """The three statuses as the form has them (the connection's own, until the user edits)."""

    transfer_status_id: str | None = None
    success_status_id: str | None = None
    failure_status_id: str | None = None

    @classmethod
    def of(cls, connection: Connection) -> StatusMapping:
        return cls(connection.transfer_status_id, connection.success_status_id, connection.failure_status_id)


def _missing_messages() -> dict[str, Msg]:
    return {
        "transfer_status_id": T_("Choose the status of invoices to be transferred."),
        "success_status_id": T_("Choose the status after a successful transfer."),
        "failure_status_id": T_("Choose the status after a failed transfer."),
    }


def mapping_problems(
    connection: Connection,
    statuses: Sequence[InvoiceStatus] | None = None,
    *,
    mapping: StatusMapping | None = None,
) -> list[Problem]:
    """What is wrong with the three statuses, checked against the host's statuses of this company.

    ``statuses`` defaults to the host's current ones; ``mapping`` to the connection's saved one
    (the form passes what the user is editing).
    """
    adapter = current_state().adapter
    if statuses is None:
        statuses = adapter.list_invoice_statuses(connection.company_id)
    mapping = mapping or StatusMapping.of(connection)
    known = {s.id: s for s in statuses}
    missing = _missing_messages()
    problems: list[Problem] = []

    chosen: dict[str, InvoiceStatus] = {}
    for field in STATUS_FIELDS:
        status_id = getattr(mapping, field)
        if not status_id:
            problems.append(Problem("status_missing", field, missing[field]))
        elif status_id not in known:
            # An id the host does not list for this company: deleted, mistyped, or another company's.
            problems.append(Problem(
                "status_unknown", field,
                T_("The chosen status is not one of this company's invoice statuses."),
                T_("Choose one of the statuses in the list; reload the page if it was changed meanwhile."),
            ))
        else:
            chosen[field] = known[status_id]

    transfer = chosen.get("transfer_status_id")
    success = chosen.get("success_status_id")
    failure = chosen.get("failure_status_id")
    if transfer is not None and transfer.is_sent:
        problems.append(Problem(
            "transfer_status_sent", "transfer_status_id",
            T_("Status of invoices to be transferred can not be sent"),
            # The next step depends on the switch: an active integration only waits for the fix.
            T_("Open the invoice status settings, clear Sent on the status \u201c%(status)s\u201d and save. "
               "Then invoices are sent again.", status=transfer.name) if connection.active else
            T_("Open the invoice status settings, clear Sent on the status \u201c%(status)s\u201d and save. "
               "Then the integration can be activated.", status=transfer.name),
            adapter.status_url(connection.company_id, transfer.id),
        ))
    if transfer is not None and success is not None and transfer.id == success.id:
        problems.append(Problem(
            "transfer_equals_success", "success_status_id",
            T_("The status after a successful transfer must differ from the status of invoices to be "
                    "transferred."),
            T_("Otherwise a transferred invoice would be picked up again. Choose another status."),
        ))
    if transfer is not None and failure is not None and transfer.id == failure.id:
        problems.append(Problem(
            "transfer_equals_failure", "failure_status_id",
            T_("The status after a failed transfer must differ from the status of invoices to be transferred."),
            T_("Otherwise a failed invoice would be sent again and again. Choose another status."),
        ))
    if success is not None and failure is not None and success.id == failure.id:
        problems.append(Problem(
            "success_equals_failure", "failure_status_id",
            T_("The statuses after a successful and after a failed transfer must differ."),
            T_("Otherwise nobody can tell which invoices failed. Choose another status."),
        ))
    if failure is not None and failure.is_sent:
        # A failed invoice has to be corrected, and the host locks invoices in a Sent status.
        problems.append(Problem(
            "failure_status_sent", "failure_status_id",
            T_("Status after a failed transfer can not be sent"),
            T_(
                "A failed invoice was not sent and must stay editable. Choose another status, or clear Sent on "
                "the status \u201c%(status)s\u201d in the invoice status settings.",
                status=failure.name,
            ),
            adapter.status_url(connection.company_id, failure.id),
        ))
    return problems

# -- error email addresses ---------------------------------------------------------------------


def parse_error_emails(value: str | Iterable[str] | None) -> tuple[list[str], list[Problem]]:
    """Split comma/semicolon/line separated addresses; each one must look like an address."""
    if value is None:
        parts: list[str] = []
    elif isinstance(value, str):
        parts = re.split(r"[,;\n]", value)
    else:
        parts = list(value)
    emails: list[str] = []
    problems: list[Problem] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if not email_ok(part):
            problems.append(Problem(
                "error_email_invalid", "error_emails",
                gettext("\u201c%(address)s\u201d is not a valid email address.", address=part[:80]),
                gettext("Write the addresses like name@example.com, separated by commas."),
            ))
        elif part.lower() not in (e.lower() for e in emails):
            emails.append(part)
    if len(emails) > MAX_ERROR_EMAILS:
        problems.append(Problem(
            "error_emails_too_many", "error_emails",
            gettext("At most %(max)s error email addresses can be given.", max=MAX_ERROR_EMAILS),
        ))
    return emails, problems
