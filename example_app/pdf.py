"""A tiny but valid PDF of an invoice, written by hand (one page, Helvetica, text only).

Real ERPs use a report engine; the demo only needs a PDF that Maventa and a PDF viewer
accept, so this writes the objects and the cross-reference table itself.
"""

from __future__ import annotations

from .models import Invoice

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points


def _escape(text: str) -> bytes:
    # WinAnsiEncoding covers the Nordic letters (æøåäö); anything else becomes "?".
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def invoice_lines(invoice: Invoice) -> list[tuple[int, str]]:
    """(font size, text) rows, top to bottom."""
    seller, customer = invoice.company, invoice.customer
    cur = invoice.currency
    rows = [
        (18, f"Invoice {invoice.number}"),
        (10, f"{seller.name} - {seller.street or ''}, {seller.post_code or ''} {seller.city or ''}"),
        (10, f"Org. no. {seller.business_id}   VAT {seller.vat_number or '-'}"),
        (10, ""),
        (11, f"To: {customer.name}"),
        (10, f"{customer.street or ''}, {customer.post_code or ''} {customer.city or ''} {customer.country}"),
        (10, f"Your reference: {invoice.buyer_reference or '-'}"),
        (10, f"Issue date {invoice.issue_date.isoformat()}   Due date {invoice.due_date.isoformat()}"),
        (10, ""),
    ]
    for line in invoice.lines:
        rows.append((10, f"{line.description}: {line.quantity.normalize():f} x {line.unit_price:.2f} "
                         f"= {line.net_amount:.2f} {cur} (VAT {line.vat_rate.normalize():f} %)"))
    rows.append((10, ""))
    rows.append((10, f"Total excl. VAT {invoice.net_total:.2f} {cur}"))
    for rate, (_, vat) in invoice.vat_breakdown.items():
        rows.append((10, f"VAT {rate.normalize():f} % {vat:.2f} {cur}"))
    rows.append((12, f"Amount due {invoice.total:.2f} {cur}"))
    if seller.bank_account:
        rows.append((10, f"Pay to {seller.bank_account}, reference {invoice.payment_reference or invoice.number}"))
    return rows


def render_pdf(rows: list[tuple[int, str]], title: str = "Invoice") -> bytes:
    stream = [b"BT"]
    y = PAGE_HEIGHT - 60
    for size, text in rows:
        stream.append(b"/F1 %d Tf 1 0 0 1 50 %d Tm (%s) Tj" % (size, y, _escape(text)))
        y -= size + 8
    stream.append(b"ET")
    content = b"\n".join(stream)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title (%s) /Producer (flask-maventa example ERP) >>" % _escape(title),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref)
    return bytes(out)


def invoice_pdf(invoice: Invoice) -> bytes:
    return render_pdf(invoice_lines(invoice), title=f"Invoice {invoice.number}")
