"""Texts that are stored and read later: kept untranslated, translated whenever they are read.

An event, a transfer's error and hint, a company's blocked reason are read by people in other
languages than the one of whoever (or whichever worker) wrote them: the admin's page in the admin's
language, the error email in the company's. So they are stored as a message id + parameters (the
JSON below) and rendered by :func:`render` in the reader's locale. Parameters that are themselves
translatable (a state name, a route) are messages too.

Stored forms (what the ``text`` / ``last_error`` / ``blocked`` JSON columns hold):

- ``{"id": msgid, "params": {...}}`` -- a ``gettext`` message with ``%(name)s`` placeholders (:func:`T_`);
- ``{"finding": {"message": ..., "params": {...}}}`` -- a pre-flight :class:`~..document.findings.Finding`'s
  message or hint (``{name}`` placeholders, filled as the finding itself does);
- ``{"join": [...], "sep": " "}`` -- several texts one after another;
- a plain string -- text nobody can translate (Maventa's own error message), shown as written.

Rows written before texts were stored this way have no JSON: their text column is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from ..document.findings import Finding
from .i18n import gettext

__all__ = ["T_", "Msg", "english", "finding_text", "joined", "render", "stored"]


@dataclass(frozen=True)
class Msg:
    """A message to translate when read: its English source (the msgid) and its parameters.

    ``str()`` renders it in the current locale, so a page shows it in the reader's language; what is
    stored is :meth:`to_json`.
    """

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        params = {k: stored(v) for k, v in self.params.items()}
        return {"id": self.id, "params": params} if params else {"id": self.id}

    def __str__(self) -> str:
        return render(self)

    def __html__(self) -> Markup:
        return escape(str(self))


def T_(message: str, **params: Any) -> Msg:
    """A message kept untranslated (extracted for the catalogues, translated when read)."""
    return Msg(message, params)


def stored(value: Any) -> Any:
    """What a column holds for ``value``: a message as JSON; plain text and numbers as they are."""
    if isinstance(value, Msg):
        return value.to_json()
    return value


def joined(parts: Iterable[Any], sep: str = " ") -> dict[str, Any]:
    return {"join": [stored(p) for p in parts], "sep": sep}


def finding_text(finding: Finding, part: str = "message") -> dict[str, Any]:
    """A finding's message (or hint) as a stored text."""
    return {"finding": {"message": getattr(finding, part), "params": dict(finding.params)}}


def render(value: Any, translate: Callable[..., str] = gettext) -> str:
    """A stored text in the current locale (``translate``: :func:`~.i18n.gettext`); plain text as written."""
    if isinstance(value, Msg):
        value = value.to_json()
    if isinstance(value, dict):
        if "id" in value:
            params = {k: render(v, translate) if isinstance(v, (dict, Msg)) else v
                      for k, v in (value.get("params") or {}).items()}
            try:
                return translate(str(value["id"]), **params)
            except (KeyError, ValueError, TypeError):  # a bad translation must not hide the text
                return translate(str(value["id"]))
        if "finding" in value:
            part = value["finding"]
            finding = Finding("", "error", "", str(part.get("message") or ""), params=part.get("params") or {})
            return finding.render_message(lambda s: translate(s))
        if "join" in value:
            texts = (render(p, translate) for p in value.get("join") or [])
            return str(value.get("sep", " ")).join(t for t in texts if t)
    return "" if value is None else str(value)


def _source(message: str, **params: Any) -> str:
    return message % params if params else message


def english(value: Any) -> str:
    """The text in the source language (the plain text columns keep it, for logs and old readers)."""
    return render(value, _source)


def shown(text: Any, written: str | None) -> str:
    """What a reader sees: ``text`` (the stored message) in the current locale, else the row's ``written``
    text as it was written (rows from before texts were stored untranslated)."""
    return render(text) if text is not None else (written or "")
