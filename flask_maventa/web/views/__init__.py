"""The blueprint: pages under Settings > Integrations > Maventa.

Each area has its own module; this one builds the blueprint, the permission gate, what every
template gets, and the edge every request passes: input no database can hold is refused here,
and no page leaves with a secret in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from ...infra import clock, i18n, redaction, texts
from ...infra.crypto import UNREADABLE, UNREADABLE_HINT, SecretUnreadable
from ...infra.state import current_state
from ...services import companies
from .. import htmx

if TYPE_CHECKING:
    from ...host import Company
    from ...infra.models import Connection

View = Callable[..., ResponseReturnValue]
SectionContext = Callable[["Company", "Connection | None"], dict[str, Any]]  # a company page section's context

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # flask_maventa/


def resource_dir(name: str) -> str:
    """``templates``/``static`` sit at the repository's top level and inside the wheel's package."""
    inside = PACKAGE_DIR / name
    return str(inside if inside.is_dir() else PACKAGE_DIR.parent / name)


def create_blueprint() -> Blueprint:
    bp = Blueprint(
        "maventa",
        __name__,
        template_folder=resource_dir("templates"),
        static_folder=resource_dir("static"),
        static_url_path="/static",
    )
    bp.context_processor(_template_context)
    bp.before_request(_refuse_nul)
    bp.after_request(_scrub_secrets)
    bp.register_error_handler(400, _bad_request)
    bp.register_error_handler(404, _not_found)
    bp.register_error_handler(403, _forbidden)
    bp.register_error_handler(SecretUnreadable, _secret_unreadable)
    bp.register_error_handler(sa.exc.OperationalError, _database_unavailable)

    for name in AREAS:
        import_module(f"{__name__}.{name}").register(bp)
    return bp


# One module per area; each has ``register(bp)``. The landing and company pages show the sections
# the areas add with :func:`index_section` and :func:`company_section`, in order.
AREAS = ["landing", "company", "settings", "registration", "signing", "disconnect", "routing", "transfers",
         "webhooks"]


@dataclass(frozen=True)
class Section:
    order: int
    template: str
    context: SectionContext


COMPANY_SECTIONS: list[Section] = []


def company_section(order: int, template: str) -> Callable[[SectionContext], SectionContext]:
    """Register a section of the company page: ``context(company, connection) -> dict``."""

    def decorator(fn: SectionContext) -> SectionContext:
        if not any(s.template == template for s in COMPANY_SECTIONS):
            COMPANY_SECTIONS.append(Section(order, template, fn))
            COMPANY_SECTIONS.sort(key=lambda s: s.order)
        return fn

    return decorator


INDEX_SECTIONS: list[str] = []


def index_section(template: str) -> None:
    """Register a card of the landing page (after the company list), in registration order."""
    if template not in INDEX_SECTIONS:
        INDEX_SECTIONS.append(template)


def _template_context() -> dict[str, Any]:
    return {
        # Our own names: the host's layout renders around our pages, and its `_` stays the host's.
        "_mv": i18n.gettext,
        "_mvn": i18n.ngettext,
        "_mv_text": texts.shown,  # a stored text in the reader's language (infra/texts.py)
        "_mv_time": clock.local_time,  # a stored time in the configured zone, the zone named
        "maventa_locale": i18n.current_locale,
        "maventa_base_template": current_app.config["MAVENTA_BASE_TEMPLATE"],
        "maventa_csrf_token": generate_csrf,
        "maventa_environment": current_app.config["MAVENTA_ENVIRONMENT"],
        "maventa_index_sections": INDEX_SECTIONS,
    }


def _bad_request(error: Exception) -> ResponseReturnValue:
    return render_template("maventa/error.html", code=400, message=i18n.gettext(
        "The request could not be read. Reload the page and try again.")), 400


def _secret_unreadable(error: Exception) -> ResponseReturnValue:
    # A page that needs the key of a company whose key cannot be read (the sections say so themselves).
    return render_template("maventa/error.html", code=409, message=" ".join(
        (i18n.gettext(UNREADABLE), i18n.gettext(UNREADABLE_HINT)))), 409


def _database_unavailable(error: Exception) -> ResponseReturnValue:
    """The database refused this request for now (SQLite's "database is locked" when another save holds the
    file, a PostgreSQL server restarting): say so and change nothing, instead of an error page with no words.

    The transaction is rolled back. An htmx request gets the message at the top of the page, its form left as
    the user filled it; htmx swaps no error status, so that answer is a 200.
    """
    current_state().session.rollback()
    current_app.logger.warning("maventa: database unavailable for %s %s: %s", request.method, request.path,
                               type(getattr(error, "orig", None) or error).__name__)
    if request.method in ("GET", "HEAD"):
        message = i18n.gettext("The database is busy or cannot be reached right now. Try again in a moment.")
    else:
        message = i18n.gettext("The database is busy or cannot be reached right now, so this was not saved. "
                               "Try again in a moment.")
    if htmx.wants_fragment():
        fragment = render_template("maventa/partials/_unavailable.html", message=message)
        return htmx.retarget(make_response(fragment, 200), ".maventa", "afterbegin")
    response = make_response(render_template("maventa/error.html", code=503, message=message), 503)
    response.headers["Retry-After"] = "5"
    return response


def _not_found(error: Exception) -> ResponseReturnValue:
    return render_template("maventa/error.html", code=404, message=i18n.gettext(
        "This company or page does not exist, or it is not yours to manage.")), 404


def _forbidden(error: Exception) -> ResponseReturnValue:
    return render_template("maventa/error.html", code=403, message=i18n.gettext(
        "You do not have permission to manage the Maventa integration of this company.")), 403


def company_view(view: View) -> View:
    """Resolve ``company_id`` from the URL, 404 if unknown, 403 without permission.

    The view gets ``company`` (the host's dataclass) and ``connection`` (ours, or None).
    """

    @wraps(view)
    def wrapper(company_id: str, **kwargs: Any) -> ResponseReturnValue:
        try:
            company, connection = companies.managed_company(company_id)
        except companies.NotYours as refused:
            abort(refused.status)
        return view(company=company, connection=connection, **kwargs)

    return wrapper


# The connection's version for every versioned form of the page (an htmx swap replaces one section; the
# other forms would otherwise still carry the version before the user's own save).
VERSION_OOB = ('<input type="hidden" name="version" value="{version}" class="maventa-version" '
               'hx-swap-oob="outerHTML:#maventa-company input.maventa-version">')


def with_version(response: Response, connection: Connection | None) -> Response:
    """Add the connection's version, out of band, to an htmx answer that changed the connection."""
    if connection is not None and htmx.wants_fragment() and response.mimetype == "text/html":
        htmx.add_out_of_band(response, VERSION_OOB.format(version=int(connection.version)))
    return response


# -- the edge ------------------------------------------------------------------------------------

def _refuse_nul() -> None:
    """No text we store or look up may hold a NUL (PostgreSQL refuses it): such a request is refused
    whole, before any view reads it, with a 400 that changes nothing."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    # The webhook reads its own body, within its own size limit.
    if request.endpoint != "maventa.webhook" and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values(), *request.files.keys()]
    if any("\x00" in value for value in values):
        abort(400)


def _scrub_secrets(response: Response) -> Response:
    """The last guard: a secret this process knows never leaves in a page (an event stored before its
    column was scrubbed, an error text nobody thought of)."""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        html = response.get_data(as_text=True)
        clean = redaction.scrub_text(html)
        if clean != html:
            response.set_data(clean)
    return response


def own_url(target: str | None) -> str | None:
    """``target`` as a path on this host under the extension's prefix, or None: never an open redirect."""
    if not target or any(c.isspace() or c == "\\" or not c.isprintable() for c in target):
        return None
    parts = urlsplit(target)
    # Behind a TLS proxy the referrer may say https where the app sees http: the host decides.
    if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != request.host):
        return None
    if parts.netloc and not parts.scheme:
        return None
    prefix = current_app.config["MAVENTA_URL_PREFIX"].rstrip("/") + "/"
    if not (parts.path + "/").startswith(prefix) or "/../" in parts.path + "/" or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
