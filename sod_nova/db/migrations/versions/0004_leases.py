"""Leases, and epoch times in double precision.

``sod_leases`` names who holds a single-holder role; the relocation tables'
epoch-second columns become DOUBLE (a MySQL FLOAT rounds them to 128 s).

Revision ID: 0004_leases
Revises: 0003_relocation
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_leases'
down_revision = '0003_relocation'
branch_labels = None
depends_on = None

EPOCH_COLUMNS = {
    'relocation_tasks': ('not_before', 'event_at', 'decided_at',
                         'migrate_called_at', 'finished_at'),
    'relocation_audit': ('created_at',),
}
NOT_NULL = {('relocation_audit', 'created_at')}


def upgrade():
    op.create_table(
        'sod_leases',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('holder', sa.String(255), nullable=False),
        sa.Column('expires_at', sa.Double, nullable=False),
    )
    for table, columns in EPOCH_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Double,
                                   existing_type=sa.Float,
                                   existing_nullable=(table, column)
                                   not in NOT_NULL)
