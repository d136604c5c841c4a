"""portal: buyer email lookup hash, merchant team roles, order-id search index

- payment_events.buyer_email_hash: a keyed hash (HMAC-SHA256) of the normalised buyer email, so the portal can
  find payments by email while the address itself stays encrypted at rest. Existing rows are filled here.
- users.merchant_role: owner | developer | viewer for merchant users (NULL for admins); existing merchant users
  become owners.
- payment_orders.payment_order_id is indexed: the portal searches payments by the merchant's order id.

Revision ID: 0007_portal
Revises: 0007_harden_auth
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_portal'
down_revision = '0007_harden_auth'
branch_labels = None
depends_on = None

_BATCH = 1000


def _fill_email_hashes() -> None:
    from webapp.services import crypto, lookup

    conn = op.get_bind()
    events = sa.table('payment_events', sa.column('id', sa.String), sa.column('buyer_email_enc', sa.Text),
                      sa.column('buyer_email_hash', sa.String))
    last = ''
    while True:
        rows = conn.execute(sa.select(events.c.id, events.c.buyer_email_enc).where(events.c.id > last)
                            .order_by(events.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            conn.execute(events.update().where(events.c.id == row.id).values(
                buyer_email_hash=lookup.email_hash(crypto.decrypt(row.buyer_email_enc))))
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('payment_events') as batch:
        batch.add_column(sa.Column('buyer_email_hash', sa.String(length=64), nullable=True))
        batch.create_index('ix_payment_events_merchant_email', ['merchant_id', 'buyer_email_hash'], unique=False)
    _fill_email_hashes()
    op.create_index('ix_payment_orders_order_ref', 'payment_orders', ['payment_order_id'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('merchant_role', sa.String(length=20), nullable=True))
        batch.create_check_constraint(
            op.f('ck_users_merchant_role_known'),
            "merchant_role IS NULL OR merchant_role IN ('owner', 'developer', 'viewer')")
    op.execute("UPDATE users SET merchant_role = 'owner' WHERE role = 'merchant'")


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('ck_users_merchant_role_known', type_='check')
        batch.drop_column('merchant_role')
    op.drop_index('ix_payment_orders_order_ref', table_name='payment_orders')
    with op.batch_alter_table('payment_events') as batch:
        batch.drop_index('ix_payment_events_merchant_email')
        batch.drop_column('buyer_email_hash')
