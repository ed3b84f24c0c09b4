"""Registration pages (PRODUCT §1): Register (its page and its card on the landing page), and the
credentials section (order 10) of the company page, where a User API key and Company UUID are saved.

Every action is a Flask-WTF POST. An htmx request gets the re-rendered fragment back (errors
inline, status 200, an ``HX-Trigger`` on success); a plain POST gets a 303 to the company page,
or the whole page with the errors. All Maventa work is in :mod:`flask_maventa.services.onboarding`;
the signing section is in :mod:`.signing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, g, redirect, request
from flask.typing import ResponseReturnValue

from ...host import Company
from ...infra.i18n import gettext as _
from ...infra.state import current_state
from ...services import onboarding as registration
from ...services.companies import company_rows, connection_for
from ...services.onboarding import OnboardingError
from ...services.settings import secret_unreadable
from ...services.versions import StaleForm, changes_since, current_version
from .. import htmx
from ..forms.onboarding import CredentialsForm, RegisterForm
from . import company_section, company_view, index_section, with_version
from .company import company_response, company_url

if TYPE_CHECKING:
    from ...infra.models import Connection


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
                form.show_error(exc.message, exc.field)
            else:
                ext.session.commit()
                target = company_url(company.id, "existing_user" if result.needs_manual_credentials else "registered")
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
            form.show_error(exc.message, exc.field)
        else:
            ext.session.commit()
            notice = "connected_signing_sent" if result.signing_sent else "connected"
            if not htmx.htmx():
                return redirect(company_url(company.id, notice), 303)
            g.maventa_credentials_notice = notice
            if result.signing_error:
                g.maventa_signing_warning = result.signing_error
            trigger = "maventa:credentials-saved"
            form = None  # the section shows the saved credentials, not the posted form
    g.maventa_credentials_form = form
    response = with_version(company_response(company, trigger), connection_for(company))
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

# -- the landing page card ---------------------------------------------------------------------


def _landing_context() -> dict[str, Any]:
    return {"maventa_register_form": landing_register_form}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/register", "register", register_page, methods=["GET", "POST"])
    bp.add_url_rule("/companies/<company_id>/credentials", "credentials", save_credentials, methods=["POST"])
    bp.context_processor(_landing_context)
    index_section("maventa/onboarding/_register_card.html")
