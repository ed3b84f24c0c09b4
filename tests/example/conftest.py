"""The example ERP, seeded, on SQLite or on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

TODAY = dt.date(2025, 3, 14)


def make_erp(monkeypatch, tmp_path, database_url: str | None = None, **config):
    from example_app import create_app
    from example_app.seed import seed

    monkeypatch.setenv("EXAMPLE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'erp.db'}",
        **config,
    })
    with app.app_context():
        seed(today=TODAY)
    return app


@pytest.fixture
def erp(monkeypatch, tmp_path):
    """The example app on SQLite, seeded, inside an app context."""
    app = make_erp(monkeypatch, tmp_path)
    with app.app_context():
        yield app
