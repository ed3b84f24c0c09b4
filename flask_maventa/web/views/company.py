"""The company page: every section the areas registered, for one company or department."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, make_response, url_for
from flask.typing import ResponseReturnValue

from ...services import companies
from .. import htmx
from . import COMPANY_SECTIONS, company_section, company_view

if TYPE_CHECKING:
    from ...host import Company
    from ...infra.models import Connection

PAGE = "maventa/company.html"
FRAGMENT = "maventa/partials/_company.html"
HISTORY = "maventa/partials/_history.html"


def render_company(company: Company, connection: Connection | None, section: str | None = None,
                   ctx: dict[str, Any] | None = None, *, trigger: str | None = None) -> Response:
    """The company page, or for htmx the fragment of ``section`` (the whole company part when None).

    ``ctx`` stands in for that section's own context, e.g. a posted form with its errors.
    """
    parent = companies.parent_of(company)
    reason = companies.ineligible_reason(company, parent.name if parent else None)
    sections = [] if reason else [
        (s.template, ctx if section and s.template == section else s.context(company, connection))
        for s in COMPANY_SECTIONS
    ]
    return htmx.render(PAGE, section or FRAGMENT, trigger=trigger, ctx=ctx, company=company, parent=parent,
                        connection=connection, ineligible_reason=reason, sections=sections)


def company_url(company_id: str, notice: str | None = None, anchor: str | None = None) -> str:
    url = url_for("maventa.company", company_id=company_id, notice=notice)
    return f"{url}#{anchor}" if anchor else url


def company_response(company: Company, trigger: str | None = None) -> Response:
    """The company page (or its fragment for htmx) after an action, with whatever forms/notices are in ``g``."""
    response = make_response(company_page(company_id=company.id))
    if trigger:
        htmx.add_trigger(response, trigger)
    return response


def retarget_company(company: Company, trigger: str) -> Response:
    """Swap the whole company fragment instead of the element that asked (e.g. when verified,
    so the settings below unlock without a reload)."""
    return htmx.retarget(company_response(company, trigger), "#maventa-company", "outerHTML")


@company_view
def company_page(company: Company, connection: Connection | None) -> ResponseReturnValue:
    return render_company(company, connection)


@company_section(90, HISTORY)
def history_context(company: Company, connection: Connection | None) -> dict[str, Any]:
    return {"company": company, "connection": connection,
            "events": companies.history(connection) if connection else [], "size": companies.HISTORY_SIZE}


@company_view
def history(company: Company, connection: Connection | None) -> ResponseReturnValue:
    return render_company(company, connection, HISTORY, history_context(company, connection))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/companies/<company_id>", "company", company_page)
    bp.add_url_rule("/companies/<company_id>/history", "company_history", history)
