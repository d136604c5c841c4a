"""observability: outbox rows remember the request that recorded them; results of the scheduled ledger verify

Revision ID: 0007_observability
Revises: 0006
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_observability'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('request_id', sa.String(length=100), nullable=True))
    op.create_table(
        'ledger_verifications',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('failed_checks', sa.Integer(), nullable=False),
        sa.Column('report', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_verifications')),
    )
    op.create_index('ix_ledger_verifications_finished_at', 'ledger_verifications', ['finished_at'])


def downgrade():
    op.drop_index('ix_ledger_verifications_finished_at', table_name='ledger_verifications')
    op.drop_table('ledger_verifications')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('request_id')
