"""What a check found: one problem with a field, a message and a hint a finance user understands.

Messages and hints are English source strings marked with ``N_``; their ``{placeholders}``
are filled from ``params`` *after* translation, so translators see stable strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    code: str
    """Stable identifier (``BUYER_NO_ADDRESS``, or an official rule id such as ``BR-CO-15``)."""
    severity: Severity
    """``"error"`` stops the invoice from being sent; ``"warning"`` does not."""
    field: str
    """Where in the document: a JSON path such as ``buyer.address.street`` or ``lines[2].quantity``."""
    message: str
    """What is wrong (English source string, may contain ``{placeholders}``)."""
    hint: str = ""
    """Where to fix it, for a finance user (English source string, may contain ``{placeholders}``)."""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # ``field`` names the attribute above
    """Values for the placeholders of ``message`` and ``hint``."""
    rules: tuple[str, ...] = ()
    """The official EN 16931 / Peppol BIS 3.0 rule ids this finding stands for (``("BR-10",)``), so
    a refusal before rendering names the rule the e-invoice would have broken."""

    def render(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """The message and hint, translated by ``gettext`` and then filled in.

        Text parameters go through ``gettext`` (and are filled) too, so a parameter that is
        itself a marked string (``who="The customer"``, ``item="line {n}"``) is translated;
        any other text comes back unchanged.
        """
        hint = self.render_hint(gettext)
        return self.render_message(gettext) + (" " + hint if hint else "")

    def render_message(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """Only what is wrong, translated and filled in."""
        return _fill(gettext(self.message), self._params(gettext))

    def render_hint(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """Only where to fix it (empty when there is no hint), translated and filled in."""
        return _fill(gettext(self.hint), self._params(gettext)) if self.hint else ""

    def _params(self, gettext: Callable[[str], str]) -> dict[str, Any]:
        return {k: _fill(gettext(v), self.params) if isinstance(v, str) and v else v
                for k, v in self.params.items()}

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "field": self.field,
                "message": self.message, "hint": self.hint, "params": dict(self.params),
                "rules": list(self.rules), "text": self.render()}


def _fill(text: str, params: Mapping[str, Any]) -> str:
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return text  # a bad translation, or host text like "{value.x}" in a parameter, must not hide the finding


class DocumentError(ValueError):
    """The document cannot be turned into a valid e-invoice; ``findings`` lists every problem at once."""

    def __init__(self, findings: Iterable[Finding]):
        self.findings = list(findings)
        lines = [f"{f.field or '(document)'}: {f.render()} [{', '.join((f.code, *f.rules))}]" for f in self.findings]
        super().__init__(f"{len(lines)} problem(s) in the invoice document:\n  " + "\n  ".join(lines))

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]
