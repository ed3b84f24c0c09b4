"""The settings section (order 30), Maventa's print switch and the activation toggle (order 5).

Every rule comes from :mod:`flask_maventa.services.settings`; this module only turns forms into calls and
problems into fragments. htmx gets the fragment back (errors inline, status 200); a plain POST gets
a 303 to the company page, or the page again with the errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...infra.i18n import gettext
from ...infra.state import current_state
from ...services.settings import (
    ActivationRefused,
    Problem,
    SettingsRejected,
    activate,
    deactivate,
    mapping_problems,
    parse_error_emails,
    read_print_settings,
    save_settings,
    set_use_own_pdf,
    transfer_blockers,
)
from ...services.versions import StaleForm, changes_since, reapply
from .. import htmx
from ..forms import MaventaForm
from ..forms.settings import SETTINGS_FIELDS, ActivationForm, PrintOwnPdfForm, SettingsForm, saved_values
from . import company_section, company_view, with_version
from .company import render_company

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from ...host import Company
    from ...infra.models import Connection

SETTINGS = "maventa/partials/_settings.html"
PRINT = "maventa/partials/_print.html"
PRINT_SECTION = "maventa/partials/_print_section.html"
ACTIVATION = "maventa/partials/_activation.html"
PROBLEMS = "maventa/partials/_settings_problems.html"


def _locked_reason(connection: Connection | None) -> str | None:
    if connection is None or not connection.has_credentials:
        return gettext("Connect the company to Maventa first: register it or enter its User API key and "
                       "Company UUID.")
    if not connection.verified:
        return gettext("The settings open once the company is verified in Maventa (the approver has signed the "
                       "agreement).")
    return None


def _unlocked(connection: Connection | None) -> TypeIs[Connection]:
    return _locked_reason(connection) is None


def _csrf_problems(form: MaventaForm) -> list[Problem]:
    return [Problem("csrf", None, gettext("The form has expired or did not come from this page. Reload the page and "
                                          "try again."))
            for _ in [form.errors.get("csrf_token")] if _]


# -- the settings section ----------------------------------------------------------------------


def settings_context(company: Company, connection: Connection | None, *, form: SettingsForm | None = None,
                     problems: list[Problem] | None = None, saved: bool = False,
                     refused: bool = False, conflict: dict[str, Any] | None = None) -> dict[str, Any]:
    if not _unlocked(connection):
        return {"company": company, "connection": connection, "locked_reason": _locked_reason(connection)}
    statuses = current_state().adapter.list_invoice_statuses(company.id)
    if form is None:
        form = SettingsForm.of(connection, statuses)
        if problems is None and connection.settings_saved_at is not None:
            problems = mapping_problems(connection, statuses)
    return {
        "company": company,
        "connection": connection,
        "locked_reason": None,
        "form": form,
        "problems": problems or [],
        "saved": saved or request.args.get("saved") == "1",
        "refused": refused,
        "conflict": conflict,
    }


@company_section(30, SETTINGS)
def settings_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    return settings_context(company, connection)


def _posted_settings_form(company: Company) -> SettingsForm:
    return SettingsForm().fill(current_state().adapter.list_invoice_statuses(company.id))


@company_view
def save(company: Company, connection: Connection | None) -> ResponseReturnValue:
    session = current_state().session
    form = _posted_settings_form(company)
    if not _unlocked(connection):
        return render_company(company, connection, SETTINGS, settings_context(company, connection))
    if not form.validate():
        problems = _csrf_problems(form)
        return render_company(company, connection, SETTINGS,
                              settings_context(company, connection, form=form, problems=problems, refused=True))
    try:
        problems = save_settings(
            connection,
            send_pdf=form.send_pdf.data,
            send_customer_email=form.send_customer_email.data,
            error_emails=form.error_emails.data,
            **vars(form.mapping),
            version=form.seen_version,
        )
    except StaleForm as stale:
        session.rollback()
        return _settings_conflict(company, connection, form, stale)
    except SettingsRejected as rejected:
        session.rollback()
        ctx = settings_context(company, connection, form=form, problems=rejected.problems, refused=True)
        return render_company(company, connection, SETTINGS, ctx)
    session.commit()
    if not htmx.wants_fragment():
        return redirect(url_for("maventa.company", company_id=company.id, saved=1) + "#maventa-settings", 303)
    fresh = SettingsForm.of(connection, current_state().adapter.list_invoice_statuses(company.id))
    ctx = settings_context(company, connection, form=fresh, problems=problems, saved=True)
    response = render_company(company, connection, SETTINGS, ctx, trigger="maventa:settings-saved")
    # The switch as the save left it (its blockers follow the settings), in the same answer.
    htmx.add_out_of_band(response, render_template(ACTIVATION, ctx=activation_context(company, connection), oob=True))
    return with_version(response, connection)


def _settings_conflict(company: Company, connection: Connection, form: SettingsForm,
                       stale: StaleForm) -> ResponseReturnValue:
    """Nothing was saved: say what changed since the form was made and by whom, and offer the user's own
    changes on top of the current values (one click on Save applies them)."""
    session = current_state().session
    session.refresh(connection)
    statuses = current_state().adapter.list_invoice_statuses(company.id)
    names = {s.id: s.name for s in statuses}
    current, base, yours = saved_values(connection), form.base_values, form.values
    fields = []
    for name in SETTINGS_FIELDS:
        if base and base.get(name) == current[name]:
            continue  # nobody else changed it
        if not base and yours[name] == current[name]:
            continue
        fields.append({"label": form[name].label.text, "now": _shown(name, current[name], names),
                       "yours": _shown(name, yours[name], names) if yours[name] != current[name] else None})
    merged = SettingsForm.of(connection, statuses, reapply(base, yours, current))
    conflict = {"changes": changes_since(connection, stale.seen), "fields": fields}
    ctx = settings_context(company, connection, form=merged, conflict=conflict)
    response = render_company(company, connection, SETTINGS, ctx)
    if not htmx.wants_fragment():
        response.status_code = 409
    return with_version(response, connection)


def _shown(name: str, value: Any, status_names: dict[str, str]) -> str:
    if name.startswith("send_"):
        return gettext("On") if value else gettext("Off")
    if name.endswith("_status_id"):
        return status_names.get(value, value) if value else "\u2013"
    return str(value) or "\u2013"


@company_view
def validate(company: Company, connection: Connection | None) -> ResponseReturnValue:
    """Inline check while the user edits: the same rules as saving, nothing stored."""
    form = _posted_settings_form(company)
    if not _unlocked(connection):
        return render_company(company, connection, SETTINGS, settings_context(company, connection))
    form.validate()
    problems = _csrf_problems(form)
    problems += mapping_problems(connection, mapping=form.mapping)
    problems += parse_error_emails(form.error_emails.data)[1]
    ctx = settings_context(company, connection, form=form, problems=problems)
    if htmx.wants_fragment():  # only the problem slots: the inputs may be edited meanwhile
        return htmx.render(PROBLEMS, PROBLEMS, ctx=ctx)
    return render_company(company, connection, SETTINGS, ctx)


@company_view
def show_settings(company: Company, connection: Connection | None) -> ResponseReturnValue:
    if not htmx.wants_fragment():
        return redirect(url_for("maventa.company", company_id=company.id) + "#maventa-settings", 303)
    return htmx.render("maventa/company.html", SETTINGS, ctx=settings_context(company, connection))


# -- Maventa's own-PDF print setting -----------------------------------------------------------


@company_section(32, PRINT_SECTION)
def print_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    """Its own card after the settings: saving the settings never reloads it (a late reload would wipe the
    question the user is answering)."""
    return {"company": company, "shown": _unlocked(connection)}


def print_context(company: Company, connection: Connection | None, *, problem: Problem | None = None,
                  changed: bool = False, confirm: bool = False) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "company": company, "connection": connection, "print_settings": None, "problem": problem,
        "changed": changed, "confirm": confirm, "locked_reason": _locked_reason(connection), "conflict": None,
        "form": PrintOwnPdfForm(formdata=None).showing(connection.version if connection else 0)}
    if _unlocked(connection) and problem is None:
        try:
            ctx["print_settings"] = read_print_settings(connection)
        except SettingsRejected as refused:
            ctx["problem"] = refused.problems[0]
    return ctx


@company_view
def print_settings(company: Company, connection: Connection | None) -> ResponseReturnValue:
    if request.method == "POST":
        form = PrintOwnPdfForm()
        problem = None
        if not _unlocked(connection):
            pass
        elif not form.validate():
            problem = _csrf_problems(form)[0] if _csrf_problems(form) else None
        elif form.needs_confirmation:  # every printed page becomes chargeable: ask first, change nothing
            ctx = print_context(company, connection, confirm=True)
            return htmx.render("maventa/settings/print.html", PRINT, ctx=ctx, company=company)
        else:
            try:
                set_use_own_pdf(connection, form.wanted, version=form.seen_version)
                current_state().session.commit()
            except StaleForm as stale:
                current_state().session.rollback()
                current_state().session.refresh(connection)
                ctx = print_context(company, connection)
                ctx["conflict"] = {"changes": changes_since(connection, stale.seen), "fields": []}
                response = htmx.render("maventa/settings/print.html", PRINT, ctx=ctx, company=company,
                                       status=200 if htmx.wants_fragment() else 409)
                return with_version(response, connection)
            except SettingsRejected as refused:
                current_state().session.rollback()
                problem = refused.problems[0]
            else:
                if not htmx.wants_fragment():
                    return redirect(url_for("maventa.print_settings", company_id=company.id), 303)
                ctx = print_context(company, connection, changed=True)
                return with_version(htmx.render("maventa/settings/print.html", PRINT, ctx=ctx, company=company,
                                                trigger="maventa:print-settings-changed"), connection)
        ctx = print_context(company, connection, problem=problem)
    else:
        ctx = print_context(company, connection)
    return htmx.render("maventa/settings/print.html", PRINT, ctx=ctx, company=company)


# -- the activation toggle ---------------------------------------------------------------------


def activation_context(company: Company, connection: Connection | None, *,
                       problems: list[Problem] | None = None,
                       conflict: dict[str, Any] | None = None) -> dict[str, Any]:
    blockers = transfer_blockers(connection) if connection is not None and connection.active else []
    return {
        "company": company,
        "connection": connection,
        "locked_reason": _locked_reason(connection),
        "problems": problems or [],
        "blockers": blockers,
        "conflict": conflict,
        "form": ActivationForm(formdata=None).showing(connection.version if connection else 0),
    }


@company_section(5, ACTIVATION)
def activation_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    return activation_context(company, connection)


@company_view
def activation(company: Company, connection: Connection | None) -> ResponseReturnValue:
    if request.method == "GET":
        if not htmx.wants_fragment():
            return redirect(url_for("maventa.company", company_id=company.id), 303)
        return htmx.render("maventa/company.html", ACTIVATION, ctx=activation_context(company, connection))

    session = current_state().session
    form = ActivationForm()
    if not form.validate():
        return render_company(company, connection, ACTIVATION,
                              activation_context(company, connection, problems=_csrf_problems(form)))
    if connection is None:
        return render_company(company, connection, ACTIVATION, activation_context(company, connection, problems=[
            Problem("no_credentials", None, _locked_reason(connection) or "")]))
    try:
        if form.wanted:
            activate(connection, version=form.seen_version)
        else:
            deactivate(connection, version=form.seen_version)
    except StaleForm as stale:
        session.rollback()
        session.refresh(connection)
        ctx = activation_context(company, connection,
                                 conflict={"changes": changes_since(connection, stale.seen), "fields": []})
        response = render_company(company, connection, ACTIVATION, ctx)
        if not htmx.wants_fragment():
            response.status_code = 409
        return with_version(response, connection)
    except ActivationRefused as refused:
        session.commit()  # the refusal is audited, and a live company_state refresh kept
        return render_company(company, connection, ACTIVATION,
                              activation_context(company, connection, problems=refused.problems))
    session.commit()
    if not htmx.wants_fragment():
        return redirect(url_for("maventa.company", company_id=company.id), 303)
    return with_version(render_company(company, connection, ACTIVATION, activation_context(company, connection),
                                       trigger="maventa:activation-changed"), connection)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/companies/<company_id>/settings", "settings", show_settings)
    bp.add_url_rule("/companies/<company_id>/settings", "save_settings", save, methods=["POST"])
    bp.add_url_rule("/companies/<company_id>/settings/validate", "validate_settings", validate, methods=["POST"])
    bp.add_url_rule("/companies/<company_id>/settings/print", "print_settings", print_settings,
                    methods=["GET", "POST"])
    bp.add_url_rule("/companies/<company_id>/activation", "activation", activation, methods=["GET", "POST"])
