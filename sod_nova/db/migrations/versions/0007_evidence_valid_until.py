"""Freshness stated once: each host row says until when its evidence counts.

The trust monitor applies its ``[trust] evidence_max_age`` once, when it
writes a verdict, and stores the result in ``sod_hosts.valid_until``; the
scheduler filter, the migration manager, the API and the trait publisher
only compare that time with the current one. Rows written before this
revision have none and count as stale (fail closed) until the monitor's
next report rewrites them.

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
