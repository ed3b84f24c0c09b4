"""The blueprint: pages under Settings > Integrations > Maventa.

Each area has its own module; this one builds the blueprint, the permission gate and
what every template gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from importlib import import_module
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from flask_wtf.csrf import generate_csrf

from .. import i18n
from ..extension import current_maventa
from ..models import Connection

PACKAGE_DIR = Path(__file__).resolve().parent.parent


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
    bp.register_error_handler(404, _not_found)
    bp.register_error_handler(403, _forbidden)

    for name in AREAS:
        import_module(f"{__name__}.{name}").register(bp)
    return bp


# One module per area; each has ``register(bp)``. The landing and company pages show the sections
# the areas add with :func:`index_section` and :func:`company_section`, in order.
AREAS = ["companies", "company", "settings", "onboarding", "routing", "transfers", "webhooks"]


@dataclass(frozen=True)
class Section:
    order: int
    template: str
    context: Callable  # (company, connection) -> dict


COMPANY_SECTIONS: list[Section] = []


def company_section(order: int, template: str):
    """Register a section of the company page: ``context(company, connection) -> dict``."""

    def decorator(fn):
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


def _template_context():
    return {
        "_": i18n.gettext,
        "gettext": i18n.gettext,
        "ngettext": i18n.ngettext,
        "maventa_base_template": current_app.config["MAVENTA_BASE_TEMPLATE"],
        "maventa_csrf_token": generate_csrf,
        "maventa_environment": current_app.config["MAVENTA_ENVIRONMENT"],
        "maventa_index_sections": INDEX_SECTIONS,
    }


def _not_found(error):
    return render_template("maventa/error.html", code=404, message=i18n.gettext(
        "This company or page does not exist, or it is not yours to manage.")), 404


def _forbidden(error):
    return render_template("maventa/error.html", code=403, message=i18n.gettext(
        "You do not have permission to manage the Maventa integration of this company.")), 403


def company_view(view):
    """Resolve ``company_id`` from the URL, 404 if unknown, 403 without permission.

    The view gets ``company`` (the host's dataclass) and ``connection`` (ours, or None).
    """

    @wraps(view)
    def wrapper(company_id: str, **kwargs):
        ext = current_maventa()
        company = ext.adapter.get_company(company_id)
        if company is None:
            abort(404)
        if not ext.adapter.can_manage(company.id):
            abort(403)
        connection = ext.session.query(Connection).filter_by(company_id=company.id).one_or_none()
        return view(company=company, connection=connection, **kwargs)

    return wrapper
