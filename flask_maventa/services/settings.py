"""The settings of one connection and the rules that decide whether it may send.

Every rule lives here once. The settings form (inline, while the user edits), the
activation toggle and the transfer sweep all ask the same functions:

- :func:`mapping_problems` — the three invoice statuses against the host's current statuses
  (the Sent-flag rule among them);
- :func:`activation_problems` — the mapping, the verified company and, live, the credentials;
- :func:`transfer_blockers` — what the sweep checks for every active connection (no network).

Nothing here commits: the caller commits our rows together with whatever else changed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..client import errors as client_errors
from ..document.identifiers import email_ok
from ..host import InvoiceStatus
from ..infra.audit import record
from ..infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ..infra.i18n import gettext
from ..infra.models import Connection, utcnow
from ..infra.state import current_state
from ..infra.texts import T_, Msg, joined, stored
from . import versions
from .maventa_errors import kind_of, temporary_message

__all__ = [
    "ActivationRefused",
    "Problem",
    "SettingsRejected",
    "StatusMapping",
    "activate",
    "activation_problems",
    "deactivate",
    "mapping_problems",
    "parse_error_emails",
    "read_print_settings",
    "save_settings",
    "secret_unreadable",
    "set_use_own_pdf",
    "transfer_blockers",
]

STATUS_FIELDS = ("transfer_status_id", "success_status_id", "failure_status_id")

# Problems that are bad input rather than an unfinished mapping: saving refuses them always.
BAD_INPUT = frozenset({"status_unknown", "error_email_invalid", "error_emails_too_many"})
MAX_ERROR_EMAILS = 10


@dataclass(frozen=True)
class Problem:
    """One reason the settings cannot be used, in the current user's language.

    Built from a :class:`~..infra.texts.Msg`, it also keeps the untranslated message (:meth:`text`) for
    what is stored, such as the sweep's blocked reason. ``field`` names the form field it belongs
    to (None: the connection as a whole);
    ``hint`` says where to fix it and ``hint_url`` links there when the host has a page.
    """

    code: str
    field: str | None
    message: str | Msg
    hint: str | Msg | None = None
    hint_url: str | None = None
    source: tuple[object, object] = dataclasses.field(default=(None, None), compare=False, repr=False)

    def __post_init__(self) -> None:
        # Shown now in the current locale; stored (the sweep's blocked reason) as given -- untranslated.
        object.__setattr__(self, "source", (stored(self.message), stored(self.hint)))
        object.__setattr__(self, "message", str(self.message))
        object.__setattr__(self, "hint", None if self.hint is None else str(self.hint))

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else str(self.message)

    def text(self, *, hint: bool = True) -> Any:
        """The message (and hint) as a stored text, untranslated when built from :func:`~..infra.texts.T_`."""
        message, its_hint = self.source
        return joined([message, its_hint]) if hint and its_hint is not None else message


class SettingsRejected(ValueError):
    """The settings were not saved; ``problems`` says why, field by field."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class ActivationRefused(SettingsRejected):
    """The integration stays off; ``problems`` is what to fix first."""


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


# -- the rules ---------------------------------------------------------------------------------


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


def secret_unreadable() -> Problem:
    """The stored User API key cannot be decrypted: MAVENTA_SECRET_KEY changed. Nothing can be sent
    until the old key is back (or the User API key is entered again); nothing fails meanwhile."""
    return Problem("secret_unreadable", None, T_(UNREADABLE), T_(UNREADABLE_HINT))


def _company_problems(connection: Connection) -> list[Problem]:
    if not connection.has_credentials:
        return [Problem(
            "no_credentials", None,
            T_("This company is not connected to Maventa yet."),
            T_("Register the company or enter its User API key and Company UUID first."),
        )]
    if not current_state().secrets().readable(connection.api_key_encrypted or ""):
        return [secret_unreadable()]
    if not connection.verified:
        return [Problem(
            "not_verified", None,
            T_("The company is not verified in Maventa yet."),
            T_("The approver must sign the agreement first; send the authentication request and press Refresh."),
        )]
    return []


def transfer_blockers(connection: Connection) -> list[Problem]:
    """Why the sweep must not send for this connection now (empty: it may). No network call.

    Uses the host's *current* statuses, so a Sent flag set after activation stops the sweep.
    """
    return _company_problems(connection) + mapping_problems(connection)


