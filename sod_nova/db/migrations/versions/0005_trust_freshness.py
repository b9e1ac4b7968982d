"""Trust verdicts: per-host freshness, enrollment attempts, rejected reports.

A host's report freshness and failed proofs move into its enrollment row;
``sod_evidence_rejections`` counts reports rejected without a state change.

Revision ID: 0005_trust_freshness
Revises: 0004_leases
"""

from alembic import op
import sqlalchemy as sa

revision = '0005_trust_freshness'
down_revision = '0004_leases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sod_trust_enrollments') as batch:
        batch.add_column(sa.Column('boot_id', sa.String(255), nullable=True))
        batch.add_column(sa.Column('last_sequence', sa.BigInteger,
                                   nullable=False, server_default='0'))
        batch.add_column(sa.Column('seen', sa.BigInteger, nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('nonce_ms', sa.BigInteger, nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('failed_proofs', sa.Integer,
                                   nullable=False, server_default='0'))
        batch.add_column(sa.Column('proof_retry_at', sa.DateTime,
                                   nullable=True))
    op.create_table(
        'sod_evidence_rejections',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('code', sa.String(32), nullable=False),
        sa.Column('count', sa.BigInteger, nullable=False),
        sa.Column('last_reason', sa.Text, nullable=False),
        sa.Column('last_at', sa.DateTime, nullable=False),
        sa.UniqueConstraint('host', 'code',
                            name='uniq_sod_evidence_rejections0host0code'),
    )
