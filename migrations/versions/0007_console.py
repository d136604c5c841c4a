"""console: the append-only audit log, merchants that can be disabled, buyer email lookup hashes

Revision ID: 0007_console
Revises: 0006
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_console'
down_revision = '0006'
branch_labels = None
depends_on = None

# The audit log is append-only: the application only ever inserts. TRUNCATE (the test suite empties tables with
# it) fires no row trigger. SQLite refuses UPDATE too; DELETE stays possible there (tests empty tables with it).
CREATE_FUNCTION = """
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$
"""
BACKFILL_BATCH = 1000


def _backfill_lookup_hashes(bind) -> None:
    """Existing payments get their buyer email's lookup hash (needs the app's keys: run through `flask db`)."""
    from flask import current_app

    from webapp.services import crypto

    config = current_app.config
    events = sa.table('payment_events', sa.column('id', sa.String), sa.column('buyer_email_enc', sa.Text),
                      sa.column('buyer_email_hash', sa.String))
    last = ''
    while True:
        rows = bind.execute(sa.select(events.c.id, events.c.buyer_email_enc).where(events.c.id > last)
                            .order_by(events.c.id).limit(BACKFILL_BATCH)).all()
        if not rows:
            return
        for row in rows:
            email = crypto.decrypt(row.buyer_email_enc)
            bind.execute(events.update().where(events.c.id == row.id)
                         .values(buyer_email_hash=crypto.lookup_hash(email, config)))
        last = rows[-1].id


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at', 'id'], unique=False)
    op.create_index('ix_audit_log_actor_at', 'audit_log', ['actor', 'at'], unique=False)
    op.create_index('ix_audit_log_action_at', 'audit_log', ['action', 'at'], unique=False)
    op.create_index('ix_audit_log_target', 'audit_log', ['target_type', 'target_id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(CREATE_FUNCTION)
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END")
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_email_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_events_buyer_email_hash'), ['buyer_email_hash'], unique=False)
    _backfill_lookup_hashes(bind)


def downgrade():
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_events_buyer_email_hash'))
        batch_op.drop_column('buyer_email_hash')
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    op.drop_index('ix_audit_log_target', table_name='audit_log')
    op.drop_index('ix_audit_log_action_at', table_name='audit_log')
    op.drop_index('ix_audit_log_actor_at', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
