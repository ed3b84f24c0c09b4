"""Onboarding: register a company at Maventa, connect an existing account, the signing request.

PRODUCT.md §1. Views and jobs call these functions; none of them reads the request. They change
our rows in the host's session and the caller commits (``poll_pending_signings`` is a job and
commits itself, one connection at a time). Failures are :class:`OnboardingError` subclasses whose
``message`` is translated and whose ``field`` names the form field it belongs to.

Decisions worth knowing:
- The business id sent to Maventa is the host's ``business_id`` with ``no_vat=True`` (it is an
  organisation number, not a VAT number), the same value the partner look-up checks.
- If Maventa creates the user but then refuses the company, we keep nothing: the next attempt
  finds the person as an existing Maventa user and goes down the "existing account" path.
- Connecting an existing account sends the signing request by itself only when Maventa says the
  company is unverified with no request under way AND an approver was chosen before (on this
  connection). Otherwise the signing section asks for one: we never guess who may sign.
"""

from __future__ import annotations

import logging
import re
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from ..client import (
    BusinessIdTakenError,
    CompanyClient,
    InvalidCredentialsError,
    InvalidParametersError,
    InvalidScopeError,
    MaventaError,
    MissingScopeError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    UnauthorizedError,
)
from ..client.api import COMPANY_COUNTRIES, SIGNING_LOCALES
from ..host import Company, Person
from ..infra import audit, redaction
from ..infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ..infra.i18n import gettext as _
from ..infra.models import Connection, utcnow
from ..infra.state import current_state

log = logging.getLogger("flask_maventa.registration")

# Maventa's signing languages, and the default for an approver's own language.
LANGUAGE_TO_LOCALE = {"nb": "NO", "nn": "NO", "no": "NO", "fi": "FI", "sv": "SE", "en": "EN", "nl": "NL"}
# A signing request is under way in these states: keep asking Maventa until the company is VERIFIED.
# UNKNOWN is a company_state in the swagger, but nothing stops Maventa from showing it here too.
PENDING_AUTH_STATES = ("SENT", "PENDING", "UNKNOWN", "SIGNED")
# What the page shows in the key field instead of the stored key (never the key itself).
MASK_CHAR = "\u2022"

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")


# -- errors ---------------------------------------------------------------------------------------


