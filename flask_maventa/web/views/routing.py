"""The routing preview section (order 35): where the invoices in the transfer status would go.

The section costs nothing until asked: Maventa is only consulted when the user clicks (a plain link
without JavaScript, an htmx swap with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from ...infra.crypto import SecretUnreadable
from ...infra.i18n import gettext
from ...services import routing
from ...services.settings import secret_unreadable
from . import company_section, company_view
from .company import render_company

if TYPE_CHECKING:
    from ...host import Company
    from ...infra.models import Connection

TEMPLATE = "maventa/partials/_routing.html"


@company_section(35, TEMPLATE)
def routing_section(company: Company, connection: Connection | None) -> dict[str, Any]:
    return {"company": company, "shown": bool(connection and connection.verified), "preview": None,
            "notice": None}


@company_view
def routing_preview(company: Company, connection: Connection | None) -> ResponseReturnValue:
    ctx = routing_section(company, connection)
    if connection is not None and ctx["shown"] and connection.transfer_status_id:
        try:
            ctx["preview"] = routing.preview_due(connection)
        except SecretUnreadable:
            ctx["notice"] = str(secret_unreadable())
    elif ctx["shown"]:  # the section is there from verification on; the settings may not be saved yet
        ctx["notice"] = gettext("Choose the status of invoices to be transferred in the settings first.")
    return render_company(company, connection, TEMPLATE, ctx)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/companies/<company_id>/routing", "routing_preview", routing_preview)
