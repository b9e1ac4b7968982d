"""The services' metrics endpoints, scraped while the embedded cloud moves a VM.

Real Nova, the real monitor, agents and migration manager of the embedded
cloud and sod-nova-api, their ``[sod_metrics]`` endpoints on loopback: each
scrape is parsed with prometheus-client's parser, and the figures must
follow what happened (hosts trusted, then one untrusted; reports counted; a
migration done and its detection-to-call latency observed; API requests
counted by status).
"""

import urllib.error
import urllib.request

from sod_nova.cloud import api_server
from sod_nova.cloud import embedded
from sod_nova.cloud import noauth

REQUEST = {'sod:options': '1,2'}        # HyperWall satisfies it


def hosts(sample, state):
    return sample[('sod_trust_hosts', frozenset({('state', state)}))]


def test_metrics_follow_an_attack_and_the_move_it_causes(metrics):
    ports = {'monitor_port': metrics.port(), 'manager_port': metrics.port(),
             'api_port': metrics.port()}
    overrides = {('sod_metrics', name): port for name, port in ports.items()}
    overrides[('sod_api', 'auth_strategy')] = 'noauth2'
    with embedded.EmbeddedCloud(conf_overrides=overrides) as cloud:
        base_url = cloud.nova.api_fixture.base_url
        cloud.conf.set_override('endpoint_override', base_url, 'nova')
        api = cloud.useFixture(api_server.LoopbackAPI(
            cloud.conf, nova_service=noauth.connect(base_url, 'sod-service')))
        cloud.addCleanup(cloud.conf.clear_override, 'endpoint_override',
                         'nova')
        for host in ('hw1', 'hw2'):
            cloud.add_host(host, 'HyperWall')
        vm = cloud.nova.create_server(name='vm', metadata=REQUEST)['id']
        cloud.settle()
        monitor = metrics.scrape(ports['monitor_port'])
        manager = metrics.scrape(ports['manager_port'])
        assert hosts(monitor, 'trusted') == 2
        assert hosts(monitor, 'untrusted') == 0
        trusted_reports = monitor[('sod_trust_reports_total',
                                   frozenset({('verdict', 'trusted')}))]
        assert trusted_reports >= 2
        assert monitor[('sod_trust_batch_seconds_count', frozenset())] >= 1
        assert monitor[('sod_trust_verify_seconds_count', frozenset())] >= 2
        assert manager[('sod_relocation_call_latency_seconds_count',
                        frozenset())] == 0
        source = cloud.nova.server_host(vm)
        cloud.fleet.backend(source).start_attack()
        cloud.wait_for_state(source, ('untrusted',))
        cloud.settle()
        assert cloud.nova.server_host(vm) != source
        monitor = metrics.scrape(ports['monitor_port'])
        manager = metrics.scrape(ports['manager_port'])
        assert hosts(monitor, 'untrusted') == 1
        assert hosts(monitor, 'trusted') == 1
        assert monitor[('sod_trust_reports_total', frozenset(
            {('verdict', 'untrusted')}))] >= 1
        assert monitor[('sod_trust_reports_total', frozenset(
            {('verdict', 'trusted')}))] > trusted_reports
        assert manager[('sod_relocation_migrations_total', frozenset(
            {('trigger', 'trust-loss'), ('kind', 'live'),
             ('outcome', 'done')}))] == 1
        assert manager[('sod_relocation_call_latency_seconds_count',
                        frozenset())] == 1
        assert all(manager[('sod_relocation_tasks',
                            frozenset({('state', state)}))] == 0
                   for state in ('pending', 'migrating', 'parked'))
        admin = {'X-Auth-Token': 'admin:%s' % cloud.nova.api_fixture.project_id,
                 'X-Roles': 'admin'}
        for path in ('/hosts', '/hosts/hw1', '/hosts/nosuchhost'):
            request = urllib.request.Request(api.url + path, headers=admin)
            try:
                urllib.request.urlopen(request, timeout=60).close()
            except urllib.error.HTTPError as exc:
                exc.close()
        requests = metrics.scrape(ports['api_port'])
        assert requests[('sod_api_requests_total', frozenset(
            {('method', 'GET'), ('status', '200')}))] == 2
        assert requests[('sod_api_requests_total', frozenset(
            {('method', 'GET'), ('status', '404')}))] == 1
        assert requests[('sod_api_request_seconds_count', frozenset(
            {('method', 'GET')}))] == 3
