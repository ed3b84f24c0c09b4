"""The invoice ZIP is packed by hand (client/package.py): byte for byte what zipfile writes."""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from pathlib import PurePosixPath

import pytest

from flask_maventa.client.package import invoice_zip


def zipfile_invoice_zip(xml: bytes, pdf: bytes, filename: str) -> tuple[bytes, str]:
    """The same archive written by zipfile (the implementation invoice_zip replaced)."""
    stem = PurePosixPath(filename).stem or "invoice"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in ((f"{stem}.xml", xml), (f"{stem}.pdf", pdf)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue(), f"{stem}.zip"


@pytest.mark.parametrize("filename", ["invoice_7_r1.xml", "", "folder/faktura 12.xml", "lasku_ä€.xml",
                                      "no_extension", ".xml", "nul\x00inside.xml"])
@pytest.mark.parametrize("sizes", [(0, 0), (10, 3), (140_000, 102_400)])
def test_the_archive_is_what_zipfile_writes(filename, sizes):
    xml, pdf = b"<Invoice>" + os.urandom(sizes[0]), os.urandom(sizes[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name a NUL leaves
        expected = zipfile_invoice_zip(xml, pdf, filename)
    assert invoice_zip(xml, pdf, filename) == expected
    archive = zipfile.ZipFile(io.BytesIO(expected[0]))
    assert archive.testzip() is None
    assert [archive.read(info) for info in archive.infolist()] == [xml, pdf]


def test_an_archive_that_would_need_zip64_is_refused_not_written_wrong():
    class Huge(bytes):
        def __len__(self) -> int:
            return 3 << 30  # 3 GB, without the memory

    with pytest.raises(ValueError, match="ZIP64"):
        invoice_zip(Huge(), b"%PDF", "invoice_7_r1.xml")
