#!/usr/bin/env python
"""Extract, update, compile and check the extension's catalogues (domain "maventa").

    python scripts/translations.py extract   # sources -> flask_maventa/translations/maventa.pot
    python scripts/translations.py update    # .pot -> every <lang>/LC_MESSAGES/maventa.po (new ones created)
    python scripts/translations.py compile   # .po -> .mo (committed: the wheel needs no build step)
    python scripts/translations.py check     # list what nb/fi/sv still miss; exit 1 if anything
    python scripts/translations.py all       # extract + update + compile + check

English is the source language: its catalogue is filled with the msgids themselves.
Runs Babel in-process, so only the project's virtualenv is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "flask_maventa" / "translations"
POT = TRANSLATIONS / "maventa.pot"
DOMAIN = "maventa"
LANGUAGES = ("en", "nb", "fi", "sv")
TRANSLATED = ("nb", "fi", "sv")  # en is the source language
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "N_")


def pybabel(*args: str) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)  # source locations in the catalogues relative to the repository
    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    finally:
        os.chdir(cwd)


def extract(output: Path = POT) -> Path:
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    pybabel("extract", "-F", str(ROOT / "babel.cfg"), *keywords, "--no-default-keywords", "--sort-by-file",
            "--project", "flask-maventa", "--copyright-holder", "flask-maventa", "-o", str(output), ".")
    _fix_format_flags(output)
    return output


def _fix_format_flags(path: Path, locale: str | None = None) -> None:
    """Babel flags "{rate} % of {base}" as python-format ("% o" looks like a conversion), and compile
    then refuses any translation that moves the "%". Messages without %(name)s use str.format or
    nothing, so they are not python-format."""
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if "python-format" in message.flags and not any("%(" in i for i in ids):
            message.flags.discard("python-format")
    with path.open("wb") as f:
        write_po(f, catalog, width=100)


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> None:
    for lang in LANGUAGES:
        if not po_path(lang).exists():
            pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-D", DOMAIN, "-l", lang)
    pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-D", DOMAIN, "--ignore-obsolete")
    for lang in LANGUAGES:
        _fix_format_flags(po_path(lang), lang)
    fill_english()


def fill_english() -> None:
    path = po_path("en")
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=100)


def compile_() -> None:
    """Write each .mo from its .po, leaving fuzzy entries out. Babel's own `compile` is not used:
    its format checker mistakes the literal "%" in "{rate} % is not ..." for a conversion and
    refuses the catalogue (tests/test_translations.py checks the real placeholders instead)."""
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as f:
            catalog = read_po(f, locale=lang)
        with po_path(lang).with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


def missing(lang: str) -> list[str]:
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def check() -> int:
    status = 0
    for lang in TRANSLATED:
        todo = missing(lang)
        print(f"{lang}: {len(todo)} untranslated or fuzzy")
        for msgid in todo:
            print(f"   {msgid!r}")
        status |= bool(todo)
    return status


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "all"
    if command in ("extract", "all"):
        extract()
    if command in ("update", "all"):
        update()
    if command in ("compile", "all"):
        compile_()
    if command in ("check", "all"):
        return check()
    if command not in ("extract", "update", "compile", "check", "all"):
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
