"""The signing request (Visma Sign through Maventa) and the signing state, until the company is verified.

PRODUCT.md §1C. The open page, the Refresh button and a job (``poll_pending_signings``) read the state
from Maventa on one backoff schedule (MAVENTA_SIGNING_POLL_SCHEDULE). The caller commits, except the
job, which commits per connection; ``connection_verified`` goes out from :func:`announce_verified` only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from ...client import (
    CompanyClient,
    InvalidParametersError,
    MaventaError,
)
from ...client.account import SIGNING_LOCALES
from ...client.languages import maventa_language
from ...document.identifiers import email_ok
from ...document.markers import N_
from ...host import Person
from ...infra import audit, signals
from ...infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ...infra.models import Connection, utcnow
from ...infra.state import current_state
from ...infra.texts import T_, Msg, joined
from ...infra.texts import T_ as _  # the page shows an error now, the audit trail keeps it untranslated
from .. import versions
from ..companies import PENDING_AUTH_STATES
from .errors import CredentialsRefused, MaventaUnreachable, OnboardingError, map_client_error

log = logging.getLogger("flask_maventa.registration")


def _actor() -> str | None:
    return current_state().adapter.current_actor()


def locale_for(person: Person | None) -> str:
    """The signing email's default language from the approver's language (EN when Maventa has none for it)."""
    locale = maventa_language(person.language if person else None)
    return locale if locale in SIGNING_LOCALES else "EN"


def _person(company_id: str, person_id: str | None) -> Person | None:
    return next((p for p in current_state().adapter.list_persons(company_id) if p.id == person_id), None)


def send_authorization(connection: Connection, approver: Person, email: str, locale: str, *,
                       version: int | None = None) -> Connection:
    """Ask Maventa to send the signing invitation (Visma Sign) to ``email`` in ``locale``.

    ``version``: the form's; a form older than the connection is refused before anything is sent
    (:class:`~..versions.StaleForm`); None: no form.
    """
    if version is not None:
        versions.check(connection, version)
    email = (email or "").strip()
    if not email_ok(email):
        raise OnboardingError(_("Enter a valid email address, like name@example.com."), field="email")
    if locale not in SIGNING_LOCALES:
        raise OnboardingError(
            _("Choose one of the languages Maventa sends this email in: %(choices)s.",
              choices=", ".join(SIGNING_LOCALES)),
            field="locale")
    if not connection.has_credentials:
        raise OnboardingError(_("Enter the User API key and Company UUID first."), field="approver")
    if connection.verified:
        raise OnboardingError(_("This company is already verified in Maventa."), field="approver", code="verified")
    cc = current_state().company_client(connection)
    _send(connection, cc, approver, email, locale, automatic=False,
          version=connection.version if version is None else version)
    return connection


def _send(connection: Connection, cc: CompanyClient, approver: Person, email: str, locale: str, *,
          automatic: bool, version: int | None = None) -> None:
    """``version``: claim it once Maventa sent the email (no transaction is held during the request); None
    when the caller claimed one already (the automatic send after the credentials were saved)."""
    try:
        cc.send_authorization(email, locale)
    except InvalidParametersError as exc:
        raise map_client_error(exc, field="email") from None
    except MaventaError as exc:
        raise map_client_error(exc, field="approver") from None
    if version is not None:
        versions.claim(connection, version)
    now = utcnow()
    connection.approver_person_id = approver.id
    connection.auth_email = email
    connection.auth_locale = locale
    connection.auth_state = "SENT"
    if connection.company_state == "UNKNOWN":
        connection.company_state = "UNVERIFIED"
    connection.auth_sent_at = now
    _schedule_next_check(connection, restart=True, now=now)
    how = (T_("Signing request sent to %(email)s (%(locale)s), approver %(name)s, automatically after the "
              "credentials were accepted.", email=email, locale=locale, name=approver.name) if automatic else
           T_("Signing request sent to %(email)s (%(locale)s), approver %(name)s, by hand.",
              email=email, locale=locale, name=approver.name))
    audit.record(current_state().session, "signing.sent", how,
                 connection=connection, actor=_actor(),
                 data=versions.stamp(connection, {"approver_person_id": approver.id, "email": email, "locale": locale,
                                                  "automatic": automatic}))


# Maventa's signing and company states (API-NOTES), stored in events as message ids: read in any language.
STATE_LABELS = {
    "NONE": N_("not requested"), "PENDING": N_("pending"), "SENT": N_("sent"), "SIGNED": N_("signed"),
    "CANCELED": N_("cancelled"), "VERIFIED": N_("verified"), "UNVERIFIED": N_("not verified"),
    "UNKNOWN": N_("unknown"),
}


def state_label(state: str | None) -> Msg | str:
    """A Maventa state as a translatable label; a state Maventa added since, as Maventa wrote it."""
    label = STATE_LABELS.get(state or "")
    return T_(label) if label else str(state)


def _apply_signing_state(connection: Connection, answer: Mapping[str, object]) -> bool:
    """Copy Maventa's signing state onto the connection; True when it changed."""
    answer = answer if isinstance(answer, dict) else {}
    before = (connection.auth_state, connection.company_state)
    connection.auth_state = str(answer.get("auth_state") or connection.auth_state or "NONE")[:16]
    connection.company_state = str(answer.get("company_state") or connection.company_state or "UNKNOWN")[:16]
    if answer.get("auth_email"):
        connection.auth_email = str(answer["auth_email"])[:255]
    connection.auth_checked_at = utcnow()
    return (connection.auth_state, connection.company_state) != before


