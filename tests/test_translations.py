"""The catalogues (domain "maventa"): complete in nb, fi and sv, compiled, placeholders intact.

The completeness test extracts from the sources again, so a string added anywhere in the
extension without a translation fails here. Fix: ``python scripts/translations.py all``,
translate what ``check`` lists, then ``python scripts/translations.py compile``.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from flask_maventa.infra.models import Connection

from .fixtures.apps import make_app
from .fixtures.catalogues import read_catalogue, translations_script

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("nb", "fi", "sv")
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _key(message):
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = translations_script().extract(tmp_path_factory.mktemp("pot") / "maventa.pot")
    with pot.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def test_the_sources_have_strings_to_translate(extracted):
    ids = {_key(m) for m in extracted}
    assert "Status of invoices to be transferred can not be sent" in ids
    assert len(ids) > 100


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_is_translated(extracted, lang):
    catalog = read_catalogue("maventa", lang)
    missing = []
    for message in extracted:
        entry = catalog.get(message.id)
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(_key(message))
    assert not missing, (
        f"{len(missing)} strings have no {lang} translation (run `python scripts/translations.py all`, "
        f"translate, then `compile`): {missing[:20]}"
    )


@pytest.mark.parametrize("lang", ("en", *TRANSLATED))
def test_the_compiled_catalogue_matches_the_po_file(lang):
    def key(value):  # a plural message's id and strings are a tuple in the .po, a list in the .mo
        return tuple(value) if isinstance(value, (list, tuple)) else value

    po = {key(m.id): key(m.string) for m in read_catalogue("maventa", lang) if m.id and m.string and not m.fuzzy}
    with (ROOT / "flask_maventa" / "translations" / lang / "LC_MESSAGES" / "maventa.mo").open("rb") as f:
        mo = {key(m.id): key(m.string) for m in read_mo(f) if m.id}
    assert mo == po, f"{lang}: maventa.mo is older than maventa.po; run `python scripts/translations.py compile`"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_are_kept(lang):
    wrong = []
    for message in read_catalogue("maventa", lang):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                wrong.append((_key(message), string))
    assert not wrong, f"{lang}: placeholders changed in {wrong[:10]}"


def test_english_is_the_source_language():
    catalog = read_catalogue("maventa", "en")
    assert all(m.string == m.id for m in catalog if m.id)


@pytest.mark.parametrize("lang, expected", [
    ("nb", ["Innstillinger", "Integrasjoner", "Status på fakturaer som skal overføres", "Send faktura-PDF med fakturadataene",
            "Status etter vellykket overføring", "Status etter mislykket overføring", "Synkronisering"]),
    ("fi", ["Asetukset", "Siirrettävien laskujen tila", "Lähetä laskun PDF laskun tietojen mukana"]),
    ("sv", ["Inställningar", "Status för fakturor som ska överföras", "Skicka fakturans PDF med fakturadata"]),
])
def test_the_company_page_speaks_the_users_language(tmp_path, lang, expected):
    app = make_app(tmp_path, locale=lang)
    with app.app_context():
        ext = app.extensions["maventa"]
        ext.session.add(Connection(
            company_id="c1", environment="sandbox", company_uuid="00000000-0000-4000-8000-000000000001",
            api_key_encrypted=ext.secrets().encrypt("key"), company_state="VERIFIED",
        ))
        ext.session.commit()
        page = unescape(app.test_client().get("/settings/integrations/maventa/companies/c1").get_data(as_text=True))
    for text in expected:
        assert text in page
    assert "Status of invoices to be transferred" not in page
