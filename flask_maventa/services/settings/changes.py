"""What changes a connection's settings: saving them, the activation switch, and Maventa's own print
setting. Each refuses with :class:`~.problems.SettingsRejected` and changes nothing when a rule says no."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...client import errors as client_errors
from ...infra.audit import record
from ...infra.crypto import SecretUnreadable
from ...infra.i18n import gettext
from ...infra.models import Connection, utcnow
from ...infra.state import current_state
from ...infra.texts import T_, joined
from .. import versions
from .blockers import activation_problems
from .fields import BAD_INPUT, STATUS_FIELDS, StatusMapping, mapping_problems, parse_error_emails
from .problems import ActivationRefused, Problem, SettingsRejected, maventa_problem, secret_unreadable

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
        raise SettingsRejected([maventa_problem(exc, gettext("Maventa's print setting could not be read just now."))
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
        raise SettingsRejected([maventa_problem(exc, T_("Maventa's print setting was not changed."))]) from None
    versions.claim(connection, connection.version if version is None else version)
    record(state.session, "settings.print_own_pdf",
           T_("Maventa's print service uses our own PDF.") if on
           else T_("Maventa's print service uses its own layout."), connection=connection,
           actor=state.adapter.current_actor(), data=versions.stamp(connection, {"use_own_pdf": bool(on)}))
    return read_print_settings(connection)