def activation_problems(connection: Connection, *, live: bool = True) -> list[Problem]:
    """Everything that stops activation. ``live`` also asks Maventa whether the stored
    credentials still work and whether the company is verified (and stores that state)."""
    problems: list[Problem] = []
    if live and connection.has_credentials:
        live_problem = _check_live(connection)
        if live_problem is not None:
            problems.append(live_problem)
    if not problems:
        problems += _company_problems(connection)
    if connection.settings_saved_at is None:
        problems.append(Problem(
            "settings_not_saved", None,
            T_("Save the settings before activating the integration."),
        ))
    else:
        problems += mapping_problems(connection)
    return problems


def _check_live(connection: Connection) -> Problem | None:
    """Ask Maventa with the stored credentials; refresh ``company_state`` from its answer."""
    try:
        company = current_state().company_client(connection)
        company.check_credentials()
        state = company.authorization().get("company_state")
    except (client_errors.InvalidScopeError, client_errors.MissingScopeError):
        return Problem(
            "scope_refused", None,
            T_("Maventa refused the access rights this integration asks for."),
            T_("The User API key and Company UUID are not the problem: ask the administrator of this system "
                    "to check the integration's Maventa scope and vendor API key (flask maventa doctor --live)."),
        )
    except SecretUnreadable:
        return secret_unreadable()
    except client_errors.InvalidCredentialsError:
        return Problem(
            "credentials_invalid", None,
            T_("Maventa does not accept the stored User API key and Company UUID any more."),
            T_("Copy the User API key and Company UUID from the company's settings in Maventa and save them "
                    "again."),
        )
    except client_errors.UnverifiedCompanyError:
        state = "UNVERIFIED"
    except client_errors.MaventaError as exc:
        return _maventa_problem(exc, T_("The credentials could not be checked with Maventa."))
    if state and state != connection.company_state:
        connection.company_state = state
    return None


def _maventa_problem(exc: client_errors.MaventaError, what: str | Msg) -> Problem:
    """A client error as a problem: ``what`` could not be done, and why, by the kind of error."""
    kind = kind_of(exc)
    if kind == "refused":
        detail = "; ".join(str(d) for d in exc.details) or exc.message
        return Problem("maventa_refused", None, what,
                       T_("Maventa refused the request: %(detail)s", detail=detail[:300]))
    code = "maventa_unreachable" if kind in ("unreachable", "no_answer") else f"maventa_{kind}"
    return Problem(code, None, what, temporary_message(exc))


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


# -- saving, activating ------------------------------------------------------------------------


def _require_verified(connection: Connection | None) -> None:
    if connection is None or not connection.verified:
        raise SettingsRejected([Problem(
            "not_verified", None,
            gettext("The settings can be changed once the company is verified in Maventa."),
        )])


def save_settings(
    connection: Connection,
    *,
    send_pdf: bool,
    send_customer_email: bool,
    error_emails: str | Iterable[str] | None,
    transfer_status_id: str | None,
    success_status_id: str | None,
    failure_status_id: str | None,
    version: int | None = None,
) -> list[Problem]:
    """Store the settings; return what still stops activation (e.g. the Sent flag).

    Raises :class:`SettingsRejected` and changes nothing for bad input (an unknown status, an
    invalid address) — and, while the integration is active, for any problem at all, so an
    active integration never runs on a broken mapping. Raises :class:`~.versions.StaleForm` and
    changes nothing when the form was made from an older ``version`` of the connection (None: a caller
    that is no form, e.g. a script).
    """
    if version is not None:
        versions.check(connection, version)
    _require_verified(connection)
    emails, email_problems = parse_error_emails(error_emails)
    mapping = StatusMapping(transfer_status_id or None, success_status_id or None, failure_status_id or None)
    problems = mapping_problems(connection, mapping=mapping) + email_problems
    refused = [p for p in problems if p.code in BAD_INPUT] or (problems if connection.active else [])
    if refused:
        raise SettingsRejected(refused)

    versions.claim(connection, connection.version if version is None else version)
    connection.send_pdf = bool(send_pdf)
    connection.send_customer_email = bool(send_customer_email)
    connection.error_emails = ", ".join(emails) or None
    connection.transfer_status_id = mapping.transfer_status_id
    connection.success_status_id = mapping.success_status_id
    connection.failure_status_id = mapping.failure_status_id
    connection.settings_saved_at = utcnow()
    ext = current_state()
    record(
        ext.session, "settings.saved", T_("Settings saved."), connection=connection, actor=ext.adapter.current_actor(),
        data=versions.stamp(connection, {
            "send_pdf": connection.send_pdf, "send_customer_email": connection.send_customer_email,
            "error_emails": emails, **{f: getattr(mapping, f) for f in STATUS_FIELDS},
        }),
    )
    return problems


