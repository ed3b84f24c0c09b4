"""All HTMX handling in one place. htmx-flask is used as a library only: the host's
request class is never replaced, we read the headers of the current request."""

from __future__ import annotations

import json

from flask import make_response, render_template, request
from htmx_flask.requests import HtmxHeaders


def htmx() -> HtmxHeaders:
    return HtmxHeaders(request.headers)


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page (a boosted one wants the whole page)."""
    headers = htmx()
    return bool(headers) and not headers.boosted and not headers.history_restore_request


def render(page: str, fragment: str | None = None, *, status: int = 200, trigger: str | None = None, **context):
    """The whole page, or for an htmx request only the fragment the page includes.

    Both come from the same URL, so the response varies on HX-Request.
    """
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    if trigger:
        add_trigger(response, trigger)
    return response


def add_trigger(response, event: str, detail=None) -> None:
    """Fire a client-side event (``maventa:…``) that other parts of the page listen to.

    The header is JSON (ASCII only, so any text in ``detail`` stays data, never markup or a second
    header); events someone set before as a plain comma-separated list are kept.
    """
    events = _events(response.headers.get("HX-Trigger") or "")
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)


def _events(header: str) -> dict:
    try:
        events = json.loads(header)
    except ValueError:
        events = None
    if isinstance(events, dict):
        return events
    return {name.strip(): True for name in header.split(",") if name.strip()}
