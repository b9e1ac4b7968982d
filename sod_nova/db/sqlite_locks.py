"""SQLite's lock conflicts, recognised by class and result code.

SQLite refuses the second of two writers at once (``SQLITE_BUSY``, or
``SQLITE_LOCKED`` in a shared cache): the deadlock MySQL reports as such.
oslo.db re-raises it as a plain ``OperationalError``, so its result code,
never its message, tells it apart; retry it with
``wrap_db_retry(retry_on_deadlock=True, exception_checker=is_lock_conflict)``.
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
