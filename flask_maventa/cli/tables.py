"""``flask maventa create-tables | upgrade``: the extension's own ``maventa_*`` tables."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("create-tables")
@with_appcontext
def create_tables() -> None:
    """Create the maventa_* tables directly (development; use `upgrade` in production)."""
    from ..infra.models import metadata
    from ..infra.state import current_state

    metadata.create_all(current_state().db.engine)
    click.echo("Created the maventa_* tables.")


@click.command("upgrade")
@with_appcontext
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Run the extension's Alembic migrations (its own version table: maventa_alembic_version)."""
    from ..infra.migrations import upgrade as run_upgrade

    run_upgrade(revision)
    click.echo(f"maventa_* tables are at {revision}.")
