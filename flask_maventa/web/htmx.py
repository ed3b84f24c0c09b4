"""All HTMX handling in one place: every ``HX-*`` header a view reads or sets goes through here.

htmx-flask is used as a library only (it reads the request's headers; the host's request class is never
replaced); what it lacks for responses -- the trigger, redirect and retarget headers -- is added here.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request
from htmx_flask.requests import HtmxHeaders


def htmx() -> HtmxHeaders:
    return HtmxHeaders(request.headers)


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page (a boosted one wants the whole page)."""
    headers = htmx()
    return bool(headers) and not headers.boosted and not headers.history_restore_request


def render(page: str, fragment: str | None = None, *, status: int = 200, trigger: str | None = None,
           **context: Any) -> Response:
    """The whole page, or for an htmx request only the fragment the page includes.

    Both come from the same URL, so the response varies on HX-Request.
    """
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    if trigger:
        add_trigger(response, trigger)
    return response


def add_out_of_band(response: Response, html: str) -> None:
    """Append elements marked ``hx-swap-oob`` to an htmx answer: htmx swaps each into the page by its id
    or selector, in the same swap as the answer itself."""
    response.set_data(response.get_data(as_text=True) + html)


def redirect(url: str) -> Response:
    """An empty 200 whose ``HX-Redirect`` makes htmx load ``url`` as a whole page."""
    response = make_response("", 200)
    response.headers["HX-Redirect"] = url
    return response


def retarget(response: Response, target: str, swap: str = "outerHTML") -> Response:
    """Swap ``response`` into ``target`` (a CSS selector) instead of the element that asked."""
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


def add_trigger(response: Response, event: str, detail: object = None) -> None:
    """Fire a client-side event (``maventa:…``) that other parts of the page listen to.

    The header is JSON (ASCII only, so any text in ``detail`` stays data, never markup or a second
    header); events someone set before as a plain comma-separated list are kept.
    """
    events = _events(response.headers.get("HX-Trigger") or "")
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)


def _events(header: str) -> dict[str, Any]:
    try:
        events = json.loads(header)
    except ValueError:
        events = None
    if isinstance(events, dict):
        return events
    return {name.strip(): True for name in header.split(",") if name.strip()}
