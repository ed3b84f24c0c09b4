"""The transfer log: what was sent, where it stands, why it failed, and Retry after a fix.

Works without Redis (it only reads the database; a retry's job is dispatched by the next sweep
when Redis is down) and without JavaScript (filters are a GET form, retry a POST + 303).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, redirect, request, url_for

from ...infra import heartbeat
from ...infra.i18n import gettext
from ...infra.models import MAX_ID, Connection, Event, Transfer
from ...infra.state import current_state
from ...services import transfer as pipeline
from .. import htmx
from ..forms.transfers import RetryForm, TransferFilterForm, choice
from . import company_section, own_url

PAGE_SIZE = 100


def _managed_connections() -> dict[int, Connection]:
    ext = current_state()
    companies = {c.id: c for c in ext.adapter.list_companies() if ext.adapter.can_manage(c.id)}
    if not companies:
        abort(403)
    rows = ext.session.scalars(sa.select(Connection).where(Connection.company_id.in_(list(companies))))
    return {c.id: c for c in rows}


def _company_names() -> dict[str, str]:
    return {c.id: c.name for c in current_state().adapter.list_companies()}


def _filtered(form: TransferFilterForm, connections: dict[int, Connection]):
    query = sa.select(Transfer).where(Transfer.connection_id.in_(list(connections) or [-1]))
    data = form.data if form.validate() else {}
    if data.get("company"):
        query = query.where(Transfer.connection_id.in_(
            [c.id for c in connections.values() if c.company_id == data["company"]] or [-1]))
    if data.get("state"):
        query = query.where(Transfer.state == data["state"])
    if data.get("date_from"):
        query = query.where(Transfer.created_at >= datetime.combine(data["date_from"], time.min))
    if data.get("date_to"):  # through the end of that day (no "+ 1 day": 9999-12-31 has no next day)
        query = query.where(Transfer.created_at <= datetime.combine(data["date_to"], time.max))
    if data.get("number"):
        number = data["number"].strip()
        query = query.where(sa.or_(Transfer.invoice_number.contains(number, autoescape=True),
                                   Transfer.invoice_id == number))
    return query.order_by(Transfer.id.desc()).limit(PAGE_SIZE)


def _duration(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return gettext("%(n)s min", n=minutes)
    return gettext("%(n)s h", n=minutes // 60)


def runtime_warnings() -> list[tuple[str, str]]:
    """``(kind, text)`` for every process kind none of which is alive: nothing moves without them."""
    found = heartbeat.health(current_state().session)
    texts = {
        heartbeat.WORKER: (
            gettext("No worker has ever run, so no invoice is being sent. Start `flask maventa worker`."),
            lambda d: gettext("No worker has been alive for %(duration)s, so no invoice is being sent. "
                              "Start `flask maventa worker` again.", duration=d)),
        heartbeat.SCHEDULER: (
            gettext("No scheduler has ever run, so due invoices are not picked up. Start `flask maventa scheduler`."),
            lambda d: gettext("No scheduler has been alive for %(duration)s, so due invoices are not picked up. "
                              "Start `flask maventa scheduler` again.", duration=d)),
    }
    warnings = []
    for kind, (never, silent) in texts.items():
        health = found[kind]
        if not health.alive:
            warnings.append((kind, never if health.last_seen is None else silent(_duration(health.silent_for))))
    return warnings


def _log_context(messages=()):
    connections = _managed_connections()
    names = _company_names()
    form = TransferFilterForm(request.args)
    form.company.choices = [choice("", gettext("All companies"))] + [
        choice(c.company_id, names.get(c.company_id, c.company_id)) for c in connections.values()]
    transfers = current_state().session.scalars(_filtered(form, connections)).all()
    return dict(
        form=form, transfers=transfers, connections=connections, names=names, messages=list(messages),
        counters=pipeline.counters(list(connections)), retry_form=RetryForm(),
        stuck_minutes=current_state().config["MAVENTA_STUCK_MINUTES"], runtime_warnings=runtime_warnings(),
    )


def transfer_log():
    return htmx.render("maventa/transfers/index.html", "maventa/transfers/_log.html", **_log_context())


def counters():
    connections = _managed_connections()
    company = request.args.get("company")
    ids = [c.id for c in connections.values() if not company or c.company_id == company]
    return htmx.render("maventa/transfers/_counters.html", "maventa/transfers/_counters.html",
                        counters=pipeline.counters(ids), company=company,
                        stuck_minutes=current_state().config["MAVENTA_STUCK_MINUTES"],
                        runtime_warnings=runtime_warnings())


def timeline(connection_id: int, invoice_id: str):
    connections = _managed_connections()
    connection = connections.get(connection_id)
    if connection is None:
        abort(404)
    session = current_state().session
    transfers = session.scalars(sa.select(Transfer).where(
        Transfer.connection_id == connection_id, Transfer.invoice_id == invoice_id).order_by(Transfer.revision)).all()
    if not transfers:
        abort(404)
    events = session.scalars(sa.select(Event).where(
        Event.transfer_id.in_([t.id for t in transfers])).order_by(Event.created_at, Event.id)).all()
    return htmx.render("maventa/transfers/timeline.html", "maventa/transfers/_timeline.html",
                        connection=connection, company_name=_company_names().get(connection.company_id),
                        transfers=transfers, events=events, invoice_id=invoice_id, retry_form=RetryForm())


def _transfer_id(raw: str) -> int | None:
    """A posted id as a row id, or None: only ASCII digits, and within the column's range."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        return None
    return int(raw)


def retry():
    connections = _managed_connections()  # permission first: a refused user learns nothing, not even a form error
    form = RetryForm()
    messages: list[tuple[str, str]] = []
    if not form.validate_on_submit():
        messages.append(("error", gettext("The form expired; reload the page and try again.")))
    else:
        ext = current_state()
        raw_ids = request.form.getlist("ids")
        if not raw_ids:
            messages.append(("error", gettext("Choose at least one failed transfer to retry.")))
        for raw in raw_ids[:PAGE_SIZE]:
            transfer_id = _transfer_id(raw)
            item = ext.session.get(Transfer, transfer_id) if transfer_id is not None else None
            if item is None or item.connection_id not in connections:
                messages.append(("error", gettext("Transfer %(id)s does not exist.", id=raw[:20])))
                continue
            try:
                new = pipeline.retry(item, actor=ext.adapter.current_actor())
            except pipeline.RetryRefused as exc:
                ext.session.rollback()
                messages.append(("error", str(exc)))
            else:
                messages.append(("success", gettext(
                    "Invoice %(number)s is queued again (revision %(r)s).",
                    number=new.invoice_number or new.invoice_id, r=new.revision)))
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
def transfers_summary(company, connection):
    return {
        "company": company, "connection": connection,
        "counters": pipeline.counters([connection.id]) if connection else None,
        "stuck_minutes": current_state().config["MAVENTA_STUCK_MINUTES"],
        "runtime_warnings": runtime_warnings() if connection and connection.active else [],
    }


def register(bp) -> None:
    bp.add_url_rule("/transfers", "transfers", transfer_log)
    bp.add_url_rule("/transfers/counters", "transfer_counters", counters)
    bp.add_url_rule("/transfers/<int:connection_id>/invoices/<invoice_id>", "transfer_timeline", timeline)
    bp.add_url_rule("/transfers/retry", "transfer_retry", retry, methods=["POST"])
