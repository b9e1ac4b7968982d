"""Leases: which process holds a role only one may hold at a time.

Revision ID: 0004_leases
Revises: 0003_relocation
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_leases'
down_revision = '0003_relocation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sod_leases',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('holder', sa.String(255), nullable=False),
        sa.Column('expires_at', sa.Float, nullable=False),
    )
