"""One language per reader: events, errors, hints and blocked reasons are stored untranslated and read
in the reader's language; the error email goes out in the company's."""

from __future__ import annotations

import dataclasses
import html as htmllib
import re
from functools import cache
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po

from flask_maventa.infra import audit, texts
from flask_maventa.infra.models import Event
from flask_maventa.services import settings, transfer
from flask_maventa.services.onboarding import signing

from .conftest import invoice_json, wait_for

PREFIX = "/settings/integrations/maventa"
TRANSLATIONS = Path(__file__).parents[2] / "flask_maventa" / "translations"
LANGUAGES = ("en", "nb", "fi", "sv")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{[\w.\[\]]*\}")


@cache
def catalogue(language: str) -> dict[str, str]:
    """msgid -> msgstr of one of our catalogues (en: the msgids themselves)."""
    path = TRANSLATIONS / "maventa.pot" if language == "en" else TRANSLATIONS / language / "LC_MESSAGES" / "maventa.po"
    with path.open("rb") as f:
        found = {}
        for message in read_po(f):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strs = message.string if isinstance(message.string, tuple) else (message.string,)
            # a plural msgid is (singular, plural), its msgstr has one form per nplurals: they may differ in length
            for msgid, msgstr in zip(ids, strs, strict=False):
                found[msgid] = msgid if language == "en" else msgstr
        return found


@cache
def foreign_fragments(language: str) -> frozenset[str]:
    """Text pieces (between placeholders, 15+ characters) of the other catalogues that appear in none of
    this catalogue's strings: one of them on a page means a text of another language."""
    own = " \n ".join(list(catalogue(language).values()) + (list(catalogue("en")) if language == "en" else []))
    pieces = set()
    for other in LANGUAGES:
        if other == language:
            continue
        for text in catalogue(other).values():
            for piece in PLACEHOLDER.split(text):
                piece = piece.strip(" .,:;\u201c\u201d\"'()")
                if len(piece) >= 15 and piece not in own:
                    pieces.add(piece)
    return frozenset(pieces)


