"""What an error of the Maventa client means for the user: the one place that decides it.

Every page and job that turns a client error into a message asks :func:`kind_of` first, so "Maventa
could not be reached" is said only when the request never got an answer, never for an answer Maventa
gave (a 5xx is Maventa's own error; a 4xx is a refusal and says what was refused).

- ``unreachable``: no answer (no connection, a timeout, a dropped connection): try again in a few minutes.
- ``no_answer``: the request was sent but its answer was lost: Maventa may have acted on it.
- ``rate_limited``: 429, with Maventa's Retry-After when it gave one.
- ``maventa_error``: 5xx, or a success answer we cannot read: Maventa's trouble, not the user's input.
- ``refused``: any other 4xx: Maventa refused what was asked (the caller says what to change).
"""

from __future__ import annotations

from ..client import errors as client_errors
from ..infra.texts import T_, Msg

__all__ = ["TEMPORARY", "kind_of", "quoted", "temporary_message"]

TEMPORARY = ("unreachable", "no_answer", "rate_limited", "maventa_error")


def kind_of(exc: client_errors.MaventaError) -> str:
    if isinstance(exc, client_errors.RateLimitedError):
        return "rate_limited"
    if isinstance(exc, (client_errors.ServerError, client_errors.InvalidResponseError)):
        return "maventa_error"
    if isinstance(exc, client_errors.ConnectError):
        return "unreachable"
    if isinstance(exc, client_errors.InDoubtError):
        return "no_answer"
    if isinstance(exc, client_errors.TransientError):
        return "maventa_error"
    return "refused"


def temporary_message(exc: client_errors.MaventaError) -> Msg:
    """The message for a temporary error (:data:`TEMPORARY`), each ending with "nothing was changed";
    untranslated until read (it may be stored, e.g. in the audit trail)."""
    kind = kind_of(exc)
    if kind == "rate_limited":
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            return T_("Maventa is receiving too many requests right now, nothing was changed. Try again in "
                           "%(seconds)s seconds.", seconds=max(1, round(retry_after)))
        return T_("Maventa is receiving too many requests right now, nothing was changed. Try again in a "
                       "minute.")
    if kind == "maventa_error":
        if exc.status:
            return T_("Maventa answered with an error of its own (HTTP %(status)s), nothing was changed. It "
                           "is not caused by what you entered: try again later.", status=exc.status)
        return T_("Maventa answered with something that could not be read, nothing was changed here. It is "
                       "not caused by what you entered: try again later.")
    if kind == "no_answer":
        return T_("Maventa did not answer in time, nothing was changed here. Try again in a few minutes.")
    return T_("Maventa could not be reached, nothing was changed. Try again in a few minutes.")


def quoted(answer: client_errors.MaventaError | str) -> Msg:
    """Maventa's own words (or, when it gave no answer, the network's), to follow a sentence of ours.

    Nobody can translate them: said as Maventa's answer, they read as a quote on a page in another
    language instead of passing for our own words.
    """
    if isinstance(answer, client_errors.MaventaError) and kind_of(answer) in ("unreachable", "no_answer"):
        return T_("The error: %(error)s", error=str(answer))
    return T_("Maventa's answer: %(answer)s", answer=str(answer))
