"""Stored texts (infra/texts.py): what a column holds and how it reads back, with any translator."""

from __future__ import annotations

import re

from flask_maventa.document.findings import Finding
from flask_maventa.infra.texts import T_, english, finding_text, joined, render, stored


def shout(message: str, **params: object) -> str:
    """A stand-in catalogue: every message upper-cased, then filled."""
    text = "".join(part if part.startswith(("%(", "{")) else part.upper()
                   for part in re.split(r"(%\(\w+\)s|\{\w+\})", message))
    return text % params if params else text


def test_a_message_is_stored_as_its_id_and_parameters_and_translated_when_read():
    message = T_("Retried as revision %(r)s.", r=2)
    assert stored(message) == {"id": "Retried as revision %(r)s.", "params": {"r": 2}}
    assert english(stored(message)) == "Retried as revision 2."
    assert render(stored(message), shout) == "RETRIED AS REVISION 2."


def test_translatable_parameters_are_translated_too():
    message = T_("Signing state from Maventa: %(auth)s, company %(company)s.", auth=T_("signed"), company="X")
    assert stored(message)["params"]["auth"] == {"id": "signed"}
    assert render(stored(message), shout) == "SIGNING STATE FROM MAVENTA: SIGNED, COMPANY X."


def test_findings_joins_and_plain_text():
    finding = Finding("C", "error", "f", "The buyer {who} has no address.", "Add it on the {card}.",
                      {"who": "ACME", "card": "customer card"})
    text = joined([finding_text(finding), finding_text(finding, "hint"), "Maventa's own words"], " | ")
    assert english(text) == "The buyer ACME has no address. | Add it on the customer card. | Maventa's own words"
    assert render(text, shout).startswith("THE BUYER ACME HAS NO ADDRESS. | ADD IT ON THE CUSTOMER CARD.")
    assert render(text, shout).endswith("Maventa's own words")  # plain text is never translated


def test_a_bad_translation_does_not_hide_the_text():
    def broken(message: str, **params: object) -> str:
        # interpolated as the product interpolates its texts (message % params), so no f-string or format()
        return "%(missing)s" % params if params else message  # noqa: UP031

    assert render({"id": "Queued for Maventa in %(s)s s.", "params": {"s": 3}}, broken) == \
        "Queued for Maventa in %(s)s s."
