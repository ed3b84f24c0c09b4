"""Events, transfer errors and blocked reasons stored untranslated (message id + parameters).

Existing rows keep their text columns and get no JSON, so they show as they were written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('maventa_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.JSON(), nullable=True))
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error', sa.JSON(), nullable=True))
    with op.batch_alter_table('maventa_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('maventa_connection', schema=None) as batch_op:
        batch_op.drop_column('blocked')
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.drop_column('last_error')
    with op.batch_alter_table('maventa_event', schema=None) as batch_op:
        batch_op.drop_column('text')
