"""All host capability rows, read in one query and kept for a short time."""

import threading
import time

from sod_nova.db import api as db_api


class HostRowCache:
    """``{host: HostRow}``, re-read at most every ``[sod_filter] host_cache_seconds``.

    Shared by all scheduling requests (the snapshot is replaced whole, never
    changed, and the rows are immutable); a reader may get a snapshot up to
    that many seconds old. 0 disables the cache.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = None  # (rows by host, monotonic time read)

    def _fresh(self, snapshot, ttl):
        return (snapshot is not None and ttl > 0
                and self._clock() - snapshot[1] < ttl)

    def get(self, context, conf):
        """``{host: HostRow}``, read with ``context`` when the snapshot is
        older than ``conf``'s ``[sod_filter] host_cache_seconds``."""
        ttl = conf.sod_filter.host_cache_seconds
        snapshot = self._snapshot
        if self._fresh(snapshot, ttl):
            return snapshot[0]
        with self._lock:
            snapshot = self._snapshot
            if self._fresh(snapshot, ttl):
                return snapshot[0]
            rows = {row.host: row for row in db_api.host_get_all(context)}
            self._snapshot = (rows, self._clock())
            return rows

    def clear(self):
        self._snapshot = None
