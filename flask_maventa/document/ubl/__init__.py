"""InvoiceDocument → Peppol BIS Billing 3.0 UBL 2.1 ``Invoice`` or ``CreditNote``.

:func:`build_ubl` first runs the pre-flight document checks: a document it cannot
represent raises :class:`~flask_maventa.document.findings.DocumentError` listing every problem,
and no XML is returned at all. Amounts come from :func:`compute_totals` (one place).
Text is escaped as lxml escapes it (:func:`write_ubl` serialises the same elements through lxml);
characters XML 1.0 cannot carry (control characters, lone surrogates) are dropped, and empty
values leave their element out (PEPPOL-EN16931-R008).

The writer, by part: :mod:`.nodes` (the elements and their serialisation), :mod:`.writer` (the
document, its references and attachments), :mod:`.parties`, :mod:`.amounts` and :mod:`.lines`.
The commands around it (``flask maventa render-ubl`` / ``check``) are in :mod:`flask_maventa.cli.documents`.
"""

from __future__ import annotations

from lxml import etree

from ..findings import DocumentError, errors
from ..invoice import InvoiceDocument
from ..preflight import check_document
from ..totals import Totals, compute_totals
from .writer import CUSTOMIZATION_ID, PROFILE_ID, UblWriter, pdf_attachment_filename

__all__ = [
    "CUSTOMIZATION_ID",
    "PROFILE_ID",
    "build_ubl",
    "compute_totals",
    "pdf_attachment_filename",
]


def build_ubl(doc: InvoiceDocument, *, pdf: bytes | None = None, pdf_filename: str | None = None) -> bytes:
    """The UBL XML (UTF-8 bytes) of ``doc``; ``pdf`` is our own invoice PDF to embed.

    Raises :class:`DocumentError` with every problem at once when the document cannot be
    represented (nothing is written in that case).
    """
    totals = compute_totals(doc)
    problems = errors(check_document(doc, pdf=pdf, totals=totals))
    if problems:
        raise DocumentError(problems)
    writer = UblWriter(doc, totals, track_origin=False)
    return writer.serialize(writer.document(pdf, pdf_filename))


def write_ubl(doc: InvoiceDocument, totals: Totals | None = None, *, pdf: bytes | None = None,
              pdf_filename: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The UBL of ``doc`` without any check, and the JSON-form field each element came from
    (keyed by the element's path, ``lxml``'s ``getpath``).

    :func:`build_ubl` is the one to call; this is for mapping official findings back to the
    fields, and for tests that need the XML of a broken document. Its XML is serialised by lxml
    (the tree is needed for the paths), so it also checks that :func:`build_ubl`'s own serialiser
    writes the same bytes (tests/ubl/test_corpus.py).
    """
    writer = UblWriter(doc, totals or compute_totals(doc))
    root, elements = writer.to_lxml(writer.document(pdf, pdf_filename))
    tree = root.getroottree()
    origin = {tree.getpath(elements[node]): field for node, field in writer.origin.items()}
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return writer.embed_files(xml), origin
