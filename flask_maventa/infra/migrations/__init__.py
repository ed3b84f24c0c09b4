"""The extension's Alembic migrations, with their own version table so they never clash
with the host's. Run them with ``flask maventa upgrade``, or from a host's own Alembic/
Flask-Migrate setup by adding this folder's ``versions`` to ``version_locations``
(the revisions carry the branch label ``maventa``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.sql.schema import SchemaItem

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "maventa_alembic_version"


def is_maventa_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                      compare_to: SchemaItem | None) -> bool:
    """Alembic ``include_object``: only the extension's tables, its version table included.

    A host's own autogenerate should pass ``include_object=lambda *a: not is_maventa_object(*a)`` so
    it neither drops nor re-creates our tables; our env uses it the other way round.
    """
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = (name if type_ == "table" else getattr(table, "name", "")) or ""
    return table_name.startswith("maventa_")


def alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(revision: str = "head") -> None:
    from ...infra.state import current_state

    engine = current_state().db.engine
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
