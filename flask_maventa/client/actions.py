"""Reading why Maventa failed an invoice from its actions (``GET /v1/invoices/{id}/actions``).

Maventa accepts an upload first and converts and validates it afterwards (API-NOTES §6), so an
invoice it accepted can still FAIL on its own validation; the ERROR action's message then carries a
Peppol / EN 16931 rule (``[BR-CO-15]-Invoice total amount with VAT ...``). Anything else is a
delivery failure on a route (no e-invoice address, no email, no postal address...).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Failure", "failure_of"]

# Rule ids of EN 16931 (BR-01, BR-CO-15, BR-S-08), Peppol (PEPPOL-EN16931-R001), UBL (UBL-CR-001)
# and national rule sets (NO-R-002, SE-R-005, DK-R-003...).
RULE = re.compile(r"\b(BR-(?:[A-Z]{1,3}-)?\d{2,3}|PEPPOL-[A-Z0-9]+-[A-Z]?\d{3}|UBL-(?:CR|SR|DT)-\d{2,3}"
                  r"|[A-Z]{2}-R-\d{3})\b")
VALIDATION_WORDS = re.compile(r"validat|schematron|not valid|invalid", re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    message: str | None        # Maventa's own words, if it gave any
    channel: str | None        # EINVOICE, EMAIL, PRINT (None: not a route's failure)
    rule: str | None           # the first rule id named, for a validation failure
    validation: bool           # Maventa's own validation refused the invoice (the invoice must change)


def failure_of(actions: Iterable[object] | None) -> Failure:
    """The last ERROR (or FAILED) action, read: what happened and whether it was validation."""
    errors = [a for a in actions or [] if isinstance(a, dict) and str(a.get("type", "")).upper() in ("ERROR", "FAILED")]
    if not errors:
        return Failure(None, None, None, False)
    last = errors[-1]
    message = str(last.get("message") or last.get("key") or "") or None
    text = f"{last.get('key') or ''} {message or ''}"
    rule = RULE.search(text)
    validation = (bool(rule) or "validation" in str(last.get("key") or "")
                  or bool(VALIDATION_WORDS.search(message or "")))
    channel = last.get("channel") if isinstance(last.get("channel"), str) else None
    return Failure(message, channel, rule.group(1) if rule else None, validation)
