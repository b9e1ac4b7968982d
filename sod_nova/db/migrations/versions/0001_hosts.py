"""Host capability rows and scheduling rejections.

Revision ID: 0001_hosts
Revises: (none, the first revision)
"""

from alembic import op
import sqlalchemy as sa

revision = '0001_hosts'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sod_hosts',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('architecture', sa.String(255), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('reason', sa.Text, nullable=False),
        sa.Column('last_evidence_at', sa.DateTime, nullable=True),
        sa.Column('capability_mask', sa.Integer, nullable=False),
        sa.Column('monitor', sa.String(255), nullable=True),
        sa.UniqueConstraint('host', name='uniq_sod_hosts0host'),
        sa.CheckConstraint(
            "state IN ('trusted', 'untrusted', 'unreachable')",
            name='ck_sod_hosts_state'),
    )
    op.create_index('sod_hosts_monitor_idx', 'sod_hosts', ['monitor'])
    op.create_table(
        'sod_rejections',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('reason', sa.Text, nullable=False),
        sa.UniqueConstraint('instance_uuid',
                            name='uniq_sod_rejections0instance_uuid'),
    )
