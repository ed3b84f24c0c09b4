#!/usr/bin/env python
"""Extract, update, compile and check the catalogues: the extension's (domain "maventa") and the
example ERP's own (domain "example", in example_app/translations; it never mixes with the extension's).

    python scripts/translations.py extract   # sources -> flask_maventa/translations/maventa.pot
    python scripts/translations.py update    # .pot -> every <lang>/LC_MESSAGES/maventa.po (new ones created)
    python scripts/translations.py compile   # .po -> .mo (committed: the wheel needs no build step)
    python scripts/translations.py check     # list what nb/fi/sv still miss; exit 1 if anything
    python scripts/translations.py all       # extract + update + compile + check

Each command does both catalogues (``--domain example`` or ``--domain maventa``: only that one).
English is the source language: its catalogue is filled with the msgids themselves.
Runs Babel in-process, so only the project's virtualenv is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "nb", "fi", "sv")
TRANSLATED = ("nb", "fi", "sv")  # en is the source language
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "N_", "T_")


class Catalogue(NamedTuple):
    domain: str
    directory: Path  # holds <domain>.pot and <lang>/LC_MESSAGES/<domain>.po
    mapping: Path  # pybabel's extraction config: which sources belong to this domain
    keywords: tuple[str, ...] = KEYWORDS

    @property
    def pot(self) -> Path:
        return self.directory / f"{self.domain}.pot"


# The extension's templates say _mv(...) / _mvn(...), so a host's `_` keeps meaning the host's catalogue.
MAVENTA = Catalogue("maventa", ROOT / "flask_maventa" / "translations", ROOT / "babel.cfg",
                    (*KEYWORDS, "_mv", "_mvn:1,2"))
EXAMPLE = Catalogue("example", ROOT / "example_app" / "translations", ROOT / "example_app" / "babel.cfg")
CATALOGUES = {c.domain: c for c in (MAVENTA, EXAMPLE)}
TRANSLATIONS, POT, DOMAIN = MAVENTA.directory, MAVENTA.pot, MAVENTA.domain


def pybabel(*args: str) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)  # source locations in the catalogues relative to the repository
    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    finally:
        os.chdir(cwd)


def extract(output: Path | None = None, catalogue: Catalogue = MAVENTA) -> Path:
    output = output or catalogue.pot
    output.parent.mkdir(parents=True, exist_ok=True)
    keywords = [arg for k in catalogue.keywords for arg in ("-k", k)]
    pybabel("extract", "-F", str(catalogue.mapping), *keywords, "--no-default-keywords", "--sort-by-file",
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


def po_path(lang: str, catalogue: Catalogue = MAVENTA) -> Path:
    return catalogue.directory / lang / "LC_MESSAGES" / f"{catalogue.domain}.po"


def update(catalogue: Catalogue = MAVENTA) -> None:
    directory, domain = str(catalogue.directory), catalogue.domain
    for lang in LANGUAGES:
        if not po_path(lang, catalogue).exists():
            pybabel("init", "-i", str(catalogue.pot), "-d", directory, "-D", domain, "-l", lang)
    pybabel("update", "-i", str(catalogue.pot), "-d", directory, "-D", domain, "--ignore-obsolete")
    for lang in LANGUAGES:
        _fix_format_flags(po_path(lang, catalogue), lang)
    fill_english(catalogue)


def fill_english(catalogue: Catalogue = MAVENTA) -> None:
    path = po_path("en", catalogue)
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=100)


def compile_(catalogue: Catalogue = MAVENTA) -> None:
    """Write each .mo from its .po, leaving fuzzy entries out. Babel's own `compile` is not used:
    its format checker mistakes the literal "%" in "{rate} % is not ..." for a conversion and
    refuses the catalogue (tests/test_translations.py checks the real placeholders instead)."""
    for lang in LANGUAGES:
        with po_path(lang, catalogue).open("rb") as f:
            catalog = read_po(f, locale=lang)
        with po_path(lang, catalogue).with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


def missing(lang: str, catalogue: Catalogue = MAVENTA) -> list[str]:
    with po_path(lang, catalogue).open("rb") as f:
        catalog = read_po(f, locale=lang)
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def check(catalogue: Catalogue = MAVENTA) -> int:
    status = 0
    for lang in TRANSLATED:
        todo = missing(lang, catalogue)
        print(f"{catalogue.domain} {lang}: {len(todo)} untranslated or fuzzy")
        for msgid in todo:
            print(f"   {msgid!r}")
        status |= bool(todo)
    return status


def main(argv: list[str]) -> int:
    args = argv[1:]
    catalogues = list(CATALOGUES.values())
    if "--domain" in args:
        at = args.index("--domain")
        domain = args[at + 1] if at + 1 < len(args) else ""
        if domain not in CATALOGUES:
            print(f"unknown domain {domain!r}; choose one of {', '.join(CATALOGUES)}")
            return 2
        catalogues = [CATALOGUES[domain]]
        del args[at:at + 2]
    command = args[0] if args else "all"
    if command not in ("extract", "update", "compile", "check", "all"):
        print(__doc__)
        return 2
    status = 0
    for catalogue in catalogues:
        if command in ("extract", "all"):
            extract(catalogue=catalogue)
        if command in ("update", "all"):
            update(catalogue)
        if command in ("compile", "all"):
            compile_(catalogue)
        if command in ("check", "all"):
            status |= check(catalogue)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
