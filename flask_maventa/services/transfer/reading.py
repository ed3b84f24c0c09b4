"""The host's invoices of a claimed batch, read ahead in two calls (``HostAdapter.get_invoice_documents`` and
``get_invoice_pdfs``) instead of two per invoice.

The send job's thread reads them right after its claim, while the pool's threads are busy with the last
batch: per invoice this spares the pool thread a database connection and the reads' statements, ~1.5 ms of
CPU with a 100 KB PDF on PostgreSQL (docs/measurements.md). Nothing depends on it: whatever is not read
ahead (a host without batch reads, an invoice left out, a batch read that failed) is read by the attempt
itself, as before, so an error is reported for that invoice alone and a host that is away pauses only the
invoices it could not give.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ...document.invoice import InvoiceDocument
from ...infra.models import DbSession, Transfer
from ...infra.state import current_state as current_maventa
from .states import plain_session

log = logging.getLogger("flask_maventa.transfer")


@dataclass(frozen=True)
class ReadAhead:
    """What was read of one invoice before its attempt. ``document`` None: read it in the attempt;
    ``pdf_read`` False: read its PDF there (when the company sends PDFs)."""

    document: InvoiceDocument | None = None
    pdf: bytes | None = None
    pdf_read: bool = False


NOTHING = ReadAhead()


def read_ahead(claimed: Sequence[tuple[Transfer, bool]]) -> list[tuple[Transfer, bool, ReadAhead]]:
    """``claimed`` (transfer, reconcile) pairs with their invoices. One to reconcile is not read: Maventa may
    have it already, and then nothing needs it."""
    ids = [transfer.invoice_id for transfer, reconcile in claimed if not reconcile]
    wanted = set(ids)
    ahead: dict[str, ReadAhead] = {}
    if ids:
        ext = current_maventa()
        try:
            documents = {i: d for i, d in ext.adapter.get_invoice_documents(ids).items()
                         if i in wanted and isinstance(d, InvoiceDocument)}
            with_pdf = {t.invoice_id for t, reconcile in claimed
                        if not reconcile and t.connection.send_pdf and t.invoice_id in documents}
            pdfs = {i: p for i, p in ext.adapter.get_invoice_pdfs(sorted(with_pdf)).items()
                    if i in with_pdf and (p is None or isinstance(p, bytes))} if with_pdf else {}
            ahead = {i: ReadAhead(d, pdfs.get(i), i in pdfs) for i, d in documents.items()}
        except Exception:  # the host's batch read failed: each attempt reads its own invoice
            log.warning("step=read_ahead_failed invoices=%d", len(ids), exc_info=True)
        finally:
            _end_reads(ext.session)
    return [(transfer, reconcile, ahead.get(transfer.invoice_id, NOTHING)) for transfer, reconcile in claimed]


def _end_reads(session: DbSession) -> None:
    """The reads' transaction ends here: the claiming session holds no connection while the batch runs."""
    try:
        session.rollback()
    except sa.exc.DBAPIError:  # the database went away meanwhile: the next claim gets a fresh connection
        plain_session(session).invalidate()
