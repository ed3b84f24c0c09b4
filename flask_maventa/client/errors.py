"""Typed errors of the Maventa client.

Callers decide what to do from the class alone:

- ``TransientError`` (429, 5xx, network): try again later, with the same invoice ``uuid``.
  - ``ConnectError``: the request never left this machine, resending is always safe.
  - ``InDoubtError``: the request may have reached Maventa; find out (read the invoice by our uuid)
    before treating it as lost.
  - ``RateLimitedError``: 429, wait ``retry_after`` seconds.
- ``PermanentError`` (other 4xx): retrying the same request will fail the same way.

Every error carries Maventa's error body (``code``, ``message``, ``details``) and the HTTP status.
Messages are scrubbed of the secrets the client knows about, so ``str(error)`` is safe to log.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

import httpx

__all__ = [
    "BusinessIdTakenError",
    "ConflictError",
    "ConnectError",
    "InDoubtError",
    "InvalidCredentialsError",
    "InvalidParametersError",
    "InvalidResponseError",
    "InvalidScopeError",
    "MaventaError",
    "MissingScopeError",
    "NotFoundError",
    "PermanentError",
    "RateLimitedError",
    "ServerError",
    "TransientError",
    "UnauthorizedError",
    "UnverifiedCompanyError",
]


class ErrorFields(TypedDict, total=False):
    """What every error carries besides its message (the keyword arguments of ``MaventaError``)."""

    status: int | None
    code: str | None
    details: Sequence[str]
    response: httpx.Response | None


class MaventaError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: Sequence[str] = (), response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = list(details)
        self.response = response

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.status, self.code) if part)
        text = f"{head}: {self.message}" if head else self.message
        if self.details:
            text += " (" + "; ".join(str(d) for d in self.details) + ")"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class TransientError(MaventaError):
    """Worth retrying later: 429, 5xx, network trouble."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ConnectError(TransientError):
    """The request never left (connect error or connect/pool timeout): safe to resend."""


class InDoubtError(TransientError):
    """The request may have reached Maventa (timeout or dropped connection after sending)."""


class InvalidResponseError(InDoubtError):
    """Maventa answered 2xx with a body we cannot read: it probably acted on the request."""


class RateLimitedError(TransientError):
    """429 Too Many Requests; ``retry_after`` holds the server's ``Retry-After`` in seconds."""


class ServerError(TransientError):
    """5xx from Maventa."""


class PermanentError(MaventaError):
    """A 4xx other than 429: the same request will fail again."""


class NotFoundError(PermanentError):
    """404: no such resource, or not visible to this company."""


class ConflictError(PermanentError):
    """409: the resource is in a conflicting state (e.g. an invoice uuid that already exists)."""


class InvalidParametersError(PermanentError):
    """400 ``invalid_parameters``: a field was missing, unknown or had a bad value."""


class InvalidCredentialsError(PermanentError):
    """The token endpoint refused the company UUID, user API key or vendor API key."""


class InvalidScopeError(PermanentError):
    """The token endpoint refused the scopes asked for (``invalid_scope``): not a credentials problem.

    ``scope`` is what was asked. Fix: the vendor API key's rights at Maventa, or ``MAVENTA_SCOPE``.
    """

    def __init__(self, message: str, *, scope: str | None = None, **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(message, **kwargs)
        self.scope = scope


class BusinessIdTakenError(PermanentError):
    """``POST /v1/companies``: Maventa already has a company with this business id ("BID ALREADY TAKEN")."""


class UnauthorizedError(PermanentError):
    """A freshly issued token was refused: a scope or permission problem, re-authenticating won't help."""


class MissingScopeError(UnauthorizedError):
    """Maventa granted a token without the scope this operation needs (``granted`` / ``required``)."""

    def __init__(self, message: str, *, granted: str | None = None, required: tuple[str, ...] = (),
                 **kwargs: Unpack[ErrorFields]) -> None:
        super().__init__(message, **kwargs)
        self.granted = granted
        self.required = tuple(required)


class UnverifiedCompanyError(UnauthorizedError):
    """The company has not finished signing (``company_state`` not VERIFIED), so Maventa refuses to send."""
