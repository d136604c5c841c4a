"""payouts: connected accounts, schedules, payouts and their items

Sellers get their connected account at the PSP (created by the sweeper's onboarding job for existing rows), a
payout schedule and a bank account state; payouts and their statement lines are new; the ledger gains the
`psp_connected` account, the pay-out entry kinds, and lets an available wallet go negative (a refund after a
payout, netted from the next payouts).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:13:27.504174

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


ACCOUNT_KINDS_BEFORE = ("kind IN ('psp_pending', 'psp_available', 'wallet_pending', 'wallet_available', 'fee_revenue', "
                        "'psp_fees', 'refunds', 'payouts_in_transit')")
ACCOUNT_KINDS = ("kind IN ('psp_pending', 'psp_available', 'wallet_pending', 'wallet_available', 'fee_revenue', "
                 "'psp_fees', 'refunds', 'payouts_in_transit', 'psp_connected')")
ENTRY_KINDS_BEFORE = ("kind IN ('capture', 'psp_fee', 'funds_available', 'refund_reserved', 'refund_paid', "
                      "'refund_released', 'refund_returned')")
ENTRY_KINDS = ("kind IN ('capture', 'psp_fee', 'funds_available', 'refund_reserved', 'refund_paid', "
               "'refund_released', 'refund_returned', 'payout_reserved', 'payout_transferred', 'payout_paid', "
               "'payout_unpaid', 'payout_returned', 'payout_reversed')")
WALLETS_BEFORE = "kind NOT IN ('wallet_pending', 'wallet_available') OR balance >= 0"
PENDING_WALLET = "kind <> 'wallet_pending' OR balance >= 0"


def _swap_checks(table: str, swaps: list[tuple[str, str, str, str]]) -> None:
    """Replace check constraints: (old name, new name, new condition) per swap."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for old_name, _old_sql, new_name, new_sql in swaps:
            batch_op.drop_constraint(op.f(old_name), type_="check")
            batch_op.create_check_constraint(op.f(new_name), new_sql)