def activate(connection: Connection, *, live: bool = True, version: int | None = None) -> None:
    """Turn synchronisation on, or raise :class:`ActivationRefused` and leave it off.

    ``version``: the form's (:class:`~.versions.StaleForm` when it is not the connection's any more);
    None for a caller that is no form (a script, a test).
    """
    if version is not None:
        versions.check(connection, version)
    problems = activation_problems(connection, live=live)
    ext = current_state()
    if problems:  # whatever it was stays: a refused click never turns a running integration off
        record(ext.session, "activation.refused", T_("Activation refused: %(reasons)s",
                                                     reasons=joined(p.text() for p in problems)), connection=connection,
               actor=ext.adapter.current_actor(), data={"problems": [p.code for p in problems]})
        raise ActivationRefused(problems)
    versions.claim(connection, connection.version if version is None else version)
    connection.active = True
    connection.activated_at = utcnow()
    connection.blocked_reason = connection.blocked = None
    record(ext.session, "activation.on", T_("Synchronisation activated."), connection=connection,
           actor=ext.adapter.current_actor(), data=versions.stamp(connection))


def deactivate(connection: Connection, *, version: int | None = None) -> None:
    """Stop new transfers at once. Transfers Maventa already accepted still get their delivery
    status: the polling ignores ``active``. ``version`` as for :func:`activate`."""
    if version is not None:
        versions.check(connection, version)
    if not connection.active:
        return
    ext = current_state()
    versions.claim(connection, connection.version if version is None else version)
    connection.active = False
    record(ext.session, "activation.off", T_("Synchronisation deactivated."), connection=connection,
           actor=ext.adapter.current_actor(), data=versions.stamp(connection))


# -- Maventa's own print setting ---------------------------------------------------------------


def read_print_settings(connection: Connection) -> dict[str, Any]:
    """Maventa's ``send_invoice_print`` block for this company (``use_own_pdf`` among it).

    Raises :class:`SettingsRejected` with the one problem when it cannot be read (Maventa away, the key
    unreadable).
    """
    try:
        answer = current_state().company_client(connection).get_settings(["send_invoice_print"])
    except SecretUnreadable:
        raise SettingsRejected([secret_unreadable()]) from None
    except client_errors.MaventaError as exc:
        raise SettingsRejected([_maventa_problem(exc, gettext("Maventa's print setting could not be read just now."))
                                ]) from None
    return dict((answer or {}).get("send_invoice_print") or {})


def set_use_own_pdf(connection: Connection, on: bool, *, version: int | None = None) -> dict[str, Any]:
    """Set Maventa's ``send_invoice_print.use_own_pdf`` so the user need not open Maventa's UI;
    returns the block as Maventa has it afterwards. :class:`SettingsRejected` when Maventa did not take it,
    :class:`~.versions.StaleForm` (before Maventa is asked) when the form is older than the connection.

    The version is claimed after Maventa's answer (no transaction is held during a request): two clicks
    that pass the early check together come from the same page state, so they ask for the same value.
    """
    if version is not None:
        versions.check(connection, version)
    _require_verified(connection)
    state = current_state()
    try:
        state.company_client(connection).update_settings({"send_invoice_print": {"use_own_pdf": bool(on)}})
    except SecretUnreadable:
        raise SettingsRejected([secret_unreadable()]) from None
    except client_errors.MaventaError as exc:
        raise SettingsRejected([_maventa_problem(exc, T_("Maventa's print setting was not changed."))]) from None
    versions.claim(connection, connection.version if version is None else version)
    record(state.session, "settings.print_own_pdf",
           T_("Maventa's print service uses our own PDF.") if on
           else T_("Maventa's print service uses its own layout."), connection=connection,
           actor=state.adapter.current_actor(), data=versions.stamp(connection, {"use_own_pdf": bool(on)}))
    return read_print_settings(connection)
