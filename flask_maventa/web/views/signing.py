"""The signing section (order 20) of the company page (PRODUCT §1): who signs Maventa's agreement, the
request sent to them, and the signing state that keeps itself up to date while the page is open.

As on the registration pages (:mod:`.registration`): Flask-WTF POSTs, the fragment back for htmx, a 303 or
the whole page otherwise; the Maventa work is in :mod:`flask_maventa.services.onboarding`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, g, redirect, request
from flask.typing import ResponseReturnValue

from ...host import Company
from ...infra.clock import local_time
from ...infra.i18n import gettext as _
from ...infra.state import current_state
from ...infra.texts import T_  # what reaches the audit trail is stored untranslated
from ...services import onboarding as registration
from ...services.companies import connection_for
from ...services.onboarding import OnboardingError
from ...services.versions import StaleForm, changes_since, current_version
from .. import htmx
from ..forms.onboarding import ActionForm, SigningForm
from . import company_section, company_view, with_version
from .company import company_response, company_url, retarget_company

if TYPE_CHECKING:
    from datetime import datetime

    from ...infra.models import Connection

POLL_SECONDS = 3  # how often an open page asks for the signing state while a request is pending


def _fmt(moment: datetime | None) -> str:
    return local_time(moment)


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
        return redirect(company_url(company.id, anchor="maventa-signing"), 303)
    if request.method == "POST" and connection is not None and not connection.verified:
        if not ActionForm().validate():
            g.maventa_signing_warning = _("The form has expired; reload the page.")
        else:
            g.maventa_signing_warning = registration.check_signing_if_due(connection)
            current_state().session.commit()
            registration.announce_if_verified(connection, was_verified=False)
    if connection is not None and connection.verified:
        return retarget_company(company, "maventa:verified")
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
        return company_response(company)
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
            form.show_error(exc.message, exc.field)
        else:
            ext.session.commit()
            if not htmx.htmx():
                return redirect(company_url(company.id, anchor="maventa-signing"), 303)
            return with_version(_signing_fragment(company, connection, "maventa/partials/_signing.html",
                                                  "maventa:signing-sent"), connection)
    g.maventa_signing_form = form
    connection = connection_for(company)
    if htmx.htmx():
        return with_version(_signing_fragment(company, connection, "maventa/partials/_signing.html"), connection)
    response = company_response(company)
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
                return redirect(company_url(company.id, anchor="maventa-signing"), 303)
            if connection.verified:
                return retarget_company(company, "maventa:verified")
            g.maventa_signing_notice = _("Signing state read from Maventa just now.")
            return _signing_fragment(company, connection, "maventa/partials/_signing_state.html",
                                     "maventa:signing-refreshed")
    connection = connection_for(company)
    if htmx.htmx():
        return _signing_fragment(company, connection, "maventa/partials/_signing_state.html")
    return company_response(company)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/companies/<company_id>/signing", "signing_state", signing_state, methods=["GET", "POST"])
    bp.add_url_rule("/companies/<company_id>/signing/approver", "signing_approver", approver_fields)
    bp.add_url_rule("/companies/<company_id>/signing/send", "signing_send", send_signing, methods=["POST"])
    bp.add_url_rule("/companies/<company_id>/signing/refresh", "signing_refresh", refresh_signing, methods=["POST"])
