"""The ZIP upload: the invoice XML and its own PDF image, the way Maventa's guide documents it.

Maventa's sending guide: ``file`` is "an XML invoice or a ZIP file with invoice XML file and
attachments"; which PDF *embedded* in a UBL Maventa treats as the printable invoice image is not
documented (API-NOTES §11). So when a company sends its own PDF we upload a ZIP holding exactly one
XML and the image named like it (``invoice_7.xml`` + ``invoice_7.pdf``, the convention the
published clients use). The XML still embeds the same PDF, so a Peppol receiver gets it whatever
Maventa does with the ZIP's image.

The archive is byte-for-byte the same for the same input (fixed timestamps), so a resend of one
invoice ``uuid`` uploads identical bytes. Its members are stored, not deflated: the PDF is compressed
already and the XML is mostly that PDF in base64, so deflating saved ~25 % of the bytes for ~10 ms of
CPU per invoice -- more than all the rest of a send (benchmarks/transfer.py).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

__all__ = ["invoice_zip"]

_EPOCH = (1980, 1, 1, 0, 0, 0)


def invoice_zip(xml: bytes, pdf: bytes, filename: str) -> tuple[bytes, str]:
    """``(zip bytes, zip filename)`` for an invoice XML named ``filename`` and its PDF image."""
    stem = PurePosixPath(filename).stem or "invoice"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in ((f"{stem}.xml", xml), (f"{stem}.pdf", pdf)):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue(), f"{stem}.zip"
