"""The monitor's database calls: one at a time, retried on a writer conflict.

A call met another writer when the database reports a deadlock (on SQLite,
a lock conflict: :mod:`sod_nova.db.sqlite_locks`); it is then run again,
whole, up to :data:`ATTEMPTS` times.
"""

import threading

from oslo_db import api as oslo_db_api

from sod_nova.db import api as db_api
from sod_nova.db import sqlite_locks

#: Attempts of one database call that met another writer.
ATTEMPTS = 5

_retry = oslo_db_api.wrap_db_retry(
    max_retries=ATTEMPTS - 1, retry_interval=0.005, retry_on_deadlock=True,
    exception_checker=sqlite_locks.is_lock_conflict)


class Database:
    """Runs one monitor's database calls, one at a time."""

    def __init__(self):
        self._lock = threading.Lock()

    @_retry
    def call(self, fn, *args, **kwargs):
        """``fn(context, *args, **kwargs)``: one function, its own
        transaction."""
        with self._lock:
            return fn(db_api.Context(), *args, **kwargs)

    @_retry
    def transaction(self, fn, *args):
        """``fn(context, *args)`` in one writer transaction: every db
        function it calls with ``context`` joins it."""
        with self._lock:
            context = db_api.Context()
            with db_api.context_manager.writer.using(context):
                return fn(context, *args)
