"""The example ERP, seeded, on SQLite or on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.fixtures.apps import process_folder

TODAY = dt.date(2025, 3, 14)


_seeded: dict[str, Path] = {}  # per test process: the seeded SQLite database, by the seed's date


def seeded_sqlite(today: dt.date = TODAY) -> Path:
    """A SQLite file holding exactly what ``seed(today)`` writes, made once per test process.

    ``seed`` is deterministic for a date; writing its rows into every test's database again cost a quarter
    of a second per test. Each SQLite test gets a copy of this file; PostgreSQL is seeded as before.
    """
    key = today.isoformat()
    if key not in _seeded:
        from example_app import create_app
        from example_app.models import db
        from example_app.seed import seed

        folder = process_folder("maventa-seeded-erp-")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'erp.db'}"})
        with app.app_context():
            seed(today=today)
            db.session.remove()
            db.engine.dispose()
        _seeded[key] = folder / "erp.db"
    return _seeded[key]


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's own backup: a consistent copy whatever the source's journal mode."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def make_erp(monkeypatch, tmp_path, database_url: str | None = None, **config):
    from example_app import create_app
    from example_app.seed import seed

    monkeypatch.setenv("EXAMPLE_INSTANCE_PATH", str(tmp_path / "instance"))
    if database_url is None:
        database_url = f"sqlite:///{tmp_path / 'erp.db'}"
        _copy_sqlite(seeded_sqlite(TODAY), tmp_path / "erp.db")
        seeded = True
    else:
        seeded = False
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        **config,
    })
    if not seeded:
        with app.app_context():
            seed(today=TODAY)
    return app


@pytest.fixture
def erp(monkeypatch, tmp_path):
    """The example app on SQLite, seeded, inside an app context."""
    app = make_erp(monkeypatch, tmp_path)
    with app.app_context():
        yield app
