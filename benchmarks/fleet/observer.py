"""What the monitor group decided, as an operator sees it.

The group's notifications on RabbitMQ (every trust change and rejected-report
count, timed as they arrive) and the host rows in the shared database (read
on a connection of the observer's own).
"""

import collections
import threading
import time

import oslo_messaging
import sqlalchemy as sa

from sod_nova import trust
from sod_nova.trust.monitor import alerts


class Notifications:
    """Every ``trust_changed`` and ``evidence_rejected`` notification."""

    def __init__(self, transport, topic):
        self._lock = threading.Lock()
        #: (arrival time, payload) of every trust change.
        self.changes = []
        #: (host, code) -> reports rejected.
        self.rejected = collections.Counter()
        self._listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=topic)], [self],
            executor='threading')

    def start(self):
        self._listener.start()

    def stop(self):
        self._listener.stop()
        self._listener.wait()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        now = time.time()
        with self._lock:
            if event_type == trust.TRUST_CHANGED_EVENT:
                self.changes.append((now, payload))
            elif event_type == alerts.EVIDENCE_REJECTED_EVENT:
                self.rejected[payload['host'], payload['code']] += (
                    payload['count'])

    def first_change(self, host, state, since):
        """When ``host`` was first seen going to ``state`` after ``since``."""
        with self._lock:
            for at, change in self.changes:
                if (at >= since and change['host'] == host
                        and change['new_state'] == state):
                    return at
        return None

    def misjudged(self, genuine):
        """Trust changes away from ``trusted`` of hosts genuine at the time
        (``genuine(host, at)``)."""
        with self._lock:
            changes = list(self.changes)
        return [change for at, change in changes
                if change['old_state'] == trust.TRUSTED
                and change['new_state'] != trust.TRUSTED
                and genuine(change['host'], at)]


class HostRows:
    """``sod_hosts`` read directly, as a test or an operator would."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def _rows(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()

    def states(self):
        """host -> state."""
        return dict(self._rows('SELECT host, state FROM sod_hosts'))

    def counts(self):
        """state -> hosts in that state."""
        return dict(self._rows(
            'SELECT state, COUNT(*) FROM sod_hosts GROUP BY state'))

    def not_trusted(self):
        """host -> (state, reason) of every host not trusted now."""
        return {h: (s, r) for h, s, r in self._rows(
            "SELECT host, state, reason FROM sod_hosts WHERE state <> 'trusted'")}

    def evidence_before(self, when):
        """The trusted hosts whose evidence was last written before ``when``."""
        return {h for (h,) in self._rows(
            "SELECT host FROM sod_hosts WHERE state = 'trusted' AND "
            "(last_evidence_at IS NULL OR last_evidence_at < :when)",
            when=when)}

    def dispose(self):
        self.engine.dispose()
