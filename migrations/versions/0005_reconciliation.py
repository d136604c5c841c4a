"""reconciliation: imported settlement files and rows, runs, mismatches and their audit trail

The ledger gains the `suspense` account and the `adjustment` entry kind (adjusting entries posted from the
reconciliation queue).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ACCOUNT_KINDS_BEFORE = ("kind IN ('psp_pending', 'psp_available', 'wallet_pending', 'wallet_available', 'fee_revenue', "
                        "'psp_fees', 'refunds', 'payouts_in_transit', 'psp_connected')")
ACCOUNT_KINDS = ("kind IN ('psp_pending', 'psp_available', 'wallet_pending', 'wallet_available', 'fee_revenue', "
                 "'psp_fees', 'refunds', 'payouts_in_transit', 'psp_connected', 'suspense')")
ENTRY_KINDS_BEFORE = ("kind IN ('capture', 'psp_fee', 'funds_available', 'refund_reserved', 'refund_paid', "
                      "'refund_released', 'refund_returned', 'payout_reserved', 'payout_transferred', 'payout_paid', "
                      "'payout_unpaid', 'payout_returned', 'payout_reversed')")
ENTRY_KINDS = ("kind IN ('capture', 'psp_fee', 'funds_available', 'refund_reserved', 'refund_paid', "
               "'refund_released', 'refund_returned', 'payout_reserved', 'payout_transferred', 'payout_paid', "
               "'payout_unpaid', 'payout_returned', 'payout_reversed', 'adjustment')")
CLASSES = ("class_name IN ('missing_in_ledger', 'missing_at_psp', 'amount_mismatch', 'fee_mismatch', "
           "'currency_mismatch', 'status_mismatch', 'duplicate', 'timing', 'balance_mismatch')")


def _swap_check(table: str, name: str, new_sql: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.create_check_constraint(op.f(name), new_sql)


def _id() -> sa.Column:
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False)


def upgrade():
    op.create_table('recon_imports',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('report', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('first_created', sa.BigInteger(), nullable=True),
    sa.Column('last_created', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('psp', 'file')", name=op.f('ck_recon_imports_source_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_imports')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_recon_imports_content_hash'))
    )
    op.create_table('recon_rows',
    _id(),
    sa.Column('import_id', sa.String(length=40), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('balance_transaction_id', sa.String(length=255), nullable=False),
    sa.Column('account', sa.String(length=255), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('movement', sa.String(length=30), nullable=False),
    sa.Column('family', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('ref', sa.String(length=255), nullable=True),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['recon_imports.id'], name=op.f('fk_recon_rows_import_id_recon_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_rows'))
    )
    op.create_index('ix_recon_rows_import_created', 'recon_rows', ['import_id', 'created'], unique=False)
    op.create_index('ix_recon_rows_source', 'recon_rows', ['source_id'], unique=False)
    op.create_index('ix_recon_rows_ref', 'recon_rows', ['ref'], unique=False)
    op.create_table('recon_runs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('triggered_by', sa.String(length=255), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('psp', 'file')", name=op.f('ck_recon_runs_source_known')),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_recon_runs_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_runs'))
    )
    op.create_index('ix_recon_runs_day', 'recon_runs', ['day', 'started_at'], unique=False)
    op.create_table('recon_run_imports',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('import_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['recon_imports.id'],
                            name=op.f('fk_recon_run_imports_import_id_recon_imports')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_run_imports_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('run_id', 'import_id', name=op.f('pk_recon_run_imports'))
    )
    op.create_table('recon_ours',
    _id(),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('movement', sa.String(length=30), nullable=False),
    sa.Column('family', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=True),
    sa.Column('ref', sa.String(length=255), nullable=False),
    sa.Column('account', sa.String(length=255), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_ours'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE recon_ours SET UNLOGGED')  # scratch rows of a run: no WAL for them
    op.create_table('recon_mismatches',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('class_name', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('movement', sa.String(length=30), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('balance_transaction_id', sa.String(length=255), nullable=True),
    sa.Column('source_id', sa.String(length=255), nullable=True),
    sa.Column('ref', sa.String(length=255), nullable=True),
    sa.Column('account', sa.String(length=255), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('amount_psp', sa.BigInteger(), nullable=True),
    sa.Column('amount_ours', sa.BigInteger(), nullable=True),
    sa.Column('fee_psp', sa.BigInteger(), nullable=True),
    sa.Column('fee_ours', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(CLASSES, name=op.f('ck_recon_mismatches_class_known')),
    sa.CheckConstraint("status IN ('open', 'auto_resolved', 'adjusted', 'accepted', 'cleared')",
                       name=op.f('ck_recon_mismatches_status_known')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'],
                            name=op.f('fk_recon_mismatches_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_mismatches_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_mismatches')),
    sa.UniqueConstraint('day', 'key', name='uq_recon_mismatches_day_key')
    )
    op.create_index('ix_recon_mismatches_status_day', 'recon_mismatches', ['status', 'day'], unique=False)
    op.create_index('ix_recon_mismatches_run', 'recon_mismatches', ['run_id'], unique=False)
    op.create_index('ix_recon_mismatches_source', 'recon_mismatches', ['source_id'], unique=False)
    op.create_table('recon_actions',
    _id(),
    sa.Column('mismatch_id', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mismatch_id'], ['recon_mismatches.id'],
                            name=op.f('fk_recon_actions_mismatch_id_recon_mismatches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_actions'))
    )
    op.create_index(op.f('ix_recon_actions_mismatch_id'), 'recon_actions', ['mismatch_id'], unique=False)
    _swap_check('ledger_accounts', 'ck_ledger_accounts_kind_known', ACCOUNT_KINDS)
    _swap_check('journal_entries', 'ck_journal_entries_kind_known', ENTRY_KINDS)


def downgrade():
    _swap_check('journal_entries', 'ck_journal_entries_kind_known', ENTRY_KINDS_BEFORE)
    _swap_check('ledger_accounts', 'ck_ledger_accounts_kind_known', ACCOUNT_KINDS_BEFORE)
    op.drop_index(op.f('ix_recon_actions_mismatch_id'), table_name='recon_actions')
    op.drop_table('recon_actions')
    for name in ('ix_recon_mismatches_source', 'ix_recon_mismatches_run', 'ix_recon_mismatches_status_day'):
        op.drop_index(name, table_name='recon_mismatches')
    op.drop_table('recon_mismatches')
    op.drop_table('recon_ours')
    op.drop_table('recon_run_imports')
    op.drop_index('ix_recon_runs_day', table_name='recon_runs')
    op.drop_table('recon_runs')
    op.drop_index('ix_recon_rows_ref', table_name='recon_rows')
    op.drop_index('ix_recon_rows_source', table_name='recon_rows')
    op.drop_index('ix_recon_rows_import_created', table_name='recon_rows')
    op.drop_table('recon_rows')
    op.drop_table('recon_imports')
