"""The invoice corpus of the UBL tests (the official validator is tests/fixtures/peppol.py)."""

from __future__ import annotations

from pathlib import Path

from flask_maventa.document.invoice import InvoiceDocument

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CASES = sorted((HERE / "cases").glob("*.json"))
BROKEN = sorted((HERE / "broken").glob("*.json"))
# A minimal one-page PDF (the same shape the official self-test embeds).
TINY_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
            b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def load_case(path: Path) -> InvoiceDocument:
    return InvoiceDocument.from_json(path.read_bytes())


def pdf_for(path: Path) -> bytes | None:
    """Cases whose name says ``pdf`` are rendered with our own invoice PDF embedded."""
    return TINY_PDF if "pdf" in path.stem else None
