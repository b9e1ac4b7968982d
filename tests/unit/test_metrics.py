"""The services' Prometheus metrics: what a scrape of each endpoint says.

Real SQLite database, real prometheus-client HTTP server on loopback; the
text is parsed with prometheus-client's own parser.
"""

import collections
import socket
import tempfile

from oslo_config import cfg
import pytest

from sod_nova.conf import metrics as metrics_conf
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.db import task_states
from sod_nova.metrics import api as api_metrics
from sod_nova.metrics import exporter
from sod_nova.metrics import relocation as relocation_metrics
from sod_nova.metrics import trust as trust_metrics


def _conf(**values):
    """A configuration of its own with ``values`` in [sod_metrics], read
    from a file (an override would be seen by every ConfigOpts that
    registered the same option group: oslo.config shares its options)."""
    conf = cfg.ConfigOpts()
    metrics_conf.register_opts(conf)
    with tempfile.NamedTemporaryFile('w', suffix='.conf') as f:
        f.write('[sod_metrics]\n' + ''.join(
            '%s = %s\n' % item for item in values.items()))
        f.flush()
        conf(['--config-file', f.name])
    return conf


@pytest.fixture
def endpoint(metrics):
    started = []

    def start(port_option, service):
        served = exporter.Exporter(_conf(**{port_option: metrics.port()}),
                                   port_option, service)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def test_off_by_default_and_on_loopback():
    served = exporter.Exporter(_conf(), 'monitor_port', 'sod-trust-monitor')
    served.start()
    assert not served.enabled and served.port is None
    assert _conf().sod_metrics.bind_host == '127.0.0.1'


def test_a_port_in_use_stops_the_service_with_one_line():
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        served = exporter.Exporter(_conf(monitor_port=port), 'monitor_port',
                                   'sod-trust-monitor')
        with pytest.raises(exporter.MetricsError) as err:
            served.start()
    assert str(err.value).startswith(
        '[sod_metrics] monitor_port: sod-trust-monitor cannot serve metrics '
        'on 127.0.0.1:%d' % port)
    assert '\n' not in str(err.value)


def test_monitor_metrics_move_with_its_counters_and_host_rows(db, endpoint,
                                                             metrics):
    served = endpoint('monitor_port', 'sod-trust-monitor')
    counters = collections.Counter()
    monitor = trust_metrics.MonitorMetrics(served.registry, counters)
    served.start()
    context = db_api.Context()
    db_api.host_set_trust(context, 'hw1', 'trusted', 'ok', 1,
                          architecture='HyperWall')
    db_api.host_set_trust(context, 'hw2', 'untrusted', 'bad', 0,
                          architecture='HyperWall')
    first = metrics.scrape(served.port)
    assert first[('sod_trust_hosts', frozenset({('state', 'trusted')}))] == 1
    assert first[('sod_trust_hosts', frozenset({('state', 'untrusted')}))] == 1
    assert first[('sod_trust_hosts',
                  frozenset({('state', 'unreachable')}))] == 0
    assert first[('sod_trust_reports_total',
                  frozenset({('verdict', 'trusted')}))] == 0
    counters.update({'trusted': 5, 'rejected': 2, 'rejected:replay': 2,
                     'late:stale_nonce': 1, 'batches': 3})
    timed = monitor.timed_batches(lambda envelopes: [len(envelopes)])
    assert timed([1, 2]) == [2]
    db_api.host_set_trust(context, 'hw1', 'unreachable', 'silent', 0)
    second = metrics.scrape(served.port)
    assert second[('sod_trust_reports_total',
                   frozenset({('verdict', 'trusted')}))] == 5
    assert second[('sod_trust_rejections_total',
                   frozenset({('code', 'replay')}))] == 2
    assert second[('sod_trust_late_reports_total',
                   frozenset({('code', 'stale_nonce')}))] == 1
    assert second[('sod_trust_batches_total', frozenset())] == 3
    assert second[('sod_trust_batch_seconds_count', frozenset())] == 1
    assert second[('sod_trust_hosts', frozenset({('state', 'trusted')}))] == 0
    assert second[('sod_trust_hosts',
                   frozenset({('state', 'unreachable')}))] == 1


