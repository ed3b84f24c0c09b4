"""The calls about invoices: send one (exactly once, by our own uuid), read one or a page of them, and
look up where a receiver can be reached."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast
from urllib.parse import quote

from . import errors
from .answers import Invoice, InvoiceAction, LookupEntryReceiver
from .arguments import array, choice, form_field, require
from .http import FilePart
from .package import invoice_zip
from .token_client import TokenClient

log = logging.getLogger("flask_maventa.client")

# Enums the product passes through from user input; checked here so a typo fails before the network.
ROUTES = ("einvoice", "email", "print")  # the routes, in the order Maventa tries them (API-NOTES §6)
INVOICE_LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
DIRECTIONS = ("RECEIVED", "SENT")
INVOICE_STATUSES = ("PENDING", "DELIVERED", "FAILED")


class InvoiceCalls(TokenClient):
    """A company's invoices (a part of :class:`~.api.CompanyClient`)."""

    def send_invoice(self, file: bytes, filename: str, *, uuid: str, format: str | None = "PEPPOLBIS30",
                     recipient_eia: str | None = None, recipient_operator: str | None = None,
                     recipient_email: str | None = None, disabled_routes: Sequence[str] = (),
                     print_own_image: bool | None = None, lang: str | None = None,
                     sender_comment: str | None = None, image_pdf: bytes | None = None) -> Invoice:
        """Upload an invoice; returns Maventa's invoice. ``uuid`` is ours: resending it is safe.

        ``image_pdf``: the company's own PDF of the invoice; the XML and it go as one ZIP (package.py).
        A ``uuid`` Maventa already has may be answered with the existing invoice, 409 or 422: for the
        last two the invoice is read by that uuid and returned, so every caller sees one answer.
        """
        if not file:
            raise ValueError("file is empty: pass the invoice XML (or ZIP) bytes")
        if image_pdf:
            file, filename = invoice_zip(file, image_pdf, filename)
        uuid = require(uuid, "uuid")
        if len(uuid) > 36:
            raise ValueError("uuid must be at most 36 characters")
        fields: list[tuple[str, str | bool]] = [("uuid", uuid)]
        if format:
            fields.append(("format", format))
        for name, value, limit in (("recipient_eia", recipient_eia, 128),
                                   ("recipient_operator", recipient_operator, 128),
                                   ("recipient_email", recipient_email, 255),
                                   ("sender_comment", sender_comment, 1024)):
            if value:
                if len(value) > limit:
                    raise ValueError(f"{name} must be at most {limit} characters")
                fields.append((name, value))
        fields += array("disabled_routes", [choice(r, ROUTES, "disabled route") for r in disabled_routes])
        if print_own_image is not None:
            fields.append(("print_settings[print_own_image]", bool(print_own_image)))
        if lang:
            fields.append(("lang", choice(lang, INVOICE_LANGS, "lang")))
        content_type = "application/zip" if filename.lower().endswith(".zip") else "application/xml"
        parts: list[tuple[str, FilePart]] = [("file", (filename, file, content_type))]
        parts += [(name, form_field(value)) for name, value in fields]
        try:
            return cast(Invoice, self._json(self._call("POST", "/v1/invoices", files=parts, unverified_possible=True)))
        except errors.PermanentError as exc:
            if exc.status not in (409, 422):
                raise
            return self._existing_invoice(uuid, exc)

    def _existing_invoice(self, uuid: str, refusal: errors.PermanentError) -> Invoice:
        """After a 409/422 to an upload: Maventa's invoice with our uuid, or the refusal itself."""
        try:
            invoice = self.get_invoice(uuid)
        except errors.NotFoundError:
            raise refusal from None  # not a duplicate: the upload itself was refused
        except errors.MaventaError as exc:
            raise errors.InDoubtError(
                f"Maventa refused uuid {uuid} as already used ({refusal.status}), and reading it failed: {exc}",
                status=exc.status, code=exc.code, retry_after=getattr(exc, "retry_after", None),
                response=exc.response) from exc
        log.info("POST /v1/invoices: uuid already at Maventa (%s %s); returning that invoice",
                 refusal.status, refusal.code)
        return invoice

    def get_invoice(self, invoice_id: str) -> Invoice:
        """Read an invoice; with our own ``uuid`` sent, that uuid is the invoice id."""
        path = f"/v1/invoices/{quote(require(invoice_id, 'invoice_id'), safe='')}"
        return cast(Invoice, self._json(self._call("GET", path)))

    def invoice_actions(self, invoice_id: str) -> list[InvoiceAction]:
        path = f"/v1/invoices/{quote(require(invoice_id, 'invoice_id'), safe='')}/actions"
        return cast("list[InvoiceAction]", self._json(self._call("GET", path)))

    def list_invoices(self, *, direction: str = "SENT", status: Sequence[str] | None = None,
                      ids: Sequence[str] | None = None, number: str | None = None, page: int = 1,
                      per_page: int = 100) -> list[Invoice]:
        """One page of invoices. ``direction`` defaults to SENT here (Maventa's default is RECEIVED)."""
        if ids is not None and len(ids) > 100:
            raise ValueError("list_invoices takes at most 100 ids per call")
        if not 1 <= per_page <= 100:
            raise ValueError("per_page must be between 1 and 100")
        params = [("direction", choice(direction, DIRECTIONS, "direction"))]
        params += array("status", [choice(s, INVOICE_STATUSES, "status") for s in status or ()])
        params += array("ids", ids or ())
        if number:
            params.append(("number", number))
        params += [("page", str(page)), ("per_page", str(per_page))]
        return cast("list[Invoice]", self._json(self._call("GET", "/v1/invoices", params=params,
                                                           unverified_possible=direction == "RECEIVED")))

    def lookup_receivers(self, *, network: Sequence[str] = ("PEPPOL",), eia: str | None = None,
                         bid: str | None = None, name: str | None = None,
                         country: str | Sequence[str] | None = None) -> list[LookupEntryReceiver]:
        if not network:
            raise ValueError("lookup_receivers needs at least one network, e.g. PEPPOL")
        params = array("network", network)
        for key, value in (("eia", eia), ("bid", bid), ("name", name)):
            if value:
                params.append((key, value))
        if country:
            params += array("country", [country] if isinstance(country, str) else country)
        return cast("list[LookupEntryReceiver]", self._json(self._call("GET", "/v1/lookup/receivers", params=params)))
