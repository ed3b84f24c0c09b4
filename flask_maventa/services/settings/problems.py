"""What the settings rules answer with: :class:`Problem` (one reason, in the user's language), and the two
refusals that carry them (:class:`SettingsRejected`, :class:`ActivationRefused`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...client import errors as client_errors
from ...infra.crypto import UNREADABLE, UNREADABLE_HINT
from ...infra.texts import T_, Msg, joined, stored
from ..maventa_errors import kind_of, temporary_message


@dataclass(frozen=True)
class Problem:
    """One reason the settings cannot be used, in the current user's language.

    Built from a :class:`~..infra.texts.Msg`, it also keeps the untranslated message (:meth:`text`) for
    what is stored, such as the sweep's blocked reason. ``field`` names the form field it belongs
    to (None: the connection as a whole);
    ``hint`` says where to fix it and ``hint_url`` links there when the host has a page.
    """

    code: str
    field: str | None
    message: str | Msg
    hint: str | Msg | None = None
    hint_url: str | None = None
    source: tuple[object, object] = dataclasses.field(default=(None, None), compare=False, repr=False)

    def __post_init__(self) -> None:
        # Shown now in the current locale; stored (the sweep's blocked reason) as given -- untranslated.
        object.__setattr__(self, "source", (stored(self.message), stored(self.hint)))
        object.__setattr__(self, "message", str(self.message))
        object.__setattr__(self, "hint", None if self.hint is None else str(self.hint))

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else str(self.message)

    def text(self, *, hint: bool = True) -> Any:
        """The message (and hint) as a stored text, untranslated when built from :func:`~..infra.texts.T_`."""
        message, its_hint = self.source
        return joined([message, its_hint]) if hint and its_hint is not None else message


class SettingsRejected(ValueError):
    """The settings were not saved; ``problems`` says why, field by field."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class ActivationRefused(SettingsRejected):
    """The integration stays off; ``problems`` is what to fix first."""


def secret_unreadable() -> Problem:
    """The stored User API key cannot be decrypted: MAVENTA_SECRET_KEY changed. Nothing can be sent
    until the old key is back (or the User API key is entered again); nothing fails meanwhile."""
    return Problem("secret_unreadable", None, T_(UNREADABLE), T_(UNREADABLE_HINT))


def maventa_problem(exc: client_errors.MaventaError, what: str | Msg) -> Problem:
    """A client error as a problem: ``what`` could not be done, and why, by the kind of error."""
    kind = kind_of(exc)
    if kind == "refused":
        detail = "; ".join(str(d) for d in exc.details) or exc.message
        return Problem("maventa_refused", None, what,
                       T_("Maventa refused the request: %(detail)s", detail=detail[:300]))
    code = "maventa_unreachable" if kind in ("unreachable", "no_answer") else f"maventa_{kind}"
    return Problem(code, None, what, temporary_message(exc))