def visible_text(page: str) -> str:
    """The page's text, without the raw technical details (<details>: Maventa's JSON answers) and markup."""
    page = re.sub(r"<details>.*?</details>", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def foreign_in(page: str, language: str) -> list[str]:
    text = re.sub(r"\s+", " ", visible_text(page))
    return sorted(piece for piece in foreign_fragments(language) if piece in text)


def test_the_check_finds_a_text_of_another_language():
    """The language check can fail: a Norwegian event text on an English page is found, and so is an
    English one on a Finnish page."""
    norwegian = catalogue("nb")["Maventa accepted the invoice."]
    assert norwegian != "Maventa accepted the invoice."
    assert foreign_in(f"<p>{norwegian}</p>", "en")
    assert foreign_in("<p>Maventa does not have the invoice; sending it again with the same UUID.</p>", "fi")
    assert not foreign_in(f"<p>{catalogue('fi')['Maventa accepted the invoice.']}</p>", "fi")


def _history(host):
    """One company (its chosen language Norwegian) with a failed, retried, blocked and accepted history."""
    connection = host.connect(auth_locale="NO")
    host.add_invoice("1", invoice_json("F-1", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                "country": "NO"}}))
    host.add_invoice("2", invoice_json("OK-2"))
    created = transfer.sweep(dispatch=False).created
    outcomes = {host.transfers(i)[0].invoice_id: transfer.send(t) for i, t in zip(("1", "2"), created, strict=True)}
    assert sorted(o.state for o in outcomes.values()) == ["accepted", "failed"]
    with host.app.test_request_context(headers={"Accept-Language": "fi"}):  # an admin reading Finnish retries
        transfer.retry(host.transfers("1")[0], actor="admin@fjord.example")
    (retried,) = [t for t in host.transfers("1") if t.revision == 2]
    assert transfer.send(retried.id).state == "failed"

    # The company's own history, written by a Swedish-reading admin and by the sweep: switch off and on, a
    # refused activation, a signing check, a blocked sweep (the Sent flag set on the transfer status).
    statuses = host.adapter.statuses
    with host.app.test_request_context(headers={"Accept-Language": "sv"}):
        settings.deactivate(connection)
        settings.activate(connection, live=False)
        audit.record(host.db.session, "signing.checked", texts.T_(
            "Signing state from Maventa: %(auth)s, company %(company)s.",
            auth=signing.state_label("SIGNED"), company=signing.state_label("VERIFIED")), connection=connection)
        host.db.session.commit()
        host.adapter.statuses = [dataclasses.replace(s, is_sent=True) if s.id == "ready" else s for s in statuses]
        with pytest.raises(settings.ActivationRefused):
            settings.activate(connection, live=False)
        host.db.session.commit()
    assert transfer.sweep(dispatch=False).blocked
    host.adapter.statuses = statuses
    kinds = {e.kind for e in host.db.session.query(Event).filter(Event.transfer_id.is_(None))}
    assert {"activation.on", "activation.off", "activation.refused", "signing.checked", "transfer.blocked"} <= kinds
    # The test requests share the fixture's app context, where Flask-Babel keeps the locale it chose last:
    # forget it, so each page below chooses its own from Accept-Language, as a real request does.
    flask_babel.refresh()
    return connection


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_companys_pages_are_in_the_readers_language_only(host, language):
    connection = _history(host)
    client = host.app.test_client()
    headers = {"Accept-Language": language}
    pages = {
        "timeline": client.get(f"{PREFIX}/transfers/{connection.id}/invoices/1", headers=headers),
        "log": client.get(f"{PREFIX}/transfers", headers=headers),
        "company": client.get(f"{PREFIX}/companies/c1", headers=headers),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        assert foreign_in(page, language) == [], name
    timeline = pages["timeline"].get_data(as_text=True)
    for source in ("Queued for Maventa.", "Retried as revision %(r)s."):
        expected = catalogue(language)[source]
        assert (expected % {"r": 2} if "%(" in expected else expected) in htmllib.unescape(timeline)


def test_new_rows_are_stored_untranslated(host):
    _history(host)
    events = host.db.session.query(Event).all()
    assert events and all(e.text is not None for e in events)
    # The stored texts are the English sources; a Norwegian or Finnish writer changed nothing.
    for event in events:
        assert texts.english(event.text) == event.message
        assert not foreign_in(f"<p>{event.message}</p>", "en"), event.kind
    failed = [t for t in host.transfers("1") if t.state == "failed"][-1]
    assert failed.last_error and texts.english(failed.last_error["message"]) == failed.last_error_message


def test_an_old_row_written_as_text_shows_as_written(host):
    connection = host.connect()
    host.add_invoice("1", invoice_json("OLD-1"))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    old = "I kø for Maventa (skrevet før meldingene ble lagret uoversatt)"
    host.db.session.add(Event(kind="transfer.note", message=old, text=None, connection_id=connection.id,
                              transfer_id=transfer_id))
    host.db.session.commit()
    page = host.app.test_client().get(f"{PREFIX}/transfers/{connection.id}/invoices/1",
                                      headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert old in htmllib.unescape(page)
    assert catalogue("fi")["Queued for Maventa."] in htmllib.unescape(page)


def test_the_error_email_is_in_the_companys_language_while_the_admin_reads_another(host):
    host.connect(auth_locale="FI")
    host.add_invoice("1", invoice_json("F-1", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                "country": "NO"}}))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    with host.app.test_request_context(headers={"Accept-Language": "sv"}):  # a Swedish-reading admin's request
        assert transfer.send(transfer_id).state == "failed"
        page_language = texts.render(texts.T_("Maventa accepted the invoice."))
    assert page_language == catalogue("sv")["Maventa accepted the invoice."]
    (mail,) = host.smtp.wait_for(1, timeout=30)
    body = mail.get_content()
    assert catalogue("fi")["After fixing it, use Retry in the Maventa transfer log."] in body
    assert foreign_in(f"<pre>{htmllib.escape(body)}</pre>", "fi") == []
    failed = host.transfers("1")[0]
    assert texts.render(failed.last_error["message"]) != "" and mail["Subject"].startswith("Maventa:")



def test_a_secret_in_a_stored_texts_parameters_never_reaches_the_row(host):
    connection = host.connect()
    secret = "sk-live-abcdef1234567890"
    from flask_maventa.infra import redaction

    redaction.remember(secret)
    audit.record(host.db.session, "transfer.mail_failed", texts.T_("The error report could not be sent: %(e)s",
                                                                   e=f"auth {secret} refused"),
                 connection=connection)
    host.db.session.commit()
    row = host.db.session.execute(
        Event.__table__.select().where(Event.kind == "transfer.mail_failed")).mappings().one()
    assert secret not in str(row["text"]) and secret not in row["message"]
    assert "[redacted]" in row["text"]["params"]["e"]


def test_maventas_own_words_are_quoted_after_a_sentence_in_the_readers_language(host):
    """Nobody can translate what Maventa answers: a Norwegian reader gets our sentence in Norwegian and
    Maventa's words marked as its answer, never Maventa's English passed off as the message."""
    host.connect()  # no receiver seeded: the pinned Peppol route cannot be found
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "accepted"
    wait_for(lambda: transfer.poll(transfer_id).state == "failed", what="Maventa FAILED")
    failed = host.transfers("1")[0]
    with host.app.test_request_context(), flask_babel.force_locale("nb"):
        shown = texts.render(failed.last_error["message"])
    sentence, answer = catalogue("nb")["Maventa could not deliver the invoice."], catalogue("nb")["Maventa's answer: %(answer)s"]
    said = answer.split("%(answer)s")[0]
    assert shown.startswith(f"{sentence} {said}"), shown
    assert "not found" in shown.split(said, 1)[1]  # Maventa's own words, as it gave them
    assert failed.last_error_message.startswith("Maventa could not deliver the invoice. Maventa's answer: ")
