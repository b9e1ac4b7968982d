"""Pages of the audit trail, each verified against the entry before it.

A page is checked link by link from the stored hash of the entry that
precedes it, so an altered, inserted or removed entry inside the page (or
at its first link) is named without reading the whole chain; a client that
pages through everything has verified everything.
"""

import json

import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import models
from sod_nova.db import relocation as relocation_db


def _reader(conf):
    db_api.configure(conf)
    return db_api.context_manager.reader.using(relocation_db._Context())


def _row(model):
    return relocation_db.AuditRow(model.seq, model.created_at, model.entry,
                                  model.prev_hash, model.hash)


def page(conf, marker=0, limit=100):
    """``(rows, previous hash, head)``: up to ``limit`` entries after
    sequence number ``marker``, the hash they chain from, the last seq."""
    table = models.AuditEntry
    with _reader(conf) as session:
        rows = [_row(m) for m in session.scalars(
            sa.select(table).where(table.seq > marker)
            .order_by(table.seq).limit(limit))]
        prev = audit.GENESIS
        if marker > 0:
            before = session.get(table, marker)
            prev = before.hash if before is not None else None
        head = session.scalar(sa.select(sa.func.max(table.seq)))
    return rows, prev, head


def verification(rows, prev_hash, marker):
    """The page's verdict: ``{intact, break, from_seq, to_seq, head_hash}``."""
    if prev_hash is None:
        return {'intact': False,
                'break': {'seq': marker,
                          'reason': 'the entry before the page is missing'},
                'from_seq': marker + 1, 'to_seq': None, 'head_hash': None}
    broken = audit.verify(rows, prev_hash=prev_hash, first_seq=marker + 1)
    return {
        'intact': broken is None,
        'break': ({'seq': broken.seq, 'reason': broken.reason}
                  if broken is not None else None),
        'from_seq': rows[0].seq if rows else None,
        'to_seq': rows[-1].seq if rows else None,
        'head_hash': rows[-1].hash if rows else prev_hash,
    }


def entry_view(row):
    try:
        data = json.loads(row.entry)
    except ValueError:
        data = None
    return {'seq': row.seq, 'created_at': row.created_at, 'entry': data,
            'prev_hash': row.prev_hash, 'hash': row.hash}


def entries_for(conf, vms=None):
    """Every audit entry (of the VMs ``vms``) as dicts, in chain order."""
    rows = relocation_db.RelocationStore(conf).audit_entries()
    result = []
    for row in rows:
        try:
            data = json.loads(row.entry)
        except ValueError:
            continue
        if vms is None or data.get('vm') in vms:
            result.append(data)
    return result
