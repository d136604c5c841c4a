"""recon_uploads: uploaded settlement files kept in the database until imported (no shared disk between hosts)

Revision ID: 0007_resilience
Revises: 0007_webhooks
Create Date: 2026-11-30 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_resilience'
down_revision = '0007_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recon_uploads',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_uploads')),
    )


def downgrade():
    op.drop_table('recon_uploads')
