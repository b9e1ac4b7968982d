"""Leases in sod-nova's database: one holder of a role at a time.

Taking and renewing are one conditional ``UPDATE`` each; the first claim of
a role is an ``INSERT`` the primary key makes unique. See
``doc/source/contributor/database.rst``.
"""

import dataclasses
import time

from oslo_db import exception as db_exc
import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import models


@dataclasses.dataclass(frozen=True)
class LeaseRow:
    name: str
    holder: str
    expires_at: float


def acquire(context, name, holder, seconds, now=None):
    """Take or renew lease ``name`` for ``holder`` until ``now + seconds``.

    True when ``holder`` holds it now: it held it already, or the lease was
    free or expired. False while another holder's lease runs. The first
    claim of a role is a transaction of its own, so that losing the race
    for it is a refused ``INSERT`` and nothing else.
    """
    now = time.time() if now is None else now
    taken = _take(context, name, holder, now + seconds, now)
    if taken is not None:
        return taken
    try:
        _insert(context, name, holder, now + seconds)
        return True
    except db_exc.DBDuplicateEntry:     # another process claimed it first
        return False


@db_api.context_manager.writer
def _take(context, name, holder, until, now):
    """True if taken, False if another holds it, None if there is no row."""
    table = models.Lease.__table__
    session = context.session
    taken = session.execute(
        sa.update(table).where(
            table.c.name == name,
            sa.or_(table.c.holder == holder, table.c.expires_at < now))
        .values(holder=holder, expires_at=until)).rowcount
    if taken:
        return True
    if session.execute(sa.select(table.c.name).where(
            table.c.name == name)).first() is not None:
        return False
    return None


@db_api.context_manager.writer
def _insert(context, name, holder, until):
    context.session.execute(sa.insert(models.Lease.__table__).values(
        name=name, holder=holder, expires_at=until))


@db_api.context_manager.writer
def release(context, name, holder):
    """Give lease ``name`` up if ``holder`` holds it (a clean stop)."""
    table = models.Lease.__table__
    context.session.execute(sa.delete(table).where(
        table.c.name == name, table.c.holder == holder))


@db_api.context_manager.reader
def get(context, name):
    """The :class:`LeaseRow` of ``name``, or None."""
    table = models.Lease.__table__
    row = context.session.execute(sa.select(
        table.c.name, table.c.holder, table.c.expires_at).where(
            table.c.name == name)).first()
    return LeaseRow(*row) if row is not None else None
