"""TPM state for the monitor group: TPM clocks and pending credentials.

Revision ID: 0011_tpm_states
Revises: 0010_epoch_times
"""

from alembic import op
import sqlalchemy as sa

revision = '0011_tpm_states'
down_revision = '0010_epoch_times'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sod_tpm_states',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('created_at', sa.Double),
        sa.Column('updated_at', sa.Double),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('ek_digest', sa.String(64), nullable=False),
        sa.Column('reset_count', sa.BigInteger, nullable=True),
        sa.Column('restart_count', sa.BigInteger, nullable=True),
        sa.Column('clock', sa.BigInteger, nullable=True),
        sa.Column('pending_ak', sa.String(64), nullable=True),
        sa.Column('pending_proofs', sa.Text, nullable=True),
        sa.UniqueConstraint('host', name='uniq_sod_tpm_states0host'),
    )
