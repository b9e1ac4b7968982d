"""Freshness stated once: each host row says until when its evidence counts.

``sod_hosts.valid_until`` is written with each verdict; rows written before
this revision have none and count as stale until the next report.

Revision ID: 0007_evidence_valid_until
Revises: 0006_tpm_enrollment
"""

from alembic import op
import sqlalchemy as sa

revision = '0007_evidence_valid_until'
down_revision = '0006_tpm_enrollment'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sod_hosts') as batch:
        batch.add_column(sa.Column('valid_until', sa.DateTime, nullable=True))
