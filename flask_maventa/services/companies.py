"""The host's companies and departments as the pages see them: which one the user may manage, its
connection (ours, or None), where it stands, and why one cannot be connected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..host import Company
from ..infra.i18n import gettext
from ..infra.models import Connection, Event
from ..infra.state import current_state
from .settings import transfer_blockers

# A signing request is under way in these states: keep asking Maventa until the company is VERIFIED.
# UNKNOWN is a company_state in the swagger, but nothing stops Maventa from showing it here too.
PENDING_AUTH_STATES = ("SENT", "PENDING", "UNKNOWN", "SIGNED")


class NotYours(LookupError):
    """No such company, or the current user may not manage it (the page answers 404 or 403)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def connection_for(company: Company) -> Connection | None:
    """The one place a company's connection is looked up."""
    return current_state().session.scalars(sa.select(Connection).where(Connection.company_id == company.id)).first()


def managed_company(company_id: str) -> tuple[Company, Connection | None]:
    """The company of a page's URL and its connection; :class:`NotYours` 404 when unknown, 403 when not the
    current user's to manage."""
    adapter = current_state().adapter
    company = adapter.get_company(company_id)
    if company is None:
        raise NotYours(404)
    if not adapter.can_manage(company.id):
        raise NotYours(403)
    return company, connection_for(company)


def parent_of(company: Company) -> Company | None:
    return current_state().adapter.get_company(company.parent_id) if company.parent_id else None


@dataclass(frozen=True)
class CompanyRow:
    company: Company
    connection: Connection | None
    parent_name: str | None
    blocked: bool = False  # active, but a rule stops its invoices now (settings.transfer_blockers)

    @property
    def ineligible_reason(self) -> str | None:
        return ineligible_reason(self.company, self.parent_name)

    @property
    def status(self) -> str:
        """One word for the badge: none, key_needed (registered, its key not entered yet), registered,
        signing, verified, active, blocked (active, but nothing is sent until a rule is fixed)."""
        conn = self.connection
        if conn is None or not (conn.company_uuid or conn.needs_manual_credentials):
            return "none"
        if not conn.has_credentials:
            return "key_needed"
        if conn.active:
            return "blocked" if self.blocked else "active"
        if conn.verified:
            return "verified"
        if conn.auth_state in PENDING_AUTH_STATES:
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
    """The companies the current user may manage, each parent followed by its departments."""
    state = current_state()
    every = list(state.adapter.list_companies())
    companies = [c for c in every if state.adapter.can_manage(c.id)]
    names = {c.id: c.name for c in every}
    connections = {c.company_id: c for c in state.session.scalars(
        sa.select(Connection).where(Connection.company_id.in_([c.id for c in companies])))}
    ordered = sorted(companies, key=lambda c: (names.get(c.parent_id or c.id, c.name), c.parent_id is not None, c.name))
    return [CompanyRow(c, conn := connections.get(c.id), names.get(c.parent_id) if c.parent_id else None,
                       blocked=bool(conn and conn.active and _blocked(conn)))
            for c in ordered]


def _blocked(connection: Connection) -> bool:
    return bool(transfer_blockers(connection))


def managed_connections() -> dict[int, Connection]:
    """The connections of the companies the current user may manage, by id; :class:`NotYours` 403 when
    the user may manage none."""
    state = current_state()
    companies = [c.id for c in state.adapter.list_companies() if state.adapter.can_manage(c.id)]
    if not companies:
        raise NotYours(403)
    return {c.id: c for c in state.session.scalars(sa.select(Connection).where(Connection.company_id.in_(companies)))}


HISTORY_SIZE = 20


def history(connection: Connection, limit: int = HISTORY_SIZE) -> Sequence[Event]:
    """The company's audit trail, newest first: who changed its settings, credentials, signing and switch,
    and when. Each invoice's events are in its own timeline, not here."""
    return current_state().session.scalars(
        sa.select(Event).where(Event.connection_id == connection.id, Event.transfer_id.is_(None))
        .order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)).all()


def company_names() -> dict[str, str]:
    return {c.id: c.name for c in current_state().adapter.list_companies()}
