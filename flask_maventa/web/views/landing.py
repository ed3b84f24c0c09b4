"""The landing page: the host's companies and departments, and where each one stands."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from ...services.companies import company_rows
from .. import htmx


def index() -> ResponseReturnValue:
    rows = company_rows()
    if not rows:
        abort(403)
    return htmx.render("maventa/index.html", "maventa/partials/_companies.html", rows=rows)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "index", index)
