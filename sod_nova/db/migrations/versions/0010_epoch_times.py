"""One time representation: seconds since the epoch in every table.

The naive UTC DATETIME columns become DOUBLE epoch seconds holding the same
instants, converted the same way on SQLite and MySQL/MariaDB.

Revision ID: 0010_epoch_times
Revises: 0009_canonical_public_keys
"""

import datetime

from alembic import op
import sqlalchemy as sa

revision = '0010_epoch_times'
down_revision = '0009_canonical_public_keys'
branch_labels = None
depends_on = None

COLUMNS = {
    'sod_hosts': ('created_at', 'updated_at', 'last_evidence_at',
                  'valid_until'),
    'sod_rejections': ('created_at', 'updated_at'),
    'sod_trust_enrollments': ('created_at', 'updated_at', 'token_expires_at',
                              'proof_retry_at'),
    'sod_evidence_rejections': ('created_at', 'updated_at', 'last_at'),
}
NOT_NULL = {('sod_evidence_rejections', 'last_at')}
#: What SQLite's table copy must keep (it does not reflect CHECKs).
HOST_STATES = ('trusted', 'untrusted', 'unreachable')


def _epoch(value):
    """Seconds since the epoch of a naive UTC datetime, or None."""
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).timestamp()


def _table(name, type_):
    return sa.table(name, sa.column('id', sa.Integer),
                    *(sa.column(c, type_) for c in COLUMNS[name]))


def upgrade():
    bind = op.get_bind()
    for name, columns in COLUMNS.items():
        old = _table(name, sa.DateTime)
        rows = bind.execute(sa.select(old.c.id, *(old.c[c] for c in columns))
                            ).all()
        table_args = ()
        if name == 'sod_hosts':
            table_args = (sa.CheckConstraint(
                'state IN (%s)' % ', '.join("'%s'" % s for s in HOST_STATES),
                name='ck_sod_hosts_state'),)
        with op.batch_alter_table(name, table_args=table_args) as batch:
            for column in columns:
                batch.alter_column(
                    column, type_=sa.Double, existing_type=sa.DateTime,
                    existing_nullable=(name, column) not in NOT_NULL)
        if not rows:
            continue
        new = _table(name, sa.Double)
        bind.execute(
            sa.update(new).where(new.c.id == sa.bindparam('row_id')).values(
                {c: sa.bindparam('new_' + c) for c in columns}),
            [dict({'row_id': row.id},
                  **{'new_' + c: _epoch(row._mapping[c]) for c in columns})
             for row in rows])
