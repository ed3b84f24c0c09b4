"""Onboarding pages (PRODUCT §1): Register, the credentials section (order 10) and the signing
section (order 20) of the company page, and the signing state that keeps itself up to date.

Every action is a Flask-WTF POST. An htmx request gets the re-rendered fragment back (errors
inline, status 200, an ``HX-Trigger`` on success); a plain POST gets a 303 to the company page,
or the whole page with the errors. All Maventa work is in :mod:`flask_maventa.services.onboarding`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, g, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...host import Company
from ...infra.clock import local_time
from ...infra.i18n import gettext as _
from ...infra.state import current_state
from ...infra.texts import T_  # what reaches the audit trail is stored untranslated
from ...services import onboarding as registration
from ...services.companies import company_rows, connection_for
from ...services.onboarding import OnboardingError
from ...services.settings import secret_unreadable
from ...services.versions import StaleForm, changes_since, current_version
from .. import htmx
from ..forms import MaventaForm
from ..forms.onboarding import ActionForm, CredentialsForm, RegisterForm, SigningForm
from . import company_section, company_view, index_section, with_version

if TYPE_CHECKING:
    from datetime import datetime

    from ...infra.models import Connection

POLL_SECONDS = 3  # how often an open page asks for the signing state while a request is pending


# -- shared helpers -----------------------------------------------------------------------------


def _put_error(form: MaventaForm, exc: OnboardingError) -> None:
    """Show a service error next to the field it names (or above the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and field.name != "csrf_token":
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _company_url(company_id: str, notice: str | None = None, anchor: str | None = None) -> str:
    url = url_for("maventa.company", company_id=company_id, notice=notice)
    return f"{url}#{anchor}" if anchor else url


def _company_page(company: Company, trigger: str | None = None) -> Response:
    """The company page (or its fragment for htmx), with whatever forms/notices are in ``g``."""
    from .company import company_page

    response = make_response(company_page(company_id=company.id))
    if trigger:
        htmx.add_trigger(response, trigger)
    return response


def _retarget_company(company: Company, trigger: str) -> Response:
    """Swap the whole company fragment instead of the element that asked (e.g. when verified,
    so the settings below unlock without a reload)."""
    return htmx.retarget(_company_page(company, trigger), "#maventa-company", "outerHTML")


def _fmt(moment: datetime | None) -> str:
    return local_time(moment)


# -- Register ----------------------------------------------------------------------------------


def _register_form(formdata: Any = None, selected: str | None = None) -> RegisterForm:
    """The Register form with the companies this user may manage and the chosen company's persons."""
    adapter = current_state().adapter
    choices = []
    for row in company_rows():
        full = row.ineligible_reason
        if full is not None:
            short = _("no VAT number of its own") if row.company.is_department else _("no VAT number")
        elif row.connection is not None and row.connection.has_credentials:
            short = full = _("already connected")
        else:
            short = None
        choices.append((row.company, short, full))
    eligible = [c for c, short, _full in choices if not short]
    if selected and any(c.id == selected for c, *_rest in choices):
        persons = list(adapter.list_persons(selected))
    else:  # no company chosen yet (no JavaScript): everyone who could be chosen
        seen, persons = set(), []
        for company in eligible:
            for person in adapter.list_persons(company.id):
                if person.id not in seen:
                    seen.add(person.id)
                    persons.append(person)
    form = RegisterForm(formdata=formdata) if formdata is not None else RegisterForm(formdata=None)
    form.fill(choices, persons)
    if formdata is None:
        form.company.data = selected or ""
    return form


def register_page() -> ResponseReturnValue:
    ext = current_state()
    if not company_rows():  # no company this user may manage: nothing to register, nothing to show
        abort(403)
    selected = request.values.get("company") or None
    if request.method == "POST":
        company = ext.adapter.get_company(selected) if selected else None
        if company is not None and not ext.adapter.can_manage(company.id):
            abort(403)
        form = _register_form(request.form, selected)
        if form.validate():
            company, person = form.chosen_company, form.chosen_person
            try:
                result = registration.register(company, person)
            except OnboardingError as exc:
                registration.refused("registration", company, exc)
                _put_error(form, exc)
            else:
                ext.session.commit()
                target = _company_url(company.id, "existing_user" if result.needs_manual_credentials else "registered")
                if htmx.htmx():
                    response = htmx.redirect(target)
                    htmx.add_trigger(response, "maventa:registered", {"company_id": company.id})
                    return response
                return redirect(target, 303)
    else:
        form = _register_form(None, selected)
        form.person.data = request.args.get("person") or ""
    return htmx.render("maventa/onboarding/register.html", "maventa/onboarding/_register_form.html", form=form)


def landing_register_form() -> RegisterForm:
    """For the Register card on the landing page."""
    return _register_form(None, None)


# -- the credentials section (order 10) ---------------------------------------------------------


NOTICES: dict[str, tuple[str, Callable[[], str]]] = {
    "registered": ("success", lambda: _(
        "The company is registered in Maventa. Its User API key and Company UUID are filled in below. "
        "Next, send the authentication request to the person who may sign for the company.")),
    "connected": ("success", lambda: _("Maventa accepted the User API key and Company UUID. They are saved.")),
    "disconnected": ("success", lambda: _(
        "The company is disconnected from Maventa: its User API key is deleted and nothing is sent. Register it "
        "again or enter other credentials below to connect it again.")),
    "connected_signing_sent": ("success", lambda: _(
        "Maventa accepted the User API key and Company UUID, and the authentication request was sent again "
        "to the approver chosen before.")),
}


@company_section(10, "maventa/partials/_credentials.html")
def credentials_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    form = g.get("maventa_credentials_form")
    if form is None:
        form = CredentialsForm(formdata=None, company_uuid=connection.company_uuid if connection else None)
        form.showing(current_version(connection))
    # Never echo a key: the field shows the stored key masked, or nothing (a pasted one kept sealed after a
    # conflict leaves it empty).
    form.api_key.data = "" if form.sealed_key.data else registration.masked_key(connection)
    if connection is not None and connection.has_credentials:
        state = "connected"
    elif connection is not None and connection.needs_manual_credentials:
        state = "manual"
    else:
        state = "none"
    notice = g.get("maventa_credentials_notice") or request.args.get("notice") or ""
    kind, text = NOTICES.get(notice) or (None, None)
    register_form = None
    if state == "none":
        register_form = RegisterForm(formdata=None)
        persons = list(current_state().adapter.list_persons(company.id))
        register_form.fill([(company, None, None)], persons)
        register_form.company.data = company.id
    unreadable = bool(connection and connection.api_key_encrypted and not form.api_key.data)
    return {
        "form": form,
        "state": state,
        "register_form": register_form,
        "notice": (kind, text()) if kind and text else None,
        "registrant_email": connection.registrant_email if connection else None,
        "has_key": bool(connection and connection.api_key_encrypted) and not unreadable,
        "unreadable": secret_unreadable() if unreadable else None,  # MAVENTA_SECRET_KEY changed
        "conflict": g.get("maventa_credentials_conflict"),
        "kept_key": bool(form.sealed_key.data),
    }


@company_view
def save_credentials(company: Company, connection: Connection | None) -> ResponseReturnValue:
    ext = current_state()
    form: CredentialsForm | None = CredentialsForm()
    trigger = None
    status = 200
    if form is not None and form.validate():
        key = _posted_key(form, connection)
        try:
            if key is None:
                raise OnboardingError(_("The key you pasted before is no longer kept. Paste it again."),
                                      field="api_key")
            result = registration.connect_existing(company, form.company_uuid.data or "", key,
                                                   version=form.seen_version)
        except StaleForm as stale:
            ext.session.rollback()
            connection = connection_for(company)
            _credentials_conflict(form, connection, stale, key or "")
            status = 409
        except OnboardingError as exc:
            registration.refused("credentials", company, exc)
            form.sealed_key.data = ""
            _put_error(form, exc)
        else:
            ext.session.commit()
            notice = "connected_signing_sent" if result.signing_sent else "connected"
            if not htmx.htmx():
                return redirect(_company_url(company.id, notice), 303)
            g.maventa_credentials_notice = notice
            if result.signing_error:
                g.maventa_signing_warning = result.signing_error
            trigger = "maventa:credentials-saved"
            form = None  # the section shows the saved credentials, not the posted form
    g.maventa_credentials_form = form
    response = with_version(_company_page(company, trigger), connection_for(company))
    if status != 200 and not htmx.htmx():
        response.status_code = status
    return response


def _posted_key(form: CredentialsForm, connection: Connection | None) -> str | None:
    """The key to test: the one typed, or the one sealed in the form after a conflict (None: it expired)."""
    typed = form.api_key.data or ""
    if form.sealed_key.data and (not typed.strip() or typed == registration.masked_key(connection)):
        return registration.unseal_key(form.sealed_key.data)
    return typed


def _credentials_conflict(form: CredentialsForm, connection: Connection | None, stale: StaleForm,
                          key: str) -> None:
    """Nothing was saved: what changed and by whom; the user's own values wait in the form for one click."""
    fields = []
    if connection is not None and (form.company_uuid.data or "") != (connection.company_uuid or ""):
        fields.append({"label": form.company_uuid.label.text, "now": connection.company_uuid or "\u2013",
                       "yours": form.company_uuid.data})
    new_key = key and key != registration.masked_key(connection) and registration.MASK_CHAR not in key
    form.sealed_key.data = registration.seal_key(key) if new_key else ""
    form.showing(current_version(connection))
    g.maventa_credentials_conflict = {"changes": changes_since(connection, stale.seen), "fields": fields}


# -- the signing section (order 20) ------------------------------------------------------------


@company_section(20, "maventa/partials/_signing.html")
def signing_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    adapter = current_state().adapter
    persons = list(adapter.list_persons(company.id))
    if connection is None or not connection.has_credentials:
        state = "locked"
    elif connection.verified:
        state = "verified"
    elif connection.auth_state in registration.PENDING_AUTH_STATES:
        state = "pending"
    else:
        state = "ready"
    form = g.get("maventa_signing_form")
    if form is None:
        approver = next((p for p in persons if connection and p.id == connection.approver_person_id), None)
        form = SigningForm(
            formdata=None,
            approver=approver.id if approver else "",
            email=(connection.auth_email if connection and connection.auth_email
                   else approver.email if approver else ""),
            locale=(connection.auth_locale if connection and connection.auth_locale
                    else registration.locale_for(approver)),
        )
        form.showing(current_version(connection))
    form.fill(persons)
    approver = next((p for p in persons if connection and p.id == connection.approver_person_id), None)
    return {
        "state": state,
        "form": form,
        "refresh_form": ActionForm(formdata=None),
        "poll_seconds": POLL_SECONDS if state == "pending" else None,
        "approver_name": approver.name if approver else None,
        "auth_email": connection.auth_email if connection else None,
        "auth_state": connection.auth_state if connection else "NONE",
        "company_state": connection.company_state if connection else "UNKNOWN",
        "sent_at": _fmt(connection.auth_sent_at) if connection else "",
        "checked_at": _fmt(connection.auth_checked_at) if connection else "",
        "warning": g.get("maventa_signing_warning"),
        "notice": g.get("maventa_signing_notice"),
        "conflict": g.get("maventa_signing_conflict"),
    }


def _signing_fragment(company: Company, connection: Connection | None, template: str,
                      trigger: str | None = None) -> Response:
    return htmx.render(template, template, trigger=trigger, ctx=signing_section(company, connection), company=company,
                       connection=connection)


@company_view
def signing_state(company: Company, connection: Connection | None) -> ResponseReturnValue:
    """The signing state. A GET shows what is stored; the open page polls with a POST, which asks
    Maventa when a check is due (honouring the backoff), so the page moves on even where no worker
    runs -- and a state change only ever happens on a POST with the page's token."""
    if not htmx.htmx():
        return redirect(_company_url(company.id, anchor="maventa-signing"), 303)
    if request.method == "POST" and connection is not None and not connection.verified:
        if not ActionForm().validate():
            g.maventa_signing_warning = _("The form has expired; reload the page.")
        else:
            g.maventa_signing_warning = registration.check_signing_if_due(connection)
            current_state().session.commit()
            registration.announce_if_verified(connection, was_verified=False)
    if connection is not None and connection.verified:
        return _retarget_company(company, "maventa:verified")
    return _signing_fragment(company, connection, "maventa/partials/_signing_state.html")


@company_view
def approver_fields(company: Company, connection: Connection | None) -> ResponseReturnValue:
    """The email and language fields filled from the chosen approver (an htmx swap; editable after)."""
    persons = list(current_state().adapter.list_persons(company.id))
    approver = next((p for p in persons if p.id == request.args.get("approver")), None)
    form = SigningForm(formdata=None, approver=approver.id if approver else "",
                       email=approver.email if approver else "", locale=registration.locale_for(approver))
    form.fill(persons)
    if not htmx.wants_fragment():  # a plain GET: the company page, its signing form filled from the approver
        g.maventa_signing_form = form
        return _company_page(company)
    return htmx.render("maventa/company.html", "maventa/onboarding/_signing_fields.html", form=form, company=company)


@company_view
def send_signing(company: Company, connection: Connection | None) -> ResponseReturnValue:
    ext = current_state()
    form = SigningForm()
    form.fill(list(ext.adapter.list_persons(company.id)))
    if form.validate():
        try:
            if connection is None:
                raise OnboardingError(T_("Enter the User API key and Company UUID first."), field="approver")
            registration.send_authorization(connection, form.chosen_approver, form.email.data or "",
                                            form.locale.data or "", version=form.seen_version)
        except StaleForm as stale:
            ext.session.rollback()
            connection = connection_for(company)
            g.maventa_signing_conflict = {"changes": changes_since(connection, stale.seen), "fields": []}
            form.showing(current_version(connection))  # the user's values stay: Send applies them
        except OnboardingError as exc:
            registration.refused("signing", company, exc)
            _put_error(form, exc)
        else:
            ext.session.commit()
            if not htmx.htmx():
                return redirect(_company_url(company.id, anchor="maventa-signing"), 303)
            return with_version(_signing_fragment(company, connection, "maventa/partials/_signing.html",
                                                  "maventa:signing-sent"), connection)
    g.maventa_signing_form = form
    connection = connection_for(company)
    if htmx.htmx():
        return with_version(_signing_fragment(company, connection, "maventa/partials/_signing.html"), connection)
    response = _company_page(company)
    if g.get("maventa_signing_conflict"):
        response.status_code = 409
    return response


@company_view
def refresh_signing(company: Company, connection: Connection | None) -> ResponseReturnValue:
    """*Oppdater*: read the signing state from Maventa now."""
    ext = current_state()
    form = ActionForm()
    if not form.validate():
        g.maventa_signing_warning = " ".join(form.errors.get("csrf_token") or ()) or _(
            "The form has expired; reload the page.")
    elif connection is None or not connection.has_credentials:
        g.maventa_signing_warning = _("Enter the User API key and Company UUID first.")
    else:
        was_verified = connection.verified
        try:
            registration.refresh_signing_state(connection, by_hand=True)
        except OnboardingError as exc:
            registration.refused("signing", company, exc)
            g.maventa_signing_warning = exc.message
        else:
            ext.session.commit()
            registration.announce_if_verified(connection, was_verified=was_verified)
            if not htmx.htmx():
                return redirect(_company_url(company.id, anchor="maventa-signing"), 303)
            if connection.verified:
                return _retarget_company(company, "maventa:verified")
            g.maventa_signing_notice = _("Signing state read from Maventa just now.")
            return _signing_fragment(company, connection, "maventa/partials/_signing_state.html",
                                     "maventa:signing-refreshed")
    connection = connection_for(company)
    if htmx.htmx():
        return _signing_fragment(company, connection, "maventa/partials/_signing_state.html")
    return _company_page(company)


# -- the landing page card ---------------------------------------------------------------------


def _landing_context() -> dict[str, Any]:
    return {"maventa_register_form": landing_register_form}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/register", "register", register_page, methods=["GET", "POST"])
    bp.add_url_rule("/companies/<company_id>/credentials", "credentials", save_credentials, methods=["POST"])
    bp.add_url_rule("/companies/<company_id>/signing", "signing_state", signing_state, methods=["GET", "POST"])
    bp.add_url_rule("/companies/<company_id>/signing/approver", "signing_approver", approver_fields)
    bp.add_url_rule("/companies/<company_id>/signing/send", "signing_send", send_signing, methods=["POST"])
    bp.add_url_rule("/companies/<company_id>/signing/refresh", "signing_refresh", refresh_signing, methods=["POST"])
    bp.context_processor(_landing_context)
    index_section("maventa/onboarding/_register_card.html")
