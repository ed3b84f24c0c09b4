"""The transfer log: what was sent, where it stands, why it failed, and Retry after a fix.

Works without Redis (it only reads the database; a retry's job is dispatched by the next sweep
when Redis is down) and without JavaScript (filters are a GET form, retry a POST + 303).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...infra.i18n import gettext
from ...infra.state import current_state
from ...services import transfer_log
from ...services.companies import NotYours, company_names, managed_connections
from .. import htmx
from ..forms import choice
from ..forms.transfers import RetryForm, TransferFilterForm
from . import company_section, own_url

if TYPE_CHECKING:
    from ...host import Company
    from ...infra.models import Connection


def _managed_connections() -> dict[int, Connection]:
    try:
        return managed_connections()
    except NotYours as refused:
        abort(refused.status)


def _log_context(messages: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    connections = _managed_connections()
    names = company_names()
    form = TransferFilterForm(request.args)
    form.company.choices = [choice("", gettext("All companies"))] + [
        choice(c.company_id, names.get(c.company_id, c.company_id)) for c in connections.values()]
    filters = transfer_log.Filters.of(form.data if form.validate() else {})
    return dict(
        form=form, transfers=transfer_log.transfers(filters, connections), connections=connections, names=names,
        messages=list(messages), counters=transfer_log.counters(list(connections)), retry_form=RetryForm(),
        stuck_minutes=current_state().config["MAVENTA_STUCK_MINUTES"],
        runtime_warnings=transfer_log.runtime_warnings(),
    )


def log_page() -> ResponseReturnValue:
    return htmx.render("maventa/transfers/index.html", "maventa/transfers/_log.html", **_log_context())


def counters() -> ResponseReturnValue:
    connections = _managed_connections()
    company = request.args.get("company")
    if not htmx.wants_fragment():  # the counters live on the transfer log's page (and the company page)
        return redirect(url_for("maventa.transfers", company=company or None), 303)
    ids = [c.id for c in connections.values() if not company or c.company_id == company]
    return htmx.render("maventa/transfers/index.html", "maventa/transfers/_counters.html",
                        counters=transfer_log.counters(ids), company=company,
                        stuck_minutes=current_state().config["MAVENTA_STUCK_MINUTES"],
                        runtime_warnings=transfer_log.runtime_warnings())


def timeline(connection_id: int, invoice_id: str) -> ResponseReturnValue:
    _managed_connections()  # 403 before anything else when the user may manage no company
    found = transfer_log.timeline(connection_id, invoice_id)
    if found is None:
        abort(404)
    return htmx.render("maventa/transfers/timeline.html", "maventa/transfers/_timeline.html",
                       connection=found.connection, company_name=company_names().get(found.connection.company_id),
                       transfers=found.transfers, events=found.events, invoice_id=invoice_id, retry_form=RetryForm())


def retry() -> ResponseReturnValue:
    connections = _managed_connections()  # permission first: a refused user learns nothing, not even a form error
    form = RetryForm()
    messages: list[tuple[str, str]] = []
    if not form.validate_on_submit():  # type: ignore[no-untyped-call]  # Flask-WTF's, unannotated
        messages.append(("error", gettext("The form expired; reload the page and try again.")))
    else:
        messages += transfer_log.retry(request.form.getlist("ids"), connections)
    ok = messages and all(kind == "success" for kind, _ in messages)
    if not htmx.wants_fragment():
        if ok:  # back where the user clicked, if that is one of our pages; never elsewhere
            return redirect(own_url(request.referrer) or url_for("maventa.transfers"), 303)
        return htmx.render("maventa/transfers/index.html", None, **_log_context(messages))
    response = htmx.render("maventa/transfers/index.html", "maventa/transfers/_log.html",
                            **_log_context(messages))
    if ok:
        htmx.add_trigger(response, "maventa:transfers-changed")
    return response


@company_section(40, "maventa/partials/_transfers_summary.html")
def transfers_summary(company: Company, connection: Connection | None) -> dict[str, Any]:
    return {
        "company": company, "connection": connection,
        "counters": transfer_log.counters([connection.id]) if connection else None,
        "stuck_minutes": current_state().config["MAVENTA_STUCK_MINUTES"],
        "runtime_warnings": transfer_log.runtime_warnings() if connection and connection.active else [],
    }


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/transfers", "transfers", log_page)
    bp.add_url_rule("/transfers/counters", "transfer_counters", counters)
    bp.add_url_rule("/transfers/<int:connection_id>/invoices/<invoice_id>", "transfer_timeline", timeline)
    bp.add_url_rule("/transfers/retry", "transfer_retry", retry, methods=["POST"])
