"""What every step of an attempt records: the request it made, the notes of the timeline, the host's status,
the signals, and the error columns -- written in the step's one transaction (:func:`commit_step`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ...client import errors as maventa_errors
from ...infra.models import DbSession, Transfer
from ...infra.state import current_state as current_maventa
from ...infra.texts import Msg, english, stored
from .states import Note, commit_retrying, write_notes

log = logging.getLogger("flask_maventa.transfer")
T = TypeVar("T")

BODY_LIMIT = 2000  # characters of a response body kept in the timeline


def _body_summary(response: Any) -> str | None:
    if response is None:
        return None
    try:
        text: str = response.text
    except Exception:  # noqa: BLE001 - a streamed or undecodable body is summarised as absent
        return None
    return text[:BODY_LIMIT]


def error_data(exc: maventa_errors.MaventaError) -> dict[str, Any]:
    data = {"error": type(exc).__name__, "code": exc.code, "message": exc.message, "details": exc.details}
    body = _body_summary(exc.response)
    if body:
        data["response_body"] = body
    return data


def set_host_status(transfer: Transfer, status_id: str | None) -> None:
    if status_id:
        current_maventa().adapter.set_invoice_status(transfer.invoice_id, status_id)


def send_signal(signal: Any, transfer: Transfer) -> None:
    if not signal.receivers:
        return
    try:
        signal.send(transfer, app=current_maventa().app)
    except Exception:  # a host receiver's bug must not undo a committed transfer
        log.exception("a receiver of %s failed for transfer %s", signal.name, transfer.id)


def short_answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("id", "status", "invoice_nr", "sum", "currency", "recipient", "created_at", "destination")
    return {k: answer[k] for k in keep if k in answer}


def error_columns(code: str, message: Any, hint: Any) -> dict[str, Any]:
    """A transfer's error columns: the texts untranslated in ``last_error`` (read in the reader's language),
    in English in the two text columns."""
    return {"last_error_code": str(code)[:64], "last_error_message": english(message),
            "last_error_hint": english(hint) or None,
            "last_error": {"message": stored(message), "hint": stored(hint) if hint else None}}


@dataclass(frozen=True)
class Request:
    """What an attempt sent, recorded in the same transaction as Maventa's answer to it.

    One write transaction per attempt instead of two: the database commits half as often, which on
    SQLite is most of what a send costs. A worker killed mid-request leaves no request event; the
    in-doubt event written when its claim is handed back says what happened instead.
    """

    at: datetime
    invoice_number: str | None
    route: str
    message: Msg
    summary: dict[str, Any]


def request_columns(transfer: Transfer) -> dict[str, Any]:
    request: Request | None = getattr(transfer, "pending_request", None)
    return {} if request is None else {"invoice_number": request.invoice_number, "route": request.route}


def attempt_notes(transfer: Transfer, *notes: Note) -> tuple[Note, ...]:
    """The attempt's request event (if not written yet) and ``notes``: a step's events."""
    request: Request | None = getattr(transfer, "pending_request", None)
    if request is not None:  # dated when it was sent, before the answer's event
        notes = (Note("transfer.request", request.message, None, request.summary, request.at), *notes)
    return notes


def write_attempt_notes(session: DbSession, transfer: Transfer, *notes: Note) -> None:
    """:func:`attempt_notes`, in one statement (for a step that moves no transfer)."""
    write_notes(session, transfer, *attempt_notes(transfer, *notes))


def commit_step(session: DbSession, transfer: Transfer, write: Callable[[], T], *, what: str) -> T:
    """:func:`commit_retrying` for a step of an attempt; the attempt's request is written once, with it."""
    value = commit_retrying(session, write, what=what)
    transfer.pending_request = None
    return value
