"""Pages of the audit trail, each verified against the entry before it.

A page is checked link by link from the stored hash of the entry before it,
and the head against the newest checkpoint and the caller's ``expect_head``:
a client that pages through everything has verified everything.

See doc/source/contributor/api-and-cli.rst.
"""

import json

import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import models
from sod_nova.db import relocation as relocation_db


def key(conf):
    """The audit key, or None when this service has none (every keyed
    link is then reported unverified: fail closed)."""
    try:
        return audit.key_from_conf(conf)
    except audit.AuditKeyError:
        return None


class Page:
    """Up to ``limit`` rows after ``marker``, and what verifying them needs:
    the link before them, the head, the anchor (the first keyed link), the
    newest checkpoint and, with
    ``expect_head``, the link holding that hash."""

    def __init__(self, context, marker=0, limit=100, expect_head=None):
        table = models.AuditEntry
        with db_api.context_manager.reader.using(context) as session:
            self.rows = [relocation_db.AuditRow.from_model(m)
                         for m in session.scalars(
                             sa.select(table).where(table.seq > marker)
                             .order_by(table.seq).limit(limit))]
            self.before = (session.get(table, marker) if marker > 0
                           else None)
            if self.before is not None:
                self.before = relocation_db.AuditRow.from_model(self.before)
            head = session.scalars(sa.select(table).order_by(
                table.seq.desc()).limit(1)).first()
            self.head = (relocation_db.AuditRow.from_model(head)
                         if head is not None else None)
            self.first_keyed = relocation_db.first_keyed(context)
            point = session.scalars(sa.select(models.AuditCheckpoint).order_by(
                models.AuditCheckpoint.seq.desc()).limit(1)).first()
            self.checkpoint = (relocation_db.Checkpoint(
                point.seq, point.created_at, point.hash, point.mac)
                if point is not None else None)
            self.checkpoint_row = None
            if point is not None:
                row = session.get(table, point.seq)
                self.checkpoint_row = (relocation_db.AuditRow.from_model(row)
                                       if row is not None else None)
            self.expected = None
            if expect_head is not None:
                row = session.scalars(sa.select(table).where(
                    table.hash == expect_head).limit(1)).first()
                self.expected = (relocation_db.AuditRow.from_model(row)
                                 if row is not None else None)
        self.marker = marker
        self.expect_head = expect_head

    @property
    def head_seq(self):
        return self.head.seq if self.head is not None else None

    def _tail_break(self, key):
        broken = None
        if self.checkpoint is not None:
            broken = audit.checkpoint_break(self.checkpoint,
                                            self.checkpoint_row, key)
        return broken or audit.tail_break(self.head, key, self.expect_head,
                                          self.expected)

    def verification(self, key):
        """``{intact, break, from_seq, to_seq, head_hash}``."""
        rows, marker = self.rows, self.marker
        if marker > 0 and self.before is None:
            broken = audit.Break(marker, 'the entry before the page is '
                                         'missing')
        else:
            prev = self.before.hash if self.before is not None else audit.GENESIS
            legacy = audit.legacy_links(self.first_keyed, key, self.head)
            broken = (audit.verify(rows, key, prev_hash=prev,
                                   first_seq=marker + 1, legacy=legacy)
                      or self._tail_break(key))
        return {
            'intact': broken is None,
            'break': ({'seq': broken.seq, 'reason': broken.reason}
                      if broken is not None else None),
            'from_seq': rows[0].seq if rows else None,
            'to_seq': rows[-1].seq if rows else None,
            'head_hash': (rows[-1].hash if rows else
                          self.before.hash if self.before is not None
                          else audit.GENESIS),
        }


def entry_view(row):
    try:
        data = json.loads(row.entry)
    except ValueError:
        data = None
    return {'seq': row.seq, 'created_at': row.created_at, 'entry': data,
            'prev_hash': row.prev_hash, 'hash': row.hash}
