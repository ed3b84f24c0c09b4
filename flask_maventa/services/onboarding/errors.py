"""What an onboarding step that could not be done raises: :class:`OnboardingError`, whose ``message`` is
translated and whose ``field`` names the form field it belongs to, and the client's errors mapped onto it."""

from __future__ import annotations

import logging
from typing import Any

from ...client import (
    BusinessIdTakenError,
    InvalidCredentialsError,
    InvalidScopeError,
    MaventaError,
    MissingScopeError,
    TransientError,
    UnauthorizedError,
)
from ...infra.texts import T_ as _
from ...infra.texts import Msg, render, stored
from ..maventa_errors import kind_of, temporary_message

log = logging.getLogger("flask_maventa.registration")


class OnboardingError(Exception):
    """A step that could not be done; ``message`` is for the user, ``field`` is where to show it."""

    code = "invalid"

    def __init__(self, message: str | Msg | dict[str, Any], *, field: str | None = None, code: str | None = None):
        super().__init__(render(message))
        self.message = render(message)  # in the current user's language, for the page
        self.text = stored(message)  # untranslated when it can be, for the audit trail (infra/texts.py)
        self.field = field
        if code:
            self.code = code


class MaventaUnreachable(OnboardingError):
    """A temporary failure: no answer, or Maventa's own error (``code`` names which, see
    :mod:`..maventa_errors`); the user tries again later."""

    code = "unreachable"
    retry_after: float | None = None  # Maventa's Retry-After, when it said one


class BusinessIdTaken(OnboardingError):
    code = "bid_taken"


class CredentialsRefused(OnboardingError):
    code = "credentials_refused"


class AccessRefused(OnboardingError):
    """Maventa refused the scopes the integration asks for: the integration's setup, not the company's."""

    code = "scope_refused"


def unreachable(exc: MaventaError | None = None) -> MaventaUnreachable:
    """A temporary failure (:mod:`..maventa_errors` says which kind, and the message for it)."""
    if exc is None:
        error = MaventaUnreachable(_("Maventa could not be reached, nothing was changed. Try again in a few minutes."))
    else:
        error = MaventaUnreachable(temporary_message(exc), code=kind_of(exc))
    error.retry_after = getattr(exc, "retry_after", None)
    return error


def map_client_error(exc: MaventaError, *, field: str | None = None) -> OnboardingError:
    """The user-facing error for a client error. Only the class, status and code are logged."""
    log.warning("Maventa refused an onboarding step: %s status=%s code=%s", type(exc).__name__, exc.status, exc.code)
    if isinstance(exc, TransientError):
        return unreachable(exc)
    if isinstance(exc, (InvalidScopeError, MissingScopeError)):
        # Every company would get this answer: the user cannot fix it by retyping the key.
        return AccessRefused(
            _("Maventa refused the access rights this integration asks for, so nothing was changed. The User "
              "API key and Company UUID are not the problem: ask the administrator of this system to check the "
              "integration's Maventa scope and vendor API key (flask maventa doctor --live)."),
            field=field,
        )
    if isinstance(exc, (InvalidCredentialsError, UnauthorizedError)):
        return CredentialsRefused(
            _("Maventa refused this User API key and Company UUID. Copy both again from Maventa "
              "(Settings > Company settings) and make sure they belong to the same company."),
            field=field or "api_key",
        )
    if isinstance(exc, BusinessIdTakenError):
        return bid_taken()
    detail = "; ".join(str(d) for d in exc.details) or exc.message
    return OnboardingError(_("Maventa did not accept the request: %(detail)s", detail=detail), field=field,
                           code=exc.code or "maventa_refused")


def bid_taken() -> BusinessIdTaken:
    return BusinessIdTaken(
        _("This business ID is already registered in Maventa. If the company already has a Maventa "
          "account, connect it instead: open the company below and enter its User API key and Company UUID "
          "from Maventa (Settings > Company settings)."),
        field="company",
    )
