"""client/multipart.py builds the same form httpx's ``files=`` does, in one piece: a server reads the same
fields and files from both, however odd the names."""

from __future__ import annotations

import httpx

from flask_maventa.client import multipart
from flask_maventa.sandbox.spec import request_from_httpx

PARTS = [
    ("file", ('invoice "7"\r\nX-Injected: 1.xml', b"<Invoice>\xc3\xa6</Invoice>", "application/xml")),
    ("image", ("kvittering.pdf", b"%PDF-1.4\r\n--not-a-boundary--\r\n")),  # the content type is guessed
    ("uuid", (None, "0b7b4c5e-6a51-5b0e-9c55-3c0e5c1f2a10")),
    ("recipient_email", (None, "økonomi@fjord.example")),
    ('odd"name\\', (None, "")),
]


def _read(request: httpx.Request) -> tuple[dict, dict]:
    with request_from_httpx(request) as parsed:
        files = {name: (f.filename, f.mimetype, f.read()) for name, f in parsed.files.items()}
        return parsed.form.to_dict(), files


def test_a_server_reads_the_same_form_from_ours_and_from_httpxs():
    body, content_type = multipart.encode(PARTS)
    ours = httpx.Request("POST", "https://x/v1/invoices", content=body, headers={"Content-Type": content_type})
    theirs = httpx.Request("POST", "https://x/v1/invoices", files=PARTS)
    assert _read(ours) == _read(theirs)
    form, files = _read(ours)
    assert form["recipient_email"] == "økonomi@fjord.example" and form['odd"name\\'] == ""
    assert files["file"] == ('invoice "7"%0D%0AX-Injected: 1.xml', "application/xml", b"<Invoice>\xc3\xa6</Invoice>")
    assert files["image"][1] == "application/pdf"
    assert ours.headers["Content-Length"] == str(len(body))


def test_the_file_name_cannot_break_out_of_its_header():
    body, _ = multipart.encode(PARTS[:1])
    head = body.split(b"\r\n\r\n", 1)[0]
    assert b"X-Injected" in head and b"\r\nX-Injected" not in head  # escaped, not a header of its own
    assert head.count(b"\r\n") == 2  # boundary line, Content-Disposition, Content-Type
