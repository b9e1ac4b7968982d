"""SQLite's lock conflicts, recognised by class and result code.

Two SQLite writers that meet cannot both wait: SQLite refuses one of them at
once with ``SQLITE_BUSY`` (or ``SQLITE_LOCKED`` inside one shared cache).
That is the deadlock MySQL and PostgreSQL report as such, and oslo.db
raises theirs as :class:`oslo_db.exception.DBDeadlock`; SQLite's it re-raises
as SQLAlchemy's ``OperationalError``, the class of many other failures too.
The sqlite3 driver names the refusal by its result code
(``sqlite_errorcode``), so that code, never the message, is what tells it
apart. Retry both with::

    oslo_db_api.wrap_db_retry(retry_on_deadlock=True,
                              exception_checker=sqlite_locks.is_lock_conflict)
"""

import sqlite3

import sqlalchemy as sa

#: SQLite's primary result codes for "another connection holds the lock".
LOCK_CONFLICTS = frozenset((sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED))


def is_lock_conflict(exc):
    """Whether ``exc`` is SQLite refusing a lock another connection holds."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    code = getattr(exc.orig, 'sqlite_errorcode', None)
    return code is not None and code & 0xff in LOCK_CONFLICTS
