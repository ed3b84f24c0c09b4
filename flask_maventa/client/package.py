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

The two members and their directory are packed here with ``struct``, exactly as ``zipfile`` packs them
(tests/client/test_package.py compares the bytes): zipfile's writer machinery cost as much CPU as the
CRC-32 of both files, ~0.1 ms per invoice (benchmarks/document.py).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import PurePosixPath

__all__ = ["invoice_zip"]

# zipfile's record layouts (structFileHeader, structCentralDir, structEndArchive) and the values it writes
# for a stored member on a POSIX system: version 2.0, dated 1980-01-01 00:00:00, mode rw-r--r--.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_VERSION, _UNIX, _STORED = 20, 3, 0
_DOS_TIME, _DOS_DATE = 0, (1 << 5) | 1
_MODE = 0o644 << 16
_UTF8_NAME = 0x800
_NO_ZIP64 = 0x7FFFFFFF / 1.05  # zipfile switches to ZIP64 records above this size; an invoice never gets there


def invoice_zip(xml: bytes, pdf: bytes, filename: str) -> tuple[bytes, str]:
    """``(zip bytes, zip filename)`` for an invoice XML named ``filename`` and its PDF image."""
    stem = PurePosixPath(filename).stem or "invoice"
    if len(xml) + len(pdf) > _NO_ZIP64:
        raise ValueError("An invoice ZIP over 2 GB would need ZIP64; Maventa takes 10 MB per file.")
    members: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, content in ((f"{stem}.xml", xml), (f"{stem}.pdf", pdf)):
        name = name.split("\0", 1)[0]  # as zipfile.ZipInfo: a name ends at its first NUL
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        size, crc = len(content), zlib.crc32(content)
        members += (_LOCAL.pack(b"PK\x03\x04", _VERSION, 0, flags, _STORED, _DOS_TIME, _DOS_DATE, crc, size, size,
                                len(encoded), 0), encoded, content)
        directory += (_CENTRAL.pack(b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0, flags, _STORED, _DOS_TIME, _DOS_DATE,
                                    crc, size, size, len(encoded), 0, 0, 0, 0, _MODE, offset), encoded)
        offset += _LOCAL.size + len(encoded) + size
    central = b"".join(directory)
    end = _END.pack(b"PK\x05\x06", 0, 0, 2, 2, len(central), offset, 0)
    return b"".join((*members, central, end)), f"{stem}.zip"
