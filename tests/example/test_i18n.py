"""The example ERP's own catalogue (domain "example"): complete in nb, fi and sv, compiled, placeholders
intact, and never mixed with the extension's "maventa" domain.

Fix a failure with ``python scripts/translations.py --domain example all``, translate what ``check``
lists in ``example_app/translations/{nb,fi,sv}/LC_MESSAGES/example.po``, then ``compile``.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.fixtures.catalogues import CATALOGUES, read_catalogue, translations_script

FOLDER = CATALOGUES["example"]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    script = translations_script()
    pot = script.extract(tmp_path_factory.mktemp("pot") / "example.pot", catalogue=script.EXAMPLE)
    with pot.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def test_the_erp_marks_its_pages_navigation_and_status_names(extracted):
    ids = {m.id for m in extracted}
    assert {"Invoices", "Customers", "Integrations › Maventa", "Ready for Maventa", "Maventa transfer failed",
            "E-invoice address", "Customer card saved."} <= ids
    # The extension's strings are not the ERP's: they stay in the extension's own domain.
    assert "Status of invoices to be transferred can not be sent" not in ids


@pytest.mark.parametrize("lang", ["nb", "fi", "sv"])
def test_every_erp_string_is_translated(extracted, lang):
    catalog = read_catalogue("example", lang)
    missing = [m.id for m in extracted if not (entry := catalog.get(m.id)) or entry.fuzzy or not entry.string]
    assert not missing, f"{lang}: no translation for {missing[:20]}"


@pytest.mark.parametrize("lang", ["en", "nb", "fi", "sv"])
def test_the_compiled_erp_catalogue_matches_the_po_file(lang):
    po = {m.id: m.string for m in read_catalogue("example", lang) if m.id and m.string and not m.fuzzy}
    with (FOLDER / lang / "LC_MESSAGES" / "example.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po, f"{lang}: example.mo is older than example.po; run `python scripts/translations.py compile`"


@pytest.mark.parametrize("lang", ["nb", "fi", "sv"])
def test_erp_placeholders_are_kept(lang):
    wrong = [(m.id, m.string) for m in read_catalogue("example", lang) if m.id and m.string
             and sorted(PLACEHOLDER.findall(m.string)) != sorted(PLACEHOLDER.findall(m.id))]
    assert not wrong


def test_the_script_does_both_catalogues_or_the_one_asked_for(capsys):
    script = translations_script()
    assert script.main(["translations.py", "--domain", "example", "check"]) == 0
    out = capsys.readouterr().out
    assert "example nb: 0 untranslated" in out and "maventa" not in out
    assert script.main(["translations.py", "--domain", "nope", "check"]) == 2
