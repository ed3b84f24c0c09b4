"""Disconnecting a company from its Maventa account: a page that says what it does (to waiting invoices
too), then one confirmation. A plain page and a plain form post, with or without JavaScript; the rules are
in :mod:`flask_maventa.services.disconnect`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from ...infra.state import current_state
from ...services.disconnect import DisconnectRefused, disconnect, transfer_counts
from ...services.versions import StaleForm, changes_since
from .. import htmx
from ..forms.onboarding import DisconnectForm
from . import company_view
from .company import company_url

if TYPE_CHECKING:
    from ...host import Company
    from ...infra.models import Connection


@company_view
def disconnect_page(company: Company, connection: Connection | None) -> ResponseReturnValue:
    """A page that says what disconnecting does (to waiting invoices too), then one confirmation."""
    if connection is None or not (connection.has_credentials or connection.needs_manual_credentials):
        return redirect(company_url(company.id), 303)
    ext = current_state()
    form = DisconnectForm()
    conflict = refused_message = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                disconnect(connection, version=form.seen_version)
            except StaleForm as stale:
                ext.session.rollback()
                conflict = {"changes": changes_since(connection, stale.seen), "fields": []}
                status = 409
            except DisconnectRefused as refused:
                ext.session.rollback()
                refused_message, status = refused.message, 409
            else:
                ext.session.commit()
                return redirect(company_url(company.id, "disconnected"), 303)
        else:
            status = 400
    form.showing(connection.version)
    return htmx.render("maventa/onboarding/disconnect.html", "maventa/onboarding/_disconnect.html", status=status,
                       company=company, form=form, counts=transfer_counts(connection), conflict=conflict,
                       refused=refused_message)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/companies/<company_id>/disconnect", "disconnect", disconnect_page, methods=["GET", "POST"])
