"""Onboarding: register a company at Maventa, or connect an existing account (the signing request: :mod:`.signing`;
the credentials as pasted: :mod:`.credentials`).

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
from dataclasses import dataclass

from ...client import (
    InvalidCredentialsError,
    InvalidScopeError,
    MaventaError,
    MissingScopeError,
    NotFoundError,
    UnauthorizedError,
)
from ...client.api import COMPANY_COUNTRIES
from ...document.identifiers import email_ok
from ...host import HOST_ID_LENGTH, Company, Person, storable_id
from ...infra import audit, redaction
from ...infra.crypto import SecretUnreadable
from ...infra.models import Connection
from ...infra.state import current_state
from ...infra.texts import T_
from ...infra.texts import T_ as _  # the page shows an error now, the audit trail keeps it untranslated
from .. import versions
from ..companies import PENDING_AUTH_STATES, connection_for
from .credentials import check_api_key, masked_key, parse_company_uuid
from .errors import (
    CredentialsRefused,
    OnboardingError,
    bid_taken,
    map_client_error,
)
from .signing import _apply_signing_state, _person, _schedule_next_check, _send

log = logging.getLogger("flask_maventa.registration")


def _new_connection(company: Company) -> Connection:
    ext = current_state()
    connection = Connection(company_id=company.id, environment=ext.config["MAVENTA_ENVIRONMENT"])
    ext.session.add(connection)
    return connection


def _actor() -> str | None:
    return current_state().adapter.current_actor()


def _require_eligible(company: Company) -> None:
    """Checked before anything is asked of Maventa, so a refusal leaves nothing half made there."""
    if not storable_id(company.id):
        raise OnboardingError(
            _("This company's id in the ERP is longer than %(length)s characters, so it cannot be connected to "
              "Maventa. Ask your ERP administrator to give it a shorter id.", length=HOST_ID_LENGTH),
            field="company",
        )
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
        raise map_client_error(exc, field="company") from None
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
    if not email_ok(person.email):
        raise OnboardingError(
            _("%(name)s has no valid email address, which Maventa needs for the user account.", name=person.name),
            field="person")

    if connection is not None:  # disconnected before: its unsettled invoices belong to the old company
        _require_nothing_in_doubt(connection)
    if check_business_id(company) == "RESERVED":
        raise bid_taken()

    client = ext.client()
    try:
        user_api_key = client.create_user(person.email, person.first_name, person.last_name or None)
    except MaventaError as exc:
        raise map_client_error(exc, field="person") from None
    redaction.remember(user_api_key)  # whatever Maventa answers next, the new key never gets stored

    if not user_api_key:
        # Maventa returns no key for an existing user (for security): the person finishes in Maventa.
        connection = connection or _new_connection(company)
        versions.claim(connection, connection.version or 0)
        connection.registered_via = "register"
        connection.registrant_email = person.email
        connection.needs_manual_credentials = True
        audit.record(ext.session, "registration.existing_user",
                     T_("%(name)s already has a Maventa account; the User API key and Company UUID must be "
                        "copied from Maventa by hand.", name=person.name),
                     connection=connection, actor=_actor(), data=versions.stamp(connection, {"person_id": person.id}))
        return Registration(connection, needs_manual_credentials=True)

    try:
        company_uuid = client.create_company(
            user_api_key=user_api_key, name=company.name, bid=company.business_id, no_vat=True,
            address1=address.street, address2=address.additional_street, post_code=address.post_code,
            post_office=address.city, city=address.city, country=company.country, email=email,
        )
    except MaventaError as exc:
        raise map_client_error(exc, field="company") from None

    connection = connection or _new_connection(company)
    versions.claim(connection, connection.version or 0)
    connection.company_uuid = company_uuid
    connection.api_key_encrypted = ext.secrets().encrypt(user_api_key)
    connection.registered_via = "register"
    connection.registrant_email = person.email
    connection.needs_manual_credentials = False
    connection.company_state = "UNVERIFIED"
    connection.auth_state = "NONE"
    audit.record(ext.session, "registration.created",
                 T_("Registered %(company)s in Maventa with %(name)s as its user.",
                    company=company.name, name=person.name),
                 connection=connection, actor=_actor(),
                 data=versions.stamp(connection, {"person_id": person.id, "company_uuid": company_uuid}))
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


def connect_existing(company: Company, company_uuid: str, api_key: str | None, *,
                     version: int | None = None) -> Connected:
    """Save a User API key + Company UUID pair after Maventa accepted it (PRODUCT §1B).

    ``api_key`` equal to the masked value (or None) keeps the stored key. The pair is tested with a
    token request and ``/oauth2/current`` BEFORE anything is saved; then the signing state is read,
    and the signing request goes out by itself when an approver was chosen before (see module doc).
    ``version``: the form's (:class:`~..versions.StaleForm` when the connection changed since; None: no form).
    """
    ext = current_state()
    _require_eligible(company)
    connection = connection_for(company)
    if version is not None:
        versions.check(connection, version)
    company_uuid = parse_company_uuid(company_uuid)

    keep_stored = api_key is None or (connection is not None and api_key == masked_key(connection))
    if keep_stored:
        if connection is None or not connection.api_key_encrypted:
            raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key")
        try:
            key = ext.api_key(connection)
        except SecretUnreadable:
            raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key") from None
    else:
        key = check_api_key(api_key or "")  # not None here: only a kept key is None
        redaction.remember(key)  # a refused key must not reach an event through Maventa's answer either

    cc = ext.client().for_company(company_uuid, key)
    try:
        current = cc.check_credentials()
        signing = cc.authorization()
    except (NotFoundError, InvalidCredentialsError, UnauthorizedError) as exc:
        raise map_client_error(exc, field="api_key") from None
    except MaventaError as exc:
        raise map_client_error(exc) from None

    maventa_company = current.get("company") if isinstance(current, dict) else None
    maventa_company = maventa_company if isinstance(maventa_company, dict) else {}
    if maventa_company.get("id") and maventa_company["id"] != company_uuid:
        raise CredentialsRefused(_("This User API key belongs to another Maventa company."), field="company_uuid")
    if not _same_business(maventa_company.get("bid"), company):
        raise CredentialsRefused(
            _("These credentials belong to the Maventa company %(other)s (business ID %(bid)s), not to %(name)s.",
              other=maventa_company.get("name") or "?", bid=maventa_company.get("bid"), name=company.name),
            field="company_uuid")

    if connection is not None and connection.company_uuid != company_uuid:
        _require_nothing_in_doubt(connection)
    seen = versions.current_version(connection) if version is None else version
    connection = connection or _new_connection(company)
    versions.claim(connection, seen)
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
                 T_("User API key and Company UUID accepted by Maventa (key unchanged).") if keep_stored else
                 T_("User API key and Company UUID accepted by Maventa (new key)."),
                 connection=connection, actor=_actor(),
                 data=versions.stamp(connection, {"company_uuid": company_uuid,
                                                  "company_state": connection.company_state,
                                                  "auth_state": connection.auth_state}))

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
                audit.record(ext.session, "signing.auto_send_failed", exc.text, connection=connection,
                             actor=_actor())
                return Connected(connection, signing_error=exc.message)
            return Connected(connection, signing_sent=True)
    return Connected(connection)


def _require_nothing_in_doubt(connection: Connection) -> None:
    """Another Maventa company may not take over while an invoice may have reached the old one and is not
    settled yet: it is settled by reading it from the old company, and only then may anything be resent."""
    from ..transfer.queries import in_flight_count

    count = in_flight_count(connection)
    if count:
        raise OnboardingError(
            _("%(count)s invoices are being sent to the Maventa company this company was connected to, and "
              "may have reached it. Connect that Maventa company again (or wait until they are settled) before "
              "connecting another one; otherwise they could be sent twice.", count=count),
            field="company_uuid", code="in_flight")


def refused(step: str, company: Company, exc: OnboardingError) -> None:
    """Undo the attempt, then keep a trace of it: the refusal is an audit event of its own (commits)."""
    state = current_state()
    state.session.rollback()
    audit.record(state.session, f"{step}.refused", exc.text, connection=connection_for(company),
                 actor=state.adapter.current_actor(),
                 data={"company_id": company.id, "code": exc.code, "field": exc.field})
    state.session.commit()