class OnboardingError(Exception):
    """A step that could not be done; ``message`` is for the user, ``field`` is where to show it."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class MaventaUnreachable(OnboardingError):
    code = "unreachable"
    retry_after: float | None = None  # Maventa's Retry-After, when it said one


class BusinessIdTaken(OnboardingError):
    code = "bid_taken"


class CredentialsRefused(OnboardingError):
    code = "credentials_refused"


class AccessRefused(OnboardingError):
    """Maventa refused the scopes the integration asks for: the integration's setup, not the company's."""

    code = "scope_refused"


def unreachable(exc: MaventaError | None = None) -> MaventaUnreachable:
    if isinstance(exc, RateLimitedError):
        if exc.retry_after:
            error = MaventaUnreachable(_(
                "Maventa is receiving too many requests right now, nothing was changed. Try again in %(seconds)s "
                "seconds.", seconds=max(1, round(exc.retry_after))))
        else:
            error = MaventaUnreachable(_(
                "Maventa is receiving too many requests right now, nothing was changed. Try again in a minute."))
    else:
        error = MaventaUnreachable(_("Maventa could not be reached, nothing was changed. Try again in a few minutes."))
    error.retry_after = getattr(exc, "retry_after", None)
    return error


def _map_client_error(exc: MaventaError, *, field: str | None = None) -> OnboardingError:
    """The user-facing error for a client error. Only the class, status and code are logged."""
    log.warning("Maventa refused an onboarding step: %s status=%s code=%s", type(exc).__name__, exc.status, exc.code)
    if isinstance(exc, TransientError):
        return unreachable(exc)
    if isinstance(exc, (InvalidScopeError, MissingScopeError)):
        # Every company would get this answer: the user cannot fix it by retyping the key.
        return AccessRefused(
            _("Maventa refused the access rights this integration asks for, so nothing was changed. The User "
              "API key and Company UUID are not the problem: ask the administrator of this system to check the "
              "integration's Maventa scope and vendor API key (flask maventa doctor --live)."),
            field=field,
        )
    if isinstance(exc, (InvalidCredentialsError, UnauthorizedError)):
        return CredentialsRefused(
            _("Maventa refused this User API key and Company UUID. Copy both again from Maventa "
              "(Settings > Company settings) and make sure they belong to the same company."),
            field=field or "api_key",
        )
    if isinstance(exc, BusinessIdTakenError):
        return _bid_taken()
    detail = "; ".join(str(d) for d in exc.details) or exc.message
    return OnboardingError(_("Maventa did not accept the request: %(detail)s", detail=detail), field=field,
                           code=exc.code or "maventa_refused")


def _bid_taken() -> BusinessIdTaken:
    return BusinessIdTaken(
        _("This business ID is already registered in Maventa. If the company already has a Maventa "
          "account, connect it instead: open the company below and enter its User API key and Company UUID "
          "from Maventa (Settings > Company settings)."),
        field="company",
    )


# -- small helpers the forms share ---------------------------------------------------------------


def valid_email(value: str | None) -> bool:
    if not value:
        return False
    return len(value) <= 255 and bool(_EMAIL.match(value.strip()))


def locale_for(person: Person | None) -> str:
    """The signing email's default language from the approver's language."""
    if person is None:
        return "EN"
    return LANGUAGE_TO_LOCALE.get((person.language or "").split("-")[0].lower(), "EN")


def masked_key(connection: Connection | None) -> str:
    """What the key field shows for a stored key: dots and the last four characters, never more.

    Empty when there is none, or when MAVENTA_SECRET_KEY cannot read it (the user enters it again).
    """
    if connection is None or not connection.api_key_encrypted:
        return ""
    try:
        key = current_state().api_key(connection)
    except SecretUnreadable:
        return ""
    return MASK_CHAR * 12 + (key[-4:] if len(key) > 12 else "")


def parse_company_uuid(value: str | None) -> str:
    text = (value or "").strip()
    try:
        parsed = uuidlib.UUID(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != 36:
        raise OnboardingError(
            _("This is not a Company UUID. It looks like 123e4567-e89b-12d3-a456-426614174000; copy it from "
              "Maventa (Settings > Company settings)."),
            field="company_uuid",
        )
    return str(parsed)


def connection_for(company: Company) -> Connection | None:
    return current_state().session.query(Connection).filter_by(company_id=company.id).one_or_none()


def _new_connection(company: Company) -> Connection:
    ext = current_state()
    connection = Connection(company_id=company.id, environment=ext.config["MAVENTA_ENVIRONMENT"])
    ext.session.add(connection)
    return connection


def _actor() -> str | None:
    return current_state().adapter.current_actor()


def _require_eligible(company: Company) -> None:
    if not company.eligible:
        raise OnboardingError(
            _("%(name)s has no VAT number of its own, so it cannot have its own Maventa account.", name=company.name),
            field="company",
        )


# -- A: register a new company -------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    connection: Connection
    needs_manual_credentials: bool  # the person already had a Maventa account: no key came back


def check_business_id(company: Company) -> str | None:
    """``"FREE"`` or ``"RESERVED"`` from Maventa's partner look-up; ``None`` when no partner account
    is configured (then ``POST /v1/companies`` refusing a taken id is the check)."""
    ext = current_state()
    partner_uuid = ext.config["MAVENTA_PARTNER_COMPANY_UUID"]
    partner_key = ext.config["MAVENTA_PARTNER_API_KEY"]
    if not (partner_uuid and partner_key):
        return None
    try:
        answer = ext.client().for_partner(partner_uuid, partner_key).lookup_companies(
            [company.business_id], company.country)
    except (InvalidScopeError, MissingScopeError) as exc:
        # The partner account lacks partner:lookups: the look-up is only a head start, so go on
        # without it (POST /v1/companies refuses a taken id anyway) and tell the operator.
        log.warning("business-id look-up skipped, Maventa refused the partner scope: %s", exc)
        return None
    except MaventaError as exc:
        raise _map_client_error(exc, field="company") from None
    statuses = {row.get("company_status") for row in answer if isinstance(row, dict)}
    return "RESERVED" if "RESERVED" in statuses else "FREE"


def register(company: Company, person: Person) -> Registration:
    """Create the Maventa user and company for ``company`` and link them (PRODUCT §1A).

    Adds or updates the Connection in the session; the caller commits. Raises OnboardingError
    and leaves the session unchanged when any step fails.
    """
    ext = current_state()
    _require_eligible(company)
    connection = connection_for(company)
    if connection is not None and connection.has_credentials:
        raise OnboardingError(
            _("%(name)s is already connected to Maventa.", name=company.name), field="company",
            code="already_connected")
    address, email = company.address, company.email or person.email
    if address is None or not (address.street and address.post_code and address.city):
        raise OnboardingError(
            _("Maventa needs the company's street address, post code and city. Add them on the company card."),
            field="company")
    if company.country not in COMPANY_COUNTRIES:
        raise OnboardingError(
            _("Maventa does not register companies in %(country)s.", country=company.country), field="company")
    if not valid_email(person.email):
        raise OnboardingError(
            _("%(name)s has no valid email address, which Maventa needs for the user account.", name=person.name),
            field="person")

    if check_business_id(company) == "RESERVED":
        raise _bid_taken()

    client = ext.client()
    try:
        user_api_key = client.create_user(person.email, person.first_name, person.last_name or None)
    except MaventaError as exc:
        raise _map_client_error(exc, field="person") from None
    redaction.remember(user_api_key)  # whatever Maventa answers next, the new key never gets stored

    if not user_api_key:
        # Maventa returns no key for an existing user (for security): the person finishes in Maventa.
        connection = connection or _new_connection(company)
        connection.registered_via = "register"
        connection.registrant_email = person.email
        connection.needs_manual_credentials = True
        audit.record(ext.session, "registration.existing_user",
                     f"{person.name} already has a Maventa account; the User API key and Company UUID "
                     "must be copied from Maventa by hand.",
                     connection=connection, actor=_actor(), data={"person_id": person.id})
        return Registration(connection, needs_manual_credentials=True)

    try:
        company_uuid = client.create_company(
            user_api_key=user_api_key, name=company.name, bid=company.business_id, no_vat=True,
            address1=address.street, address2=address.additional_street, post_code=address.post_code,
            post_office=address.city, city=address.city, country=company.country, email=email,
        )
    except MaventaError as exc:
        raise _map_client_error(exc, field="company") from None

    connection = connection or _new_connection(company)
    connection.company_uuid = company_uuid
    connection.api_key_encrypted = ext.secrets().encrypt(user_api_key)
    connection.registered_via = "register"
    connection.registrant_email = person.email
    connection.needs_manual_credentials = False
    connection.company_state = "UNVERIFIED"
    connection.auth_state = "NONE"
    audit.record(ext.session, "registration.created",
                 f"Registered {company.name} in Maventa with {person.name} as its user.",
                 connection=connection, actor=_actor(),
                 data={"person_id": person.id, "company_uuid": company_uuid})
    return Registration(connection, needs_manual_credentials=False)


# -- B: connect an existing account --------------------------------------------------------------


def _same_business(maventa_bid: str | None, company: Company) -> bool:
    """Do Maventa's business id and the host's describe the same organisation? (format-insensitive)"""
    theirs = re.sub(r"\D", "", maventa_bid or "")
    if not theirs:
        return True  # nothing to compare with
    ours = [re.sub(r"\D", "", v or "") for v in (company.business_id, company.vat_number)]
    return any(o and (o in theirs or theirs in o) for o in ours)


@dataclass(frozen=True)
class Connected:
    connection: Connection
    signing_sent: bool = False          # the signing request went out by itself
    signing_error: str | None = None    # ...or why it could not (the credentials are saved anyway)


def connect_existing(company: Company, company_uuid: str, api_key: str | None) -> Connected:
    """Save a User API key + Company UUID pair after Maventa accepted it (PRODUCT §1B).

    ``api_key`` equal to the masked value (or None) keeps the stored key. The pair is tested with a
    token request and ``/oauth2/current`` BEFORE anything is saved; then the signing state is read,
    and the signing request goes out by itself when an approver was chosen before (see module doc).
    """
    ext = current_state()
    _require_eligible(company)
    company_uuid = parse_company_uuid(company_uuid)
    connection = connection_for(company)

    keep_stored = api_key is None or (connection is not None and api_key == masked_key(connection))
    if keep_stored:
        if connection is None or not connection.api_key_encrypted:
            raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key")
        try:
            key = ext.api_key(connection)
        except SecretUnreadable:
            raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key") from None
    else:
        key = (api_key or "").strip()  # not None here: only a kept key is None
        if not key:
            raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key")
        if MASK_CHAR in key:
            raise OnboardingError(
                _("Enter the whole User API key, or leave the masked value unchanged to keep the stored key."),
                field="api_key")
        if len(key) > 255 or any(c.isspace() for c in key) or not key.isprintable():
            raise OnboardingError(_("This is not a User API key: it must not contain spaces."), field="api_key")
        redaction.remember(key)  # a refused key must not reach an event through Maventa's answer either

    cc = ext.client().for_company(company_uuid, key)
    try:
        current = cc.check_credentials()
        signing = cc.authorization()
    except (NotFoundError, InvalidCredentialsError, UnauthorizedError) as exc:
        raise _map_client_error(exc, field="api_key") from None
    except MaventaError as exc:
        raise _map_client_error(exc) from None

    maventa_company = current.get("company") if isinstance(current, dict) else None
    maventa_company = maventa_company if isinstance(maventa_company, dict) else {}
    if maventa_company.get("id") and maventa_company["id"] != company_uuid:
        raise CredentialsRefused(_("This User API key belongs to another Maventa company."), field="company_uuid")
    if not _same_business(maventa_company.get("bid"), company):
        raise CredentialsRefused(
            _("These credentials belong to the Maventa company %(other)s (business ID %(bid)s), not to %(name)s.",
              other=maventa_company.get("name") or "?", bid=maventa_company.get("bid"), name=company.name),
            field="company_uuid")

    connection = connection or _new_connection(company)
    if connection.company_uuid and connection.company_uuid != company_uuid:
        # Another Maventa company: the signing state of the old one means nothing any more.
        connection.auth_sent_at = connection.auth_next_check_at = None
        connection.auth_check_count = 0
    connection.company_uuid = company_uuid
    if not keep_stored:
        connection.api_key_encrypted = ext.secrets().encrypt(key)
    connection.registered_via = connection.registered_via or "existing"
    connection.needs_manual_credentials = False
    _apply_signing_state(connection, signing)
    audit.record(ext.session, "credentials.saved",
                 "User API key and Company UUID accepted by Maventa "
                 f"({'key unchanged' if keep_stored else 'new key'}).",
                 connection=connection, actor=_actor(),
                 data={"company_uuid": company_uuid, "company_state": connection.company_state,
                       "auth_state": connection.auth_state})

    if connection.verified:
        connection.auth_next_check_at = None
    elif connection.auth_state in PENDING_AUTH_STATES:
        _schedule_next_check(connection, restart=True)
    elif connection.approver_person_id and connection.auth_email and connection.auth_locale:
        approver = _person(company.id, connection.approver_person_id)
        if approver is not None:
            try:
                _send(connection, cc, approver, connection.auth_email, connection.auth_locale, automatic=True)
            except OnboardingError as exc:  # the credentials stay saved; the user sends it by hand
                audit.record(ext.session, "signing.auto_send_failed", exc.message, connection=connection,
                             actor=_actor())
                return Connected(connection, signing_error=exc.message)
            return Connected(connection, signing_sent=True)
    return Connected(connection)


# -- the signing request -------------------------------------------------------------------------


def _person(company_id: str, person_id: str | None) -> Person | None:
    return next((p for p in current_state().adapter.list_persons(company_id) if p.id == person_id), None)


def send_authorization(connection: Connection, approver: Person, email: str, locale: str) -> Connection:
    """Ask Maventa to send the signing invitation (Visma Sign) to ``email`` in ``locale``."""
    email = (email or "").strip()
    if not valid_email(email):
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
    _send(connection, cc, approver, email, locale, automatic=False)
    return connection


def _send(connection: Connection, cc: CompanyClient, approver: Person, email: str, locale: str, *,
          automatic: bool) -> None:
    try:
        cc.send_authorization(email, locale)
    except InvalidParametersError as exc:
        raise _map_client_error(exc, field="email") from None
    except MaventaError as exc:
        raise _map_client_error(exc, field="approver") from None
    now = utcnow()
    connection.approver_person_id = approver.id
    connection.auth_email = email
    connection.auth_locale = locale
    connection.auth_state = "SENT"
    if connection.company_state == "UNKNOWN":
        connection.company_state = "UNVERIFIED"
    connection.auth_sent_at = now
    _schedule_next_check(connection, restart=True, now=now)
    how = "automatically after the credentials were accepted" if automatic else "by hand"
    audit.record(current_state().session, "signing.sent",
                 f"Signing request sent to {email} ({locale}), approver {approver.name}, {how}.",
                 connection=connection, actor=_actor(),
                 data={"approver_person_id": approver.id, "email": email, "locale": locale, "automatic": automatic})


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
        raise _map_client_error(exc, field="approver") from None
    except SecretUnreadable:
        raise OnboardingError(f"{_(UNREADABLE)} {_(UNREADABLE_HINT)}", field="approver",
                              code="secret_unreadable") from None
    changed = _apply_signing_state(connection, answer)
    _after_check(connection)
    if by_hand or changed:
        audit.record(current_state().session, "signing.checked",
                     f"Signing state from Maventa: {connection.auth_state}, company {connection.company_state}.",
                     connection=connection, actor=_actor() if by_hand else "maventa-poller",
                     data={"auth_state": connection.auth_state, "company_state": connection.company_state})
    if connection.verified and not was_verified:
        audit.record(current_state().session, "signing.verified", "The company is verified in Maventa.",
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
    from ..infra.signals import connection_verified

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
                             "Maventa refused the stored credentials while checking the signing state.",
                             connection=connection, actor="maventa-poller")
        summary["checked"] += 1
        verified = connection.verified
        session.commit()
        if verified:
            summary["verified"] += 1
            connection_verified.send(connection)
    if summary["checked"]:
        log.info("signing poll: %s", summary)
    return summary
