"""Reports the monitor rejected without changing a host's state.

Each rejection is counted in memory at once, the first of a kind in a period
is logged, and every ``stale_check_interval`` the counts are stored and
published, so that a flood of forgeries neither floods the log, the bus and
the database nor goes unseen. See doc/source/contributor/trust-plane.rst.
"""

import threading

from oslo_log import log as logging

from sod_nova.db import evidence_rejections

LOG = logging.getLogger(__name__)

#: Event type of the security notification for rejected reports.
EVIDENCE_REJECTED_EVENT = 'sod.host.evidence_rejected'


class RejectionAlerts:
    """Per-period counts of rejected reports, flushed by the monitor."""

    def __init__(self):
        self._lock = threading.Lock()
        #: One flush at a time: a flush that finds nothing pending returns
        #: only once a flush in progress (the periodic one) has stored its
        #: counts, so "flushed" means "in the database".
        self._flushing = threading.Lock()
        self._pending = {}

    def count(self, host, code, reason):
        """Count one rejected report (``host`` None: not an enrolled host)."""
        key = (host or evidence_rejections.UNKNOWN, code)
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = [1, reason]
            else:
                entry[0] += 1
                entry[1] = reason
        if entry is None:
            LOG.warning('%(host)s: evidence rejected (%(code)s): %(reason)s; '
                        'host state unchanged',
                        {'host': key[0], 'code': code, 'reason': reason})

    def take(self):
        """The period's counts ``{(host, code): (count, last reason)}``,
        emptied."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return {key: tuple(value) for key, value in pending.items()}

    def flush(self, store, publish):
        """Store the period's counts with ``store(counts)`` and publish them
        with ``publish(payload)``; returns the counts. A failed store keeps
        them for the next period."""
        with self._flushing:
            return self._flush(store, publish)

    def _flush(self, store, publish):
        counts = self.take()
        if not counts:
            return counts
        try:
            store(counts)
        except Exception as exc:
            LOG.warning('rejected-report counts not stored: %s', exc)
            with self._lock:
                for key, (count, reason) in counts.items():
                    entry = self._pending.setdefault(key, [0, reason])
                    entry[0] += count
            return counts
        for (host, code), (count, reason) in sorted(counts.items()):
            if count > 1:
                LOG.warning('%(host)s: %(count)d reports rejected (%(code)s) '
                            'in the last period, the last: %(reason)s',
                            {'host': host, 'count': count, 'code': code,
                             'reason': reason})
            publish({'host': host, 'code': code, 'count': count,
                     'reason': reason})
        return counts