def test_timed_verifier_observes_each_verify_and_passes_the_rest_on():
    registry = exporter.Exporter(_conf(), 'monitor_port', 'm').registry
    monitor = trust_metrics.MonitorMetrics(registry, collections.Counter())

    class Verifier:
        nonce_key = b'k'

        def verify(self, envelope, lookup, now):
            if envelope == 'boom':
                raise ValueError(envelope)
            return (envelope, lookup(envelope), now)

    timed = monitor.timed_verifier(Verifier())
    assert timed.verify('r', str.upper, 7) == ('r', 'R', 7)
    with pytest.raises(ValueError):
        timed.verify('boom', str.upper, 7)
    assert timed.nonce_key == b'k'
    assert registry.get_sample_value('sod_trust_verify_seconds_count') == 2


def test_manager_metrics_follow_the_task_rows(db, endpoint, metrics):
    served = endpoint('manager_port', 'sod-migration-manager')
    served.registry.register(relocation_metrics.ManagerCollector())
    served.start()
    store = relocation_db.RelocationStore()
    context = db_api.Context()
    fast, _ = store.task_open(context, 'vm-1', 'trust-loss', 'hw1',
                              event_at=100.0)
    slow, _ = store.task_open(context, 'vm-2', 'request-change', 'hw1',
                              kind='cold', event_at=100.0)
    store.task_open(context, 'vm-3', 'trust-loss', 'hw2', event_at=100.0)
    before = metrics.scrape(served.port)
    assert before[('sod_relocation_tasks',
                   frozenset({('state', 'pending')}))] == 3
    assert before[('sod_relocation_call_latency_seconds_count',
                   frozenset())] == 0
    store.task_update(context, fast.id, state=task_states.DONE,
                      migrate_called_at=100.05, finished_at=130.0)
    store.task_update(context, slow.id, state=task_states.MIGRATING,
                      migrate_called_at=102.0)
    after = metrics.scrape(served.port)
    assert after[('sod_relocation_tasks',
                  frozenset({('state', 'pending')}))] == 1
    assert after[('sod_relocation_tasks',
                  frozenset({('state', 'migrating')}))] == 1
    assert after[('sod_relocation_migrations_total', frozenset(
        {('trigger', 'trust-loss'), ('kind', 'live'),
         ('outcome', 'done')}))] == 1
    assert not any(name == 'sod_relocation_migrations_total'
                   and ('kind', 'cold') in labels for name, labels in after)
    assert after[('sod_relocation_call_latency_seconds_count',
                  frozenset())] == 2
    assert after[('sod_relocation_call_latency_seconds_bucket',
                  frozenset({('le', '0.1')}))] == 1
    assert after[('sod_relocation_call_latency_seconds_bucket',
                  frozenset({('le', '2.5')}))] == 2
    assert after[('sod_relocation_call_latency_seconds_sum',
                  frozenset())] == pytest.approx(2.05)


def test_api_requests_counted_by_method_and_status():
    registry = exporter.Exporter(_conf(), 'api_port', 'a').registry

    def app(environ, start_response):
        if environ['PATH_INFO'] == '/crash':
            raise RuntimeError('crash')
        start_response('404 Not Found', [])
        return [b'']

    wrapped = api_metrics.RequestMetrics(app, registry)
    wrapped({'REQUEST_METHOD': 'GET', 'PATH_INFO': '/x'}, lambda *a: None)
    wrapped({'REQUEST_METHOD': 'BREW', 'PATH_INFO': '/x'}, lambda *a: None)
    with pytest.raises(RuntimeError):
        wrapped({'REQUEST_METHOD': 'POST', 'PATH_INFO': '/crash'},
                lambda *a: None)
    value = registry.get_sample_value
    assert value('sod_api_requests_total',
                 {'method': 'GET', 'status': '404'}) == 1
    assert value('sod_api_requests_total',
                 {'method': 'other', 'status': '404'}) == 1
    assert value('sod_api_requests_total',
                 {'method': 'POST', 'status': '500'}) == 1
    assert value('sod_api_request_seconds_count', {'method': 'GET'}) == 1
