"""``flask maventa doctor --live``: read-only checks, against the configured Maventa, of what the product
assumes beyond the swagger (README, "What we assume beyond the swagger"). Nothing is written at Maventa.

Each check is a small function yielding ``(ok, what, fix)``; ``doctor`` prints them with its own checks.
A fresh token is fetched for every company (never the cached one), so the scopes Maventa grants today
are what is reported.
"""
from __future__ import annotations

from collections.abc import Generator, Iterator

import sqlalchemy as sa

from ..client import CompanyClient, MaventaClient, MemoryTokenStore, PartnerClient, errors
from ..client.account import REQUIRED_SETTINGS_BLOCKS
from ..client.scopes import COMPANY_SCOPE, PARTNER_SCOPE, uncovered
from ..infra.models import Connection
from ..infra.state import current_state
from ..services.maventa_errors import kind_of

__all__ = ["live_checks"]

Check = tuple[bool, str, str]


def _fresh_client() -> MaventaClient:
    client = current_state().client()
    client.token_store = MemoryTokenStore()  # ask Maventa now, not the cache
    return client


def _granted(company: CompanyClient) -> str | None:
    token = company.auth.token_store.get(company.auth.key)
    return token.scope if token else None


def check_token(company: CompanyClient, label: str) -> Iterator[Check]:
    """A token with the chosen scopes, and whether what Maventa granted covers every operation we call."""
    asked = company.auth.scope
    current = company.current()  # GET /oauth2/current: the token, then the company it belongs to
    granted = _granted(company)
    if granted is None:
        yield True, f"{label}: token for '{asked}' (Maventa did not say which scopes it granted)", ""
    else:
        missing = uncovered(granted)
        yield (not missing, f"{label}: token for '{asked}', granted '{granted}'"
               + (f" - cannot call {', '.join(missing)}" if missing else ""),
               "ask Maventa to allow these scopes for your vendor API key, or set MAVENTA_SCOPE")
    company_id = ((current or {}).get("company") or {}).get("id")
    yield (company_id == company.company_uuid, f"{label}: /oauth2/current names company {company_id}",
           "the User API key belongs to another company: copy both values from Maventa again")


def check_settings(company: CompanyClient, label: str) -> Iterator[Check]:
    """The settings PATCH sends details, address and invoice_notifications back as GET shows them."""
    settings = company.get_settings() or {}
    absent = [block for block in REQUIRED_SETTINGS_BLOCKS if not isinstance(settings.get(block), dict)]
    yield (not absent, f"{label}: settings GET has the blocks a PATCH must carry"
           + (f" (missing: {', '.join(absent)})" if absent else ""),
           "a settings change (the print switch) would send those blocks empty; report this to Maventa")
    own_pdf = (settings.get("send_invoice_print") or {}).get("use_own_pdf")
    yield True, f"{label}: send_invoice_print.use_own_pdf is {own_pdf!r}", ""


def check_signing(company: CompanyClient, label: str) -> Iterator[Check]:
    answer = company.authorization() or {}
    state = answer.get("company_state")
    yield (state == "VERIFIED", f"{label}: company_state {state}, auth_state {answer.get('auth_state')}",
           "the signing request must be completed before invoices can be sent")


def check_lookup(company: CompanyClient, label: str, bid: str | None) -> Iterator[Check]:
    """The receiver registry answers (read-only), with the fields the routing preview reads."""
    hits = company.lookup_receivers(network=("PEPPOL",), bid=bid or None)
    shaped = all(isinstance(h, dict) and "eia" in h for h in hits or [])
    yield (isinstance(hits, list) and shaped,
           f"{label}: receiver look-up answered {len(hits or [])} hit(s) for business id {bid}",
           "the routing preview cannot confirm e-invoice addresses")


def check_partner(client: MaventaClient) -> Iterator[Check]:
    cfg = current_state().config
    uuid, key = cfg["MAVENTA_PARTNER_COMPANY_UUID"], cfg["MAVENTA_PARTNER_API_KEY"]
    if not (uuid and key):
        yield True, "partner look-up: not configured (POST /v1/companies refuses a taken business id)", ""
        return
    partner: PartnerClient = client.for_partner(uuid, key)
    try:
        answer = partner.lookup_companies(["0000000-0"], "FI")
    except (errors.InvalidScopeError, errors.MissingScopeError) as exc:
        yield False, f"partner look-up: {PARTNER_SCOPE} refused ({exc.status} {exc.code})", \
            "ask Maventa to make the partner account a partner, or unset MAVENTA_PARTNER_*"
        return
    statuses = [row.get("company_status") for row in answer if isinstance(row, dict)]
    yield statuses in (["FREE"], ["RESERVED"]), f"partner look-up ({PARTNER_SCOPE}) answered {statuses}", \
        "the business-id check before registering is skipped"


def live_checks() -> Iterator[Check]:
    """Every live check, for the partner account and each connection with credentials."""
    ext = current_state()
    client = _fresh_client()
    yield (True, f"live checks against {ext.base_url()} (company scope '{client.scope}'; "
           f"ours is '{COMPANY_SCOPE}')", "")
    yield from _guarded("partner look-up", check_partner(client))
    connections = ext.session.scalars(sa.select(Connection).order_by(Connection.id)).all()
    for connection in connections:
        uuid, key = connection.company_uuid, connection.api_key_encrypted
        if not connection.has_credentials or uuid is None or key is None:
            continue
        label = f"company {connection.company_id}"
        company = client.for_company(uuid, ext.secrets().decrypt(key))
        ok = yield from _guarded(label, check_token(company, label))
        if not ok:
            continue  # no token: the other checks would only repeat the same refusal
        yield from _guarded(label, check_signing(company, label))
        yield from _guarded(label, check_settings(company, label))
        bid = ((company.current() or {}).get("company") or {}).get("bid")
        yield from _guarded(label, check_lookup(company, label, bid))


def _guarded(label: str, checks: Iterator[Check]) -> Generator[Check, None, bool]:
    """Run ``checks`` (a generator: it runs as it is read, inside the ``try``); a Maventa error becomes
    one failed line (its message is scrubbed of secrets). Returns whether every check ran."""
    try:
        yield from checks
    except errors.MaventaError as exc:
        yield False, f"{label}: {type(exc).__name__}: {exc}", _fix_for(exc)
        return False
    return True


def _fix_for(exc: errors.MaventaError) -> str:
    if isinstance(exc, errors.InvalidScopeError):
        return "Maventa refused the scopes: set MAVENTA_SCOPE or ask Maventa to allow them for your vendor key"
    if isinstance(exc, errors.InvalidCredentialsError):
        return "check the Company UUID and User API key on the company's Maventa page, and MAVENTA_VENDOR_API_KEY"
    if isinstance(exc, errors.TransientError):
        kind = kind_of(exc)  # the same classes as the pages: a 5xx is an answer, not "no answer"
        if kind == "maventa_error":
            return "Maventa answered with an error of its own; try again later (not caused by the settings)"
        if kind == "rate_limited":
            return "Maventa is rate limiting these requests; try again in a minute"
        return "Maventa did not answer; try again later"
    return "see the message; the README's table says what each answer means"
