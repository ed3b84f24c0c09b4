"""The routing preview: where Maventa will deliver an invoice -- e-invoice, email or print -- before it is sent.

Maventa tries an e-invoice, then email, then print (API-NOTES §6 "Routing behaviour"). An e-invoice
address given together with an operator pins that route; otherwise Maventa looks the address up in
its receiver registry and falls back. :func:`send_params` is also what the transfer job sends, so
the preview and the real send can never disagree about the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from ..client import errors as client_errors
from ..client.invoices import ROUTES
from ..document.findings import errors
from ..document.invoice import Routing
from ..document.preflight import check_document
from ..infra.i18n import gettext
from ..infra.models import Connection
from ..infra.state import current_state

LOOKUP_NETWORKS = ("PEPPOL", "INTERNAL", "EXTERNAL")  # the receiver registries Maventa searches
PREVIEW_LIMIT = 10  # invoices per preview: each may cost one registry look-up at Maventa


class SendParams(TypedDict):
    """The routing arguments of ``CompanyClient.send_invoice``."""

    recipient_eia: str | None
    recipient_operator: str | None
    recipient_email: str | None
    disabled_routes: tuple[str, ...]


def send_params(routing: Routing, connection: Connection) -> SendParams:
    """The routing parameters of ``POST /v1/invoices`` for this buyer and these settings."""
    return {
        "recipient_eia": routing.eia,
        "recipient_operator": routing.operator,
        "recipient_email": routing.email if connection.send_customer_email else None,
        # Without "send customer email" Maventa must not fall back to email: it falls to print.
        "disabled_routes": () if connection.send_customer_email else ("email",),
    }


@dataclass(frozen=True)
class Step:
    """One route Maventa would try, and whether it can work (``None``: Maventa could not be asked)."""

    route: str
    usable: bool | None
    reason: str


@dataclass(frozen=True)
class Preview:
    invoice_id: str
    number: str
    customer: str | None
    steps: tuple[Step, ...]
    blockers: tuple[str, ...] = ()  # pre-flight errors: the invoice would go to the failure status unsent

    @property
    def route(self) -> str | None:
        """The route the invoice will most likely take; ``None``: it cannot be delivered as it stands."""
        return next((s.route for s in self.steps if s.usable is not False), None)


def plan(routing: Routing, params: SendParams, *, registered: bool | None,
         print_enabled: bool | None) -> tuple[Step, ...]:
    """The routes Maventa would try, in its order, each with why it can or cannot work."""
    eia, email = params["recipient_eia"], params["recipient_email"]
    pinned = bool(eia and params["recipient_operator"])
    steps = []
    for route in ("einvoice",) if pinned else ROUTES:
        if route in params["disabled_routes"]:
            steps.append(Step(route, False, gettext(
                "Off: \u201cSend the customer's email address\u201d is not chosen in the settings.")))
        elif route == "einvoice":
            steps.append(_einvoice_step(eia, registered, pinned))
        elif route == "email":
            steps.append(Step(route, True, gettext("To %(email)s.", email=email)) if email else
                         Step(route, False, gettext("The customer has no invoicing email address.")))
        elif not routing.has_postal_address:
            steps.append(Step(route, False, gettext("The customer's postal address is incomplete.")))
        elif print_enabled is None:
            steps.append(Step(route, None, gettext("Maventa could not be asked whether its print service is on.")))
        else:
            steps.append(Step(route, print_enabled, gettext("By post through Maventa's print service.")
                              if print_enabled else gettext("Maventa's print service is off for this company.")))
    return tuple(steps)


def _einvoice_step(eia: str | None, registered: bool | None, pinned: bool) -> Step:
    if not eia:
        return Step("einvoice", False, gettext("The customer has no e-invoice address."))
    if registered is None:
        return Step("einvoice", None, gettext("Maventa could not be asked whether %(eia)s receives e-invoices.",
                                              eia=eia))
    if registered:
        return Step("einvoice", True, gettext("%(eia)s receives e-invoices.", eia=eia))
    reason = gettext("%(eia)s is not in Maventa's e-invoice registry.", eia=eia)
    if pinned:
        reason += " " + gettext("With the operator given on the customer card, Maventa tries no other route.")
    return Step("einvoice", False, reason)


@dataclass(frozen=True)
class DuePreview:
    previews: tuple[Preview, ...]
    problems: tuple[str, ...]  # what could not be previewed or asked, for the page


def preview_due(connection: Connection, limit: int = PREVIEW_LIMIT) -> DuePreview:
    """Where the invoices now in the transfer status would go. Reads only; nothing is sent or changed."""
    ext = current_state()
    status_id = connection.transfer_status_id
    ids = ext.adapter.list_invoice_ids(connection.company_id, status_id, limit) if status_id else ()
    company = ext.company_client(connection)
    problems: list[str] = []
    asked: dict[str, bool | None] = {}

    def registered(eia: str) -> bool | None:
        if eia not in asked:
            try:
                asked[eia] = bool(company.lookup_receivers(network=LOOKUP_NETWORKS, eia=eia))
            except client_errors.MaventaError:
                asked[eia] = None
        return asked[eia]

    try:
        print_settings = (company.get_settings(["send_invoice_print"]) or {}).get("send_invoice_print") or {}
        print_enabled: bool | None = bool(print_settings.get("enabled"))
    except client_errors.MaventaError:
        print_enabled = None
    previews = []
    for invoice_id in ids:
        try:
            doc = ext.adapter.get_invoice_document(invoice_id)
        except Exception as exc:  # noqa: BLE001 - the host's lookup failed: say so, preview the rest
            problems.append(gettext("Invoice %(id)s could not be read from the ERP (%(error)s).",
                                    id=invoice_id, error=type(exc).__name__))
            continue
        routing = doc.routing()
        params = send_params(routing, connection)
        steps = plan(routing, params, registered=registered(routing.eia) if routing.eia else None,
                     print_enabled=print_enabled)
        blockers = tuple(f.render(gettext) for f in errors(check_document(doc)))
        previews.append(Preview(invoice_id, doc.number, doc.buyer.name, steps, blockers))
    if None in asked.values() or print_enabled is None:
        problems.append(gettext("Maventa did not answer every check (it could not be reached, or answered with an "
                                "error); the routes marked \u201c?\u201d are unconfirmed. Try again in a moment."))
    return DuePreview(tuple(previews), tuple(problems))
