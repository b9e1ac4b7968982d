"""Trust enrollments: each host's attestation key or pending one-time token.

Revision ID: 0002_trust_enrollment
Revises: 0001_hosts
"""

from alembic import op
import sqlalchemy as sa

revision = '0002_trust_enrollment'
down_revision = '0001_hosts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sod_trust_enrollments',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('architecture', sa.String(255), nullable=False),
        sa.Column('public_key', sa.String(64), nullable=True),
        sa.Column('token_key', sa.String(64), nullable=True),
        sa.Column('token_expires_at', sa.DateTime, nullable=True),
        sa.UniqueConstraint('host', name='uniq_sod_trust_enrollments0host'),
    )
