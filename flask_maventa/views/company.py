"""The company page: every section the areas registered, for one company or department."""

from __future__ import annotations

from .. import _htmx
from ..extension import current_maventa
from . import COMPANY_SECTIONS, company_view
from .companies import ineligible_reason


@company_view
def company_page(company, connection):
    parent = current_maventa().adapter.get_company(company.parent_id) if company.parent_id else None
    reason = ineligible_reason(company, parent.name if parent else None)
    sections = [] if reason else [(s.template, s.context(company, connection)) for s in COMPANY_SECTIONS]
    return _htmx.render(
        "maventa/company.html",
        "maventa/partials/_company.html",
        company=company,
        parent=parent,
        connection=connection,
        ineligible_reason=reason,
        sections=sections,
    )


def register(bp) -> None:
    bp.add_url_rule("/companies/<company_id>", "company", company_page)