def _schedule_next_check(connection: Connection, *, restart: bool = False, now: datetime | None = None,
                         at_least: float | None = None) -> None:
    """Backoff from MAVENTA_SIGNING_POLL_SCHEDULE: the n-th check waits schedule[n] (the last one repeats),
    and at least ``at_least`` seconds (Maventa's Retry-After)."""
    schedule = list(current_state().config["MAVENTA_SIGNING_POLL_SCHEDULE"])
    if restart:
        connection.auth_check_count = 0
    step = max(schedule[min(connection.auth_check_count or 0, len(schedule) - 1)], at_least or 0)
    connection.auth_next_check_at = (now or utcnow()) + timedelta(seconds=step)


def _after_check(connection: Connection) -> None:
    if connection.verified or connection.auth_state not in PENDING_AUTH_STATES:
        connection.auth_next_check_at = None  # nothing to wait for: verified, or no request under way
    else:
        connection.auth_check_count = (connection.auth_check_count or 0) + 1
        _schedule_next_check(connection)


def refresh_signing_state(connection: Connection, *, by_hand: bool = True) -> bool:
    """Read the signing state from Maventa (the Refresh button, the open page and the job).

    Returns True when the state changed. Writes an event for every check by hand, and for
    background checks only when something changed (the log must stay readable).
    """
    if not connection.has_credentials:
        raise OnboardingError(_("Enter the User API key and Company UUID first."), field="approver")
    was_verified = connection.verified
    try:
        answer = current_state().company_client(connection).authorization()
    except MaventaError as exc:
        raise map_client_error(exc, field="approver") from None
    except SecretUnreadable:
        raise OnboardingError(joined([_(UNREADABLE), _(UNREADABLE_HINT)]), field="approver",
                              code="secret_unreadable") from None
    changed = _apply_signing_state(connection, answer)
    _after_check(connection)
    if by_hand or changed:
        audit.record(current_state().session, "signing.checked",
                     T_("Signing state from Maventa: %(auth)s, company %(company)s.",
                        auth=state_label(connection.auth_state), company=state_label(connection.company_state)),
                     connection=connection, actor=_actor() if by_hand else "maventa-poller",
                     data={"auth_state": connection.auth_state, "company_state": connection.company_state})
    if connection.verified and not was_verified:
        audit.record(current_state().session, "signing.verified", T_("The company is verified in Maventa."),
                     connection=connection, actor=_actor() if by_hand else "maventa-poller")
    return changed


def signing_due(connection: Connection, now: datetime | None = None) -> bool:
    return bool(connection.auth_next_check_at and not connection.verified
                and connection.auth_next_check_at <= (now or utcnow()))


def _failed_check(connection: Connection, exc: OnboardingError | None = None) -> None:
    # A failed read changes nothing but the time of the next try (backoff as for any check).
    connection.auth_check_count = (connection.auth_check_count or 0) + 1
    _schedule_next_check(connection, at_least=getattr(exc, "retry_after", None))


def check_signing_if_due(connection: Connection) -> str | None:
    """For the open page: read the state from Maventa only when the poll schedule says a check is
    due, so an open page never asks more often than the job would. Returns a message for the user
    when Maventa could not be asked. The caller commits."""
    if not signing_due(connection):
        return None
    try:
        refresh_signing_state(connection, by_hand=False)
    except OnboardingError as exc:
        _failed_check(connection, exc)
        return exc.message
    return None


def poll_pending_signings(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Check every connection whose signing request is pending and due. An RQ job the scheduler enqueues; commits.

    Each connection is claimed with a conditional UPDATE of ``auth_next_check_at`` first, so two
    workers running this at once never check the same connection twice.
    """
    ext = current_state()
    session = ext.session
    now = now or utcnow()
    due = session.execute(
        sa.select(Connection.id, Connection.auth_next_check_at)
        .where(Connection.auth_next_check_at.is_not(None), Connection.auth_next_check_at <= now,
               Connection.company_state != "VERIFIED")
        .order_by(Connection.auth_next_check_at).limit(limit)
    ).all()
    summary = {"checked": 0, "verified": 0, "unreachable": 0, "failed": 0}
    lease = now + timedelta(seconds=max(ext.config["MAVENTA_SIGNING_POLL_SCHEDULE"]))
    for connection_id, next_check in due:
        claimed = cast("sa.CursorResult[Any]", session.execute(  # an UPDATE's result counts its rows
            sa.update(Connection).where(Connection.id == connection_id, Connection.auth_next_check_at == next_check)
            .values(auth_next_check_at=lease)
        )).rowcount
        session.commit()
        if not claimed:
            continue
        connection = session.get(Connection, connection_id)
        if connection is None:  # deleted since it was claimed
            continue
        try:
            refresh_signing_state(connection, by_hand=False)
        except OnboardingError as exc:
            summary["unreachable" if isinstance(exc, MaventaUnreachable) else "failed"] += 1
            _failed_check(connection, exc)
            if isinstance(exc, CredentialsRefused):
                audit.record(session, "signing.check_failed",
                             T_("Maventa refused the stored credentials while checking the signing state."),
                             connection=connection, actor="maventa-poller")
        summary["checked"] += 1
        verified = connection.verified
        session.commit()
        if verified:
            summary["verified"] += 1
            announce_if_verified(connection, was_verified=False)  # only unverified ones are claimed
    if summary["checked"]:
        log.info("signing poll: %s", summary)
    return summary


def announce_if_verified(connection: Connection, *, was_verified: bool) -> None:
    """Send ``connection_verified`` when the company became verified -- from here only, after the commit that
    stored it. A host receiver that fails is logged and does not undo or break the step that verified it."""
    if was_verified or not connection.verified:
        return
    try:
        signals.connection_verified.send(connection)
    except Exception:  # a host receiver's bug must not turn a verified company into an error page
        log.exception("a connection_verified receiver failed for company %s", connection.company_id)
