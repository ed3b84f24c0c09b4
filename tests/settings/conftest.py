"""Connections for the settings tests: offline ones (rules only) and, in the sandbox tests,
verified ones made through the real registration calls against the sandbox."""

from __future__ import annotations

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.models import Connection


def offline_connection(company_id: str = "c1", *, verified: bool = True, saved: bool = True, **fields) -> Connection:
    """A connection with (made-up) credentials that never talks to Maventa: for the rules alone."""
    ext = current_maventa()
    values = dict(
        company_id=company_id,
        environment="sandbox",
        company_uuid="00000000-0000-4000-8000-000000000001",
        api_key_encrypted=ext.secrets().encrypt("offline-user-api-key"),
        company_state="VERIFIED" if verified else "UNVERIFIED",
    )
    if saved:
        values.update(transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed")
        from flask_maventa.models import utcnow

        values["settings_saved_at"] = utcnow()
    values.update(fields)
    connection = Connection(**values)
    ext.session.add(connection)
    ext.session.commit()
    return connection


@pytest.fixture
def connection(app):
    return offline_connection()
