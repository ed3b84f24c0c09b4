"""The webhook secret is stored as a SHA-256 hash, and its URL names the connection.

The old URLs (``/webhooks/<token>``) held the token stored in clear in ``webhook_token``. Their
subscriptions keep their ``webhook_id``; with no ``webhook_secret_hash`` the next sweep registers the
new URL (``/webhooks/<connection id>/<secret>``) and deletes the old subscription at Maventa.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('maventa_connection') as batch:
        batch.add_column(sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True))
        batch.drop_constraint('uq_maventa_connection_webhook_token', type_='unique')
        batch.drop_column('webhook_token')


def downgrade() -> None:
    # The secrets cannot come back from their hashes: every connection gets a new token (and webhook).
    with op.batch_alter_table('maventa_connection') as batch:
        batch.add_column(sa.Column('webhook_token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    import secrets

    table = sa.table('maventa_connection', sa.column('id', sa.Integer), sa.column('webhook_token', sa.String),
                     sa.column('webhook_id', sa.String))
    for (row_id,) in connection.execute(sa.select(table.c.id)).all():
        connection.execute(table.update().where(table.c.id == row_id)
                           .values(webhook_token=secrets.token_urlsafe(32), webhook_id=None))
    with op.batch_alter_table('maventa_connection') as batch:
        batch.alter_column('webhook_token', nullable=False)
        batch.create_unique_constraint('uq_maventa_connection_webhook_token', ['webhook_token'])
        batch.drop_column('webhook_secret_hash')
