"""Fixtures of the UBL tests: the invoice corpus and ONE official validator per session."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import pytest

from flask_maventa.invoice import InvoiceDocument
from tests.fixtures.services import require_service

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CASES = sorted((HERE / "cases").glob("*.json"))
BROKEN = sorted((HERE / "broken").glob("*.json"))
# A minimal one-page PDF (the same shape the official self-test embeds).
TINY_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
            b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def shared_peppol_dir() -> Path:
    """``../shared/peppol`` beside the repository (CI layout), or ``PEPPOL_SHARED_DIR``."""
    return Path(os.environ.get("PEPPOL_SHARED_DIR") or REPO / ".." / "shared" / "peppol").resolve()


def load_case(path: Path) -> InvoiceDocument:
    return InvoiceDocument.from_json(path.read_bytes())


def pdf_for(path: Path) -> bytes | None:
    """Cases whose name says ``pdf`` are rendered with our own invoice PDF embedded."""
    return TINY_PDF if "pdf" in path.stem else None


@pytest.fixture(scope="session")
def peppol_dir() -> Path:
    folder = shared_peppol_dir()
    if not (folder / "validate_peppol.py").is_file():
        require_service("peppol validator", f"validate_peppol.py not found in {folder} (set PEPPOL_SHARED_DIR)")
    return folder


@pytest.fixture(scope="session")
def validator(peppol_dir):
    """The official validator, compiled once for the whole session (setup takes about a second)."""
    sys.path.insert(0, str(peppol_dir))
    try:
        module = importlib.import_module("validate_peppol")
    finally:
        sys.path.remove(str(peppol_dir))
    return module.Validator(rules_dir=peppol_dir)


@pytest.fixture(scope="session")
def assert_valid(validator):
    def check(xml: bytes, name: str = "<doc>") -> dict:
        result = validator.validate_bytes(xml, name)
        assert result["fatal"] == [], json.dumps(result["fatal"], indent=1, ensure_ascii=False)
        return result
    return check
