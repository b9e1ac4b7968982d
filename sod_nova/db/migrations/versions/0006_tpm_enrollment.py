"""TPM hosts: the enrolled endorsement key and the activated attestation key.

Revision ID: 0006_tpm_enrollment
Revises: 0005_trust_freshness
"""

from alembic import op
import sqlalchemy as sa

revision = '0006_tpm_enrollment'
down_revision = '0005_trust_freshness'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sod_trust_enrollments') as batch:
        batch.add_column(sa.Column('tpm_ek', sa.Text, nullable=True))
        batch.add_column(sa.Column('tpm_ak', sa.Text, nullable=True))
