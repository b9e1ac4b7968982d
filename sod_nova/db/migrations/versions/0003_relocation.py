"""Migration manager: relocation tasks and the hash-chained audit trail.

Revision ID: 0003_relocation
Revises: 0002_trust_enrollment
"""

from alembic import op
import sqlalchemy as sa

revision = '0003_relocation'
down_revision = '0002_trust_enrollment'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'relocation_tasks',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('vm', sa.String(36), nullable=False),
        sa.Column('seq', sa.Integer, nullable=False),
        sa.Column('trigger', sa.String(32), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('priority', sa.Integer, nullable=False),
        sa.Column('source_host', sa.String(255), nullable=False),
        sa.Column('target_host', sa.String(255)),
        sa.Column('dest_host', sa.String(255)),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('failed_hosts', sa.Text, nullable=False),
        sa.Column('migration_after', sa.Integer),
        sa.Column('action', sa.String(16)),
        sa.Column('reason', sa.Text),
        sa.Column('not_before', sa.Float),
        sa.Column('event_at', sa.Float),
        sa.Column('decided_at', sa.Float),
        sa.Column('migrate_called_at', sa.Float),
        sa.Column('finished_at', sa.Float),
        sa.UniqueConstraint('vm', 'seq', name='uniq_relocation_tasks0vm0seq'),
    )
    op.create_index('relocation_tasks_state_idx', 'relocation_tasks',
                    ['state'])
    op.create_table(
        'relocation_audit',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=False),
        sa.Column('created_at', sa.Float, nullable=False),
        sa.Column('entry', sa.Text, nullable=False),
        sa.Column('prev_hash', sa.String(64), nullable=False),
        sa.Column('hash', sa.String(64), nullable=False),
    )
