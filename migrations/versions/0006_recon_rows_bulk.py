"""reconciliation: recon_rows written in bulk (no foreign key on import_id, no index on ref or source_id)

A settlement report holds a million rows a day. Checking each row's `import_id` against `recon_imports` (a trigger
per row) cost more than the rest of the import, and the `ref` and `source_id` indexes are not used by the set-based
matching (hash joins; a run's rows are found by import and time); the rows and their import are written together
by one transaction.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_recon_rows_ref', table_name='recon_rows')
    op.drop_index('ix_recon_rows_source', table_name='recon_rows')
    with op.batch_alter_table('recon_rows') as batch:
        batch.drop_constraint('fk_recon_rows_import_id_recon_imports', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('recon_rows') as batch:
        batch.create_foreign_key('fk_recon_rows_import_id_recon_imports', 'recon_imports', ['import_id'], ['id'])
    op.create_index('ix_recon_rows_ref', 'recon_rows', ['ref'], unique=False)
    op.create_index('ix_recon_rows_source', 'recon_rows', ['source_id'], unique=False)
