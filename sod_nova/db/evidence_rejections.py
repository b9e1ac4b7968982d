"""Counts of evidence reports rejected without changing a host's state.

Each monitor adds its counts per host and reason code in one transaction
per period; ``sod-nova host list`` shows them. Names nobody enrolled are
counted under :data:`UNKNOWN`.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from sod_nova.db import api
from sod_nova.db import models
from sod_nova.db import values

#: The host of rejected reports whose claimed host is not enrolled (not a
#: valid host name, so it never collides with one).
UNKNOWN = '(unknown)'


EvidenceRejection = models.EvidenceRejection


@dataclasses.dataclass(frozen=True)
class RejectionCount:
    host: str
    code: str
    count: int
    last_reason: str
    last_at: datetime.datetime


@values.retry_on_duplicate
@api.context_manager.writer
def add(context, counts, now=None):
    """Add ``{(host, code): (count, last reason)}`` to the stored counts."""
    if not counts:
        return
    now = values.to_epoch(now) if now is not None else values.now()
    table = EvidenceRejection.__table__
    session = context.session
    for (host, code), (count, reason) in sorted(counts.items()):
        done = session.execute(sa.update(table).where(
            table.c.host == host, table.c.code == code).values(
            count=table.c.count + count, last_reason=reason[:1000],
            last_at=now, updated_at=now)).rowcount
        if not done:
            session.add(EvidenceRejection(
                host=host, code=code, count=count,
                last_reason=reason[:1000], last_at=now))
            session.flush()


@api.context_manager.reader
def get_all(context):
    """Every count, ordered by host and code."""
    table = EvidenceRejection.__table__
    query = sa.select(table.c.host, table.c.code, table.c.count,
                      table.c.last_reason, table.c.last_at).order_by(
        table.c.host, table.c.code)
    return [RejectionCount(h, c, n, r, values.from_epoch(at))
            for h, c, n, r, at in context.session.execute(query)]


@api.context_manager.reader
def by_host(context):
    """``{host: [RejectionCount, ...]}``."""
    result = {}
    for row in get_all(context):
        result.setdefault(row.host, []).append(row)
    return result
