"""Leases in sod-nova's database: one holder of a role at a time.

A lease row names a role (``migration-manager``), its holder and when it
expires (seconds since the epoch, the writer's clock: the hosts keep time
with NTP, as OpenStack's services assume). Taking and renewing are one
conditional ``UPDATE`` each, so that two processes racing for an expired
lease cannot both win; the first claim of a role is an ``INSERT`` that the
primary key makes unique. Works the same on SQLite and MySQL/MariaDB.
"""

import dataclasses
import time

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from sod_nova.db import api as db_api
from sod_nova.db import models


@enginefacade.transaction_context_provider
class _Context:
    """A bare context for the engine facade (no request context here)."""


def _writer():
    return db_api.context_manager.writer.using(_Context())


@dataclasses.dataclass(frozen=True)
class LeaseRow:
    name: str
    holder: str
    expires_at: float


def acquire(name, holder, seconds, now=None, conf=None):
    """Take or renew lease ``name`` for ``holder`` until ``now + seconds``.

    True when ``holder`` holds it now: it held it already, or the lease was
    free or expired. False while another holder's lease runs.
    """
    now = time.time() if now is None else now
    table = models.Lease.__table__
    db_api.configure(conf)
    with _writer() as session:
        taken = session.execute(
            sa.update(table).where(
                table.c.name == name,
                sa.or_(table.c.holder == holder, table.c.expires_at < now))
            .values(holder=holder, expires_at=now + seconds)).rowcount
        if taken:
            return True
        if session.execute(sa.select(table.c.name).where(
                table.c.name == name)).first() is not None:
            return False
    try:
        with _writer() as session:
            session.execute(sa.insert(table).values(
                name=name, holder=holder, expires_at=now + seconds))
        return True
    except db_exc.DBDuplicateEntry:     # another process claimed it first
        return False


def release(name, holder, conf=None):
    """Give lease ``name`` up if ``holder`` holds it (a clean stop)."""
    table = models.Lease.__table__
    db_api.configure(conf)
    with _writer() as session:
        session.execute(sa.delete(table).where(
            table.c.name == name, table.c.holder == holder))


def get(name, conf=None):
    """The :class:`LeaseRow` of ``name``, or None."""
    table = models.Lease.__table__
    db_api.configure(conf)
    with db_api.context_manager.reader.using(_Context()) as session:
        row = session.execute(sa.select(
            table.c.name, table.c.holder, table.c.expires_at).where(
                table.c.name == name)).first()
        return LeaseRow(*row) if row is not None else None