def upgrade():
    op.create_table('payouts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('seller_account_id', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('period', sa.String(length=60), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('psp_account_id', sa.String(length=255), nullable=False),
    sa.Column('psp_transfer_id', sa.String(length=255), nullable=True),
    sa.Column('psp_payout_id', sa.String(length=255), nullable=True),
    sa.Column('psp_reversal_id', sa.String(length=255), nullable=True),
    sa.Column('psp_bank_account_id', sa.String(length=255), nullable=True),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('failure_message', sa.String(length=500), nullable=True),
    sa.Column('failure_balance_transaction_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')", name=op.f('ck_payouts_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_payouts_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['seller_account_id'], ['seller_accounts.id'], name=op.f('fk_payouts_seller_account_id_seller_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('psp_payout_id', name=op.f('uq_payouts_psp_payout_id')),
    sa.UniqueConstraint('psp_transfer_id', name=op.f('uq_payouts_psp_transfer_id')),
    sa.UniqueConstraint('seller_account_id', 'currency', 'period', name='uq_payouts_seller_currency_period')
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index('ix_payouts_merchant_created', ['merchant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_seller_account_id'), ['seller_account_id'], unique=False)
        batch_op.create_index('ix_payouts_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('payout_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('payout_id', sa.String(length=40), nullable=False),
    sa.Column('posting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('payment_event_id', sa.String(length=40), nullable=True),
    sa.Column('payment_order_id', sa.String(length=40), nullable=True),
    sa.Column('refund_id', sa.String(length=40), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('released', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('payment_order', 'refund', 'reversal', 'adjustment')", name=op.f('ck_payout_items_kind_known')),
    sa.ForeignKeyConstraint(['payment_event_id'], ['payment_events.id'], name=op.f('fk_payout_items_payment_event_id_payment_events')),
    sa.ForeignKeyConstraint(['payment_order_id'], ['payment_orders.id'], name=op.f('fk_payout_items_payment_order_id_payment_orders')),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_payout_items_payout_id_payouts')),
    sa.ForeignKeyConstraint(['posting_id'], ['postings.id'], name=op.f('fk_payout_items_posting_id_postings')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_payout_items_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items'))
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_posting_id'), ['posting_id'], unique=False)

    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_id', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_journal_entries_payout_id_payouts'), 'payouts', ['payout_id'], ['id'])

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_payout_schedule', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('default_minimum_payout_minor', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('order_funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('available_amount', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('seller_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('psp_account_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('account_state', sa.String(length=20), nullable=False,
                                      server_default='onboarding'))
        batch_op.add_column(sa.Column('payouts_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('requirements_due', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('bank_account_status', sa.String(length=20), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('bank_account_psp_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('bank_account_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('payout_interval', sa.String(length=10), nullable=False,
                                      server_default='daily'))
        batch_op.add_column(sa.Column('payout_weekly_anchor', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('payout_monthly_anchor', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('payout_delay_days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('minimum_payout_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_unique_constraint(batch_op.f('uq_seller_accounts_psp_account_id'), ['psp_account_id'])
        batch_op.create_check_constraint(
            op.f('ck_seller_accounts_account_state_known'),
            "account_state IN ('onboarding', 'active', 'restricted', 'disabled')")
        batch_op.create_check_constraint(op.f('ck_seller_accounts_bank_account_status_known'),
                                         "bank_account_status IN ('pending', 'active', 'errored')")
        batch_op.create_check_constraint(op.f('ck_seller_accounts_payout_interval_known'),
                                         "payout_interval IN ('daily', 'weekly', 'monthly', 'manual')")
        batch_op.create_check_constraint(op.f('ck_seller_accounts_payout_delay_not_negative'),
                                         "payout_delay_days >= 0")
        batch_op.create_check_constraint(op.f('ck_seller_accounts_minimum_payout_not_negative'),
                                         "minimum_payout_minor >= 0")
    # The defaults above only fill existing rows; the application sets every value itself.
    with op.batch_alter_table('seller_accounts', schema=None) as batch_op:
        for column in ('updated_at', 'account_state', 'payouts_enabled', 'requirements_due', 'bank_account_status',
                       'bank_account_version', 'payout_interval', 'payout_delay_days', 'minimum_payout_minor'):
            batch_op.alter_column(column, server_default=None)

    _swap_checks('ledger_accounts', [
        ('ck_ledger_accounts_kind_known', ACCOUNT_KINDS_BEFORE, 'ck_ledger_accounts_kind_known', ACCOUNT_KINDS),
        ('ck_ledger_accounts_wallet_not_negative', WALLETS_BEFORE, 'ck_ledger_accounts_pending_wallet_not_negative',
         PENDING_WALLET)])
    _swap_checks('journal_entries', [
        ('ck_journal_entries_kind_known', ENTRY_KINDS_BEFORE, 'ck_journal_entries_kind_known', ENTRY_KINDS)])


def downgrade():
    _swap_checks('journal_entries', [
        ('ck_journal_entries_kind_known', ENTRY_KINDS, 'ck_journal_entries_kind_known', ENTRY_KINDS_BEFORE)])
    _swap_checks('ledger_accounts', [
        ('ck_ledger_accounts_kind_known', ACCOUNT_KINDS, 'ck_ledger_accounts_kind_known', ACCOUNT_KINDS_BEFORE),
        ('ck_ledger_accounts_pending_wallet_not_negative', PENDING_WALLET, 'ck_ledger_accounts_wallet_not_negative',
         WALLETS_BEFORE)])
    with op.batch_alter_table('seller_accounts', schema=None) as batch_op:
        for name in ('account_state_known', 'bank_account_status_known', 'payout_interval_known',
                     'payout_delay_not_negative', 'minimum_payout_not_negative'):
            batch_op.drop_constraint(op.f(f'ck_seller_accounts_{name}'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_seller_accounts_psp_account_id'), type_='unique')
        batch_op.drop_column('minimum_payout_minor')
        batch_op.drop_column('payout_delay_days')
        batch_op.drop_column('payout_monthly_anchor')
        batch_op.drop_column('payout_weekly_anchor')
        batch_op.drop_column('payout_interval')
        batch_op.drop_column('bank_account_version')
        batch_op.drop_column('bank_account_psp_id')
        batch_op.drop_column('bank_account_status')
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('requirements_due')
        batch_op.drop_column('payouts_enabled')
        batch_op.drop_column('account_state')
        batch_op.drop_column('psp_account_id')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('country')
        batch_op.drop_column('email')

    with op.batch_alter_table('order_funds', schema=None) as batch_op:
        batch_op.drop_column('available_amount')

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('default_minimum_payout_minor')
        batch_op.drop_column('default_payout_schedule')

    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_journal_entries_payout_id_payouts'), type_='foreignkey')
        batch_op.drop_column('payout_id')

    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_items_posting_id'))
        batch_op.drop_index(batch_op.f('ix_payout_items_payout_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_status_updated')
        batch_op.drop_index(batch_op.f('ix_payouts_seller_account_id'))
        batch_op.drop_index('ix_payouts_merchant_created')

    op.drop_table('payouts')
