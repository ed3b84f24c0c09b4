"""A call to our delivery webhook is a notice that an invoice's status changed at Maventa: re-read it.

The body is only a hint: whatever it says, we re-read the invoice through the API, so a forged,
replayed or malformed call can at worst cause one extra read. Its shape is undocumented too: the
invoice id is taken from ``invoice_id`` or ``id``, at the top level or inside ``data``; a body without
one is logged by its key names only, and polling settles the invoice anyway. Anything but a wrong
secret (:func:`flask_maventa.services.webhooks.connection_of`) is answered 2xx, because Maventa retries
non-2xx answers and there is nothing for it to fix.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...infra.models import Connection, Transfer
from ...infra.state import current_state
from .delivery import hint_reread
from .states import ACCEPTED

log = logging.getLogger("flask_maventa.webhooks")


@dataclass(frozen=True)
class Answer:
    """What the webhook endpoint answers: an HTTP status (2xx, so Maventa does not retry) and a small JSON object."""

    status: int
    body: dict[str, str] = field(default_factory=dict)


def receive_notice(connection: Connection, payload: Any) -> Answer:
    """Maventa's call for ``connection`` (its secret already checked) with the JSON ``payload`` (None: unreadable)."""
    session = current_state().session
    invoice_id = invoice_id_of(payload)
    if invoice_id is None:
        # Maventa does not document the body: its key names (never its values) tell us the real shape.
        log.warning("webhook for company %s without a recognised invoice id; body keys: %s",
                    connection.company_id, key_names(payload))
        return Answer(202, {"ignored": "no invoice id in the body"})
    found = session.scalars(
        sa.select(Transfer).where(
            Transfer.connection_id == connection.id,
            sa.or_(Transfer.maventa_invoice_id == invoice_id, Transfer.maventa_uuid == invoice_id))
    ).first()
    if found is None:
        return Answer(202, {"ignored": "unknown invoice"})
    if found.state != ACCEPTED:  # already delivered/failed (a replay), or not ours to read yet
        return Answer(202, {"ignored": f"transfer is {found.state}"})
    hint_reread(found)
    return Answer(202, {"queued": "re-read"})


_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


def key_names(payload: Any, prefix: str = "", limit: int = 40) -> str:
    """The body's key names as dotted paths (``event, data.document_uuid``), never a value. A key that
    does not look like a plain name is shown as ``?``: no value or odd text reaches the log that way."""
    if not isinstance(payload, dict):
        return f"(not an object: {type(payload).__name__})"
    names: list[str] = []

    def walk(node: dict[Any, Any], path: str, depth: int) -> None:
        for key, value in node.items():
            if len(names) >= limit:
                return
            name = f"{path}{key if _KEY.match(str(key)) else '?'}"
            names.append(name)
            if isinstance(value, dict) and depth < 3:
                walk(value, name + ".", depth + 1)

    walk(payload, prefix, 0)
    return ", ".join(names) or "(empty object)"


def invoice_id_of(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("invoice_id", "id"):
        value = payload.get(key)
        if isinstance(value, (str, int)) and str(value).strip() and len(str(value)) <= 64:
            return str(value).strip()
    data = payload.get("data")
    return invoice_id_of(data) if isinstance(data, dict) else None
