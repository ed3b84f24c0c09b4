"""``flask maventa generate-key | rotate-secrets``: the key that encrypts the stored secrets."""

from __future__ import annotations

from typing import Any, cast

import click
from flask.cli import with_appcontext


@click.command("generate-key")
def generate_key() -> None:
    """Print a new MAVENTA_SECRET_KEY (Fernet key) for encrypting API keys at rest."""
    from ..infra.crypto import generate_key as new_key

    click.echo(new_key())


@click.command("rotate-secrets")
@with_appcontext
@click.option("--batch-size", default=500, show_default=True, help="Rows read and committed at a time.")
def rotate_secrets(batch_size: int) -> None:
    """Re-encrypt every stored User API key with the first key of MAVENTA_SECRET_KEY.

    Put the new key first (comma-separated, the old one after it), restart, run this, then remove the
    old key. Safe to run again: keys already under the new key are left alone.
    """
    import sqlalchemy as sa

    from ..infra.crypto import SecretUnreadable
    from ..infra.models import Connection
    from ..infra.state import current_state

    ext = current_state()
    box, session = ext.secrets(), ext.session
    counts = {"rotated": 0, "current": 0, "changed meanwhile": 0}
    unreadable: list[str] = []
    last_id = 0
    while True:
        rows = session.execute(
            sa.select(Connection.id, Connection.company_id, Connection.api_key_encrypted)
            .where(Connection.id > last_id, Connection.api_key_encrypted.is_not(None))
            .order_by(Connection.id).limit(max(1, batch_size))).all()
        if not rows:
            break
        for row_id, company_id, stored in rows:
            assert stored is not None  # the query reads stored keys only
            try:
                rotated = box.rotate(stored)
            except SecretUnreadable:
                unreadable.append(company_id)
                continue
            if rotated is None:
                counts["current"] += 1
                continue
            # Only if nobody saved a new key meanwhile (that one is under the new key already).
            written = cast("sa.CursorResult[Any]", session.execute(  # an UPDATE's result counts its rows
                sa.update(Connection).where(Connection.id == row_id, Connection.api_key_encrypted == stored)
                .values(api_key_encrypted=rotated))).rowcount
            counts["rotated" if written else "changed meanwhile"] += 1
        session.commit()
        last_id = rows[-1][0]
    click.echo(f"User API keys: {counts['rotated']} re-encrypted, {counts['current']} already under the newest "
               f"key, {counts['changed meanwhile']} changed meanwhile, {len(unreadable)} unreadable.")
    if unreadable:
        click.echo("No key of MAVENTA_SECRET_KEY can read the keys of companies " + ", ".join(unreadable)
                   + ": put back the key they were stored with, or enter their User API keys again.", err=True)
        raise SystemExit(1)
