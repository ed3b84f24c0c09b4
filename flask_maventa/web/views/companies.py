"""The landing page: the host's companies and departments, and where each one stands."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort

from ...host import Company
from ...infra.i18n import gettext
from ...infra.models import Connection
from ...infra.state import current_state
from ...services import registration
from .. import htmx as _htmx


@dataclass(frozen=True)
class CompanyRow:
    company: Company
    connection: Connection | None
    parent_name: str | None

    @property
    def ineligible_reason(self) -> str | None:
        return ineligible_reason(self.company, self.parent_name)

    @property
    def status(self) -> str:
        """One word for the badge: none, registered, signing, verified, active."""
        conn = self.connection
        if conn is None or not (conn.company_uuid or conn.needs_manual_credentials):
            return "none"
        if conn.active:
            return "active"
        if conn.verified:
            return "verified"
        if conn.auth_state in registration.PENDING_AUTH_STATES:
            return "signing"
        return "registered"


def ineligible_reason(company: Company, parent_name: str | None = None) -> str | None:
    """Why this company or department cannot be connected (None: it can)."""
    if company.eligible:
        return None
    if company.is_department:
        return gettext(
            "This department has no VAT number of its own, so it sends invoices as part of "
            "%(parent)s. Only departments that are their own organisations can be connected.",
            parent=parent_name or gettext("its parent company"),
        )
    return gettext("This company has no VAT number. Add it on the company card first.")


def company_rows() -> list[CompanyRow]:
    ext = current_state()
    companies = [c for c in ext.adapter.list_companies() if ext.adapter.can_manage(c.id)]
    names = {c.id: c.name for c in ext.adapter.list_companies()}
    connections = {
        c.company_id: c
        for c in ext.session.query(Connection).filter(Connection.company_id.in_([c.id for c in companies]))
    }
    # Parents first, each followed by its departments.
    ordered = sorted(companies, key=lambda c: (names.get(c.parent_id or c.id, c.name), c.parent_id is not None, c.name))
    return [CompanyRow(c, connections.get(c.id), names.get(c.parent_id) if c.parent_id else None) for c in ordered]


def index():
    rows = company_rows()
    if not rows:
        abort(403)
    return _htmx.render("maventa/index.html", "maventa/partials/_companies.html", rows=rows)


def register(bp) -> None:
    bp.add_url_rule("/", "index", index)
