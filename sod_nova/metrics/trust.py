"""The trust monitor's metrics: reports by verdict, rejections by code, hosts
by trust state, and how long verification and a batch take.

The counts are the monitor's own counters, read at scrape time; the hosts
by state are one ``GROUP BY`` of the host rows (all monitors' hosts).
"""

import time

from oslo_log import log as logging
import prometheus_client
from prometheus_client import core

from sod_nova.db import api as db_api
from sod_nova.db import stats
from sod_nova.db import trust_states
from sod_nova.metrics import exporter

LOG = logging.getLogger(__name__)

#: The monitor's counters that count reports, by verdict.
VERDICTS = ('trusted', 'untrusted', 'rejected', 'late', 'ignored', 'dropped',
            'errors')
#: Seconds: verifying one report (a signature is about 0.1 ms).
VERIFY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05,
                  0.25, 1.0)
#: Seconds: verifying and recording one batch (one transaction).
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                 10.0)


class MonitorMetrics:
    """The metrics of one monitor, in ``registry``; ``counters`` is the
    monitor's :class:`collections.Counter`."""

    def __init__(self, registry, counters):
        self.verify_seconds = prometheus_client.Histogram(
            'sod_trust_verify_seconds', 'Time to verify one report.',
            buckets=VERIFY_BUCKETS, registry=registry)
        self.batch_seconds = prometheus_client.Histogram(
            'sod_trust_batch_seconds', 'Time to verify and record one batch '
            'of reports (one database transaction).',
            buckets=BATCH_BUCKETS, registry=registry)
        registry.register(_MonitorCollector(counters))

    def timed_batches(self, process):
        """``process(envelopes)``, observed in ``sod_trust_batch_seconds``."""
        def timed(envelopes):
            with self.batch_seconds.time():
                return process(envelopes)
        return timed

    def timed_verifier(self, verifier):
        """``verifier`` whose ``verify`` calls are observed in
        ``sod_trust_verify_seconds``."""
        return _TimedVerifier(verifier, self.verify_seconds)


class _TimedVerifier:

    def __init__(self, verifier, histogram):
        self._verifier = verifier
        self._histogram = histogram

    def verify(self, envelope, lookup, now):
        start = time.perf_counter()
        try:
            return self._verifier.verify(envelope, lookup, now)
        finally:
            self._histogram.observe(time.perf_counter() - start)

    def __getattr__(self, name):
        return getattr(self._verifier, name)


class _MonitorCollector(prometheus_client.registry.Collector):

    def __init__(self, counters):
        self._counters = counters

    def collect(self):
        counts = exporter.snapshot(self._counters)
        reports = core.CounterMetricFamily(
            'sod_trust_reports', 'Reports the monitor processed, by verdict '
            '(dropped: the queue was full).', labels=['verdict'])
        for verdict in VERDICTS:
            reports.add_metric([verdict], counts.get(verdict, 0))
        yield reports
        for prefix, name, text in (
                ('rejected:', 'sod_trust_rejections',
                 'Reports rejected, by reason code.'),
                ('late:', 'sod_trust_late_reports',
                 'Reports ignored as late (and answered with a new '
                 'challenge), by reason code.')):
            family = core.CounterMetricFamily(name, text, labels=['code'])
            for key, value in sorted(counts.items()):
                if key.startswith(prefix):
                    family.add_metric([key[len(prefix):]], value)
            yield family
        batches = core.CounterMetricFamily(
            'sod_trust_batches', 'Batches of reports recorded.')
        batches.add_metric([], counts.get('batches', 0))
        yield batches
        hosts = _hosts_by_state()
        if hosts is not None:
            family = core.GaugeMetricFamily(
                'sod_trust_hosts', 'Host rows by trust state (every '
                'monitor\'s hosts: one database).', labels=['state'])
            for state in sorted(set(trust_states.STATES) | set(hosts)):
                family.add_metric([state], hosts.get(state, 0))
            yield family


def _hosts_by_state():
    try:
        return stats.hosts_by_state(db_api.Context())
    except Exception as exc:
        LOG.warning('metrics: hosts by trust state not read: %s', exc)
        return None
