"""The Alembic migrations create exactly the tables the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flask_maventa.infra.migrations import VERSION_TABLE, is_maventa_object
from flask_maventa.infra.models import metadata

from .fixtures.apps import make_app


def _upgrade_and_diff(app):
    db = app.extensions["test.db"]
    with app.app_context():
        metadata.drop_all(db.engine)
        result = app.test_cli_runner().invoke(args=["maventa", "upgrade"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            context = MigrationContext.configure(conn, opts={"include_object": is_maventa_object, "version_table": VERSION_TABLE})
            diff = compare_metadata(context, metadata)
    return tables, diff


def test_upgrade_matches_the_models_on_sqlite(tmp_path):
    tables, diff = _upgrade_and_diff(make_app(tmp_path))
    assert {"maventa_connection", "maventa_transfer", "maventa_event", VERSION_TABLE} <= tables
    assert diff == []


def test_upgrade_matches_the_models_on_postgresql(tmp_path, postgres_url):
    tables, diff = _upgrade_and_diff(make_app(tmp_path, database_url=postgres_url))
    assert {"maventa_connection", "maventa_transfer", "maventa_event"} <= tables
    assert diff == []


def test_upgrade_is_idempotent_and_leaves_host_tables_alone(tmp_path):
    app = make_app(tmp_path)
    db = app.extensions["test.db"]
    with app.app_context():
        metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE host_invoice (id INTEGER PRIMARY KEY)"))
        runner = app.test_cli_runner()
        assert runner.invoke(args=["maventa", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["maventa", "upgrade"]).exit_code == 0
        with db.engine.connect() as conn:
            assert "host_invoice" in sa.inspect(conn).get_table_names()
            assert "alembic_version" not in sa.inspect(conn).get_table_names()


def test_a_host_autogenerate_leaves_our_tables_alone(tmp_path):
    """The host's own metadata knows nothing of ours; with the documented filter it proposes no change."""
    app = make_app(tmp_path)
    db = app.extensions["test.db"]
    host_metadata = sa.MetaData()
    with app.app_context():
        metadata.drop_all(db.engine)
        assert app.test_cli_runner().invoke(args=["maventa", "upgrade"]).exit_code == 0
        with db.engine.connect() as conn:
            unfiltered = compare_metadata(MigrationContext.configure(conn), host_metadata)
            host_filter = {"include_object": lambda *a: not is_maventa_object(*a)}
            filtered = compare_metadata(MigrationContext.configure(conn, opts=host_filter), host_metadata)
    assert {d[1].name for d in unfiltered if d[0] == "remove_table"} >= {"maventa_connection", "maventa_transfer"}
    assert [d for d in filtered if d[0] == "remove_table" and d[1].name.startswith("maventa_")] == []
