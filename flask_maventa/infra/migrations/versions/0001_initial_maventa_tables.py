"""The initial maventa_* tables.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 12:15:31.471533
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = ('maventa',)
depends_on = None


def upgrade() -> None:
    op.create_table('maventa_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('environment', sa.String(length=16), nullable=False),
    sa.Column('company_uuid', sa.String(length=36), nullable=True),
    sa.Column('api_key_encrypted', sa.Text(), nullable=True),
    sa.Column('registered_via', sa.String(length=16), nullable=True),
    sa.Column('registrant_email', sa.String(length=255), nullable=True),
    sa.Column('needs_manual_credentials', sa.Boolean(), nullable=False),
    sa.Column('approver_person_id', sa.String(length=64), nullable=True),
    sa.Column('auth_email', sa.String(length=255), nullable=True),
    sa.Column('auth_locale', sa.String(length=2), nullable=True),
    sa.Column('auth_state', sa.String(length=16), nullable=False),
    sa.Column('company_state', sa.String(length=16), nullable=False),
    sa.Column('auth_sent_at', sa.DateTime(), nullable=True),
    sa.Column('auth_checked_at', sa.DateTime(), nullable=True),
    sa.Column('auth_next_check_at', sa.DateTime(), nullable=True),
    sa.Column('auth_check_count', sa.Integer(), nullable=False),
    sa.Column('send_pdf', sa.Boolean(), nullable=False),
    sa.Column('send_customer_email', sa.Boolean(), nullable=False),
    sa.Column('error_emails', sa.Text(), nullable=True),
    sa.Column('transfer_status_id', sa.String(length=64), nullable=True),
    sa.Column('success_status_id', sa.String(length=64), nullable=True),
    sa.Column('failure_status_id', sa.String(length=64), nullable=True),
    sa.Column('settings_saved_at', sa.DateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('blocked_reason', sa.Text(), nullable=True),
    sa.Column('webhook_token', sa.String(length=64), nullable=False),
    sa.Column('webhook_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maventa_connection')),
    sa.UniqueConstraint('company_id', name=op.f('uq_maventa_connection_company_id')),
    sa.UniqueConstraint('webhook_token', name=op.f('uq_maventa_connection_webhook_token'))
    )
    op.create_table('maventa_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('invoice_number', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('maventa_uuid', sa.String(length=36), nullable=False),
    sa.Column('maventa_invoice_id', sa.String(length=64), nullable=True),
    sa.Column('maventa_status', sa.String(length=16), nullable=True),
    sa.Column('route', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('poll_count', sa.Integer(), nullable=False),
    sa.Column('next_poll_at', sa.DateTime(), nullable=True),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.Column('last_error_message', sa.Text(), nullable=True),
    sa.Column('last_error_hint', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['maventa_connection.id'],
                            name=op.f('fk_maventa_transfer_connection_id_maventa_connection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maventa_transfer')),
    sa.UniqueConstraint('connection_id', 'invoice_id', 'revision', name='uq_maventa_transfer_revision'),
    sa.UniqueConstraint('maventa_uuid', name=op.f('uq_maventa_transfer_maventa_uuid'))
    )
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.create_index('ix_maventa_transfer_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('maventa_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['maventa_connection.id'],
                            name=op.f('fk_maventa_event_connection_id_maventa_connection')),
    sa.ForeignKeyConstraint(['transfer_id'], ['maventa_transfer.id'],
                            name=op.f('fk_maventa_event_transfer_id_maventa_transfer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maventa_event'))
    )
    with op.batch_alter_table('maventa_event', schema=None) as batch_op:
        batch_op.create_index('ix_maventa_event_connection', ['connection_id', 'created_at'], unique=False)
        batch_op.create_index('ix_maventa_event_transfer', ['transfer_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('maventa_event', schema=None) as batch_op:
        batch_op.drop_index('ix_maventa_event_transfer')
        batch_op.drop_index('ix_maventa_event_connection')

    op.drop_table('maventa_event')
    with op.batch_alter_table('maventa_transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_maventa_transfer_state_next')

    op.drop_table('maventa_transfer')
    op.drop_table('maventa_connection')
