"""payment_events.sync_due_at, payouts.sync_due_at: when the sweeper may next poll the PSP about a quiet one

Revision ID: 0008_sync_backoff
Revises: 0007_resilience
Create Date: 2026-11-30 14:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_sync_backoff'
down_revision = '0007_resilience'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('payment_events', 'payouts'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('sync_due_at', sa.DateTime(timezone=True), nullable=True))
        op.create_index(f'ix_{table}_status_sync_due', table, ['status', 'sync_due_at'])


def downgrade():
    for table in ('payment_events', 'payouts'):
        op.drop_index(f'ix_{table}_status_sync_due', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('sync_due_at')
