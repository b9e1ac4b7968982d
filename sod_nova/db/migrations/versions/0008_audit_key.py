"""A keyed audit chain, its checkpoints, and an index by VM and time.

``relocation_audit`` gains ``alg`` and indexed ``vm``, ``event``, ``at``;
``relocation_audit_checkpoints`` holds the writer's keyed checkpoints.

Revision ID: 0008_audit_key
Revises: 0007_evidence_valid_until
"""

import json
import math

from alembic import op
import sqlalchemy as sa

revision = '0008_audit_key'
down_revision = '0007_evidence_valid_until'
branch_labels = None
depends_on = None

BATCH = 1000


def _columns(text):
    """``(vm, event, at)`` of a legacy entry, None where not well typed."""
    try:
        entry = json.loads(text)
    except ValueError:
        return None, None, None
    if not isinstance(entry, dict):
        return None, None, None
    vm, event, at = entry.get('vm'), entry.get('event'), entry.get('at')
    vm = vm if isinstance(vm, str) and len(vm) <= 255 else None
    event = event if isinstance(event, str) and len(event) <= 64 else None
    try:
        at = (float(at) if isinstance(at, (int, float))
              and not isinstance(at, bool) else None)
    except OverflowError:
        at = None
    if at is not None and not math.isfinite(at):
        at = None
    return vm, event, at


def upgrade():
    with op.batch_alter_table('relocation_audit') as batch:
        batch.add_column(sa.Column('alg', sa.String(16), nullable=True))
        batch.add_column(sa.Column('vm', sa.String(255), nullable=True))
        batch.add_column(sa.Column('event', sa.String(64), nullable=True))
        batch.add_column(sa.Column('at', sa.Double, nullable=True))
        batch.create_index('ix_relocation_audit_vm_at', ['vm', 'at'])
        batch.create_index('ix_relocation_audit_hash', ['hash'])
    op.create_table(
        'relocation_audit_checkpoints',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=False),
        sa.Column('created_at', sa.Double, nullable=False),
        sa.Column('hash', sa.String(64), nullable=False),
        sa.Column('mac', sa.String(64), nullable=False),
    )
    audit = sa.table('relocation_audit', sa.column('seq', sa.Integer),
                     sa.column('entry', sa.Text), sa.column('vm'),
                     sa.column('event'), sa.column('at'))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(audit.c.seq, audit.c.entry).where(audit.c.seq > last)
            .order_by(audit.c.seq).limit(BATCH)).all()
        if not rows:
            break
        for seq, text in rows:
            vm, event, at = _columns(text)
            if (vm, event, at) != (None, None, None):
                bind.execute(audit.update().where(audit.c.seq == seq).values(
                    vm=vm, event=event, at=at))
        last = rows[-1][0]
