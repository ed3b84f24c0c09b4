"""The transfer engine: who holds a claim, heartbeats of workers and schedulers, periodic-task slots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_maventa_transfer_state_poll', ['state', 'next_poll_at'], unique=False)

    op.create_table('maventa_process',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('queues', sa.String(length=255), nullable=True),
    sa.Column('concurrency', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maventa_process'))
    )
    with op.batch_alter_table('maventa_process', schema=None) as batch_op:
        batch_op.create_index('ix_maventa_process_kind_seen', ['kind', 'seen_at'], unique=False)

    op.create_table('maventa_slot',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=False),
    sa.Column('running_until', sa.DateTime(), nullable=True),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_maventa_slot'))
    )


def downgrade() -> None:
    op.drop_table('maventa_slot')
    with op.batch_alter_table('maventa_process', schema=None) as batch_op:
        batch_op.drop_index('ix_maventa_process_kind_seen')

    op.drop_table('maventa_process')
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_maventa_transfer_state_poll')
        batch_op.drop_column('claimed_by')
