"""The embedded cloud runs real Nova services without a test case.

Plain pytest (no nova TestCase): the harness must work the same way in the
``sod-nova simulate`` CLI and in benchmarks.
"""

import threading

from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler import filters
from nova.tests.fixtures import libvirt as fakelibvirt
from oslo_config import cfg
import oslo_messaging
import pytest

from sod_nova.cloud.nova import EmbeddedNova


def _instance_metadata(instance_uuid):
    """Instance metadata as a filter must read it: at boot from the BuildRequest,
    later from the instance in its cell (the RequestSpec carries none)."""
    ctxt = nova_context.get_admin_context()
    try:
        request = objects.BuildRequest.get_by_instance_uuid(ctxt, instance_uuid)
        return 'build_request', dict(request.instance.metadata)
    except exception.BuildRequestNotFound:
        mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt, instance_uuid)
        with nova_context.target_cell(ctxt, mapping.cell_mapping) as cctxt:
            instance = objects.Instance.get_by_uuid(
                cctxt, instance_uuid, expected_attrs=['metadata'])
        return 'cell', dict(instance.metadata)


class RecordingFilter(filters.BaseHostFilter):
    """Passes every host; records what Nova hands a filter for each request."""

    seen = []

    def filter_all(self, filter_obj_list, spec_obj):
        source, metadata = _instance_metadata(spec_obj.instance_uuid)
        RecordingFilter.seen.append({
            'instance_uuid': spec_obj.instance_uuid,
            'extra_specs': dict(spec_obj.flavor.extra_specs),
            'hints': {k: v for k, v in spec_obj.scheduler_hints.items()},
            'metadata': metadata,
            'metadata_source': source,
        })
        return super().filter_all(filter_obj_list, spec_obj)

    def host_passes(self, host_state, spec_obj):
        return True


RECORDING_FILTER = '%s.RecordingFilter' % __name__


def test_start_stop_twice_in_one_process():
    first_server = None
    for round_ in range(2):
        with EmbeddedNova() as nova:
            with pytest.raises(RuntimeError, match='Another EmbeddedNova'):
                EmbeddedNova().setUp()
            nova.start_compute('solo')
            # A fresh cloud: nothing of the previous one is left.
            assert nova.admin_api.get_servers() == []
            server = nova.create_server(name='round-%d' % round_)
            assert server['status'] == 'ACTIVE'
            assert server['OS-EXT-SRV-ATTR:host'] == 'solo'
            assert server['id'] != first_server
            first_server = server['id']


@pytest.fixture(scope='class')
def cloud():
    with EmbeddedNova(extra_filters=[RECORDING_FILTER]) as nova:
        for host in ('cn1', 'cn2', 'cn3'):
            nova.start_compute(host)
        yield nova


class TestEmbeddedNova:

    def test_filter_enabled_by_class_path(self, cloud):
        enabled = cfg.CONF.filter_scheduler.enabled_filters
        assert enabled[-1] == 'RecordingFilter'
        assert RECORDING_FILTER in cfg.CONF.filter_scheduler.available_filters

    def test_live_migration_lets_the_scheduler_choose(self, cloud):
        flavor = cloud.create_flavor(extra_specs={'hw:cpu_policy': 'shared'})
        server = cloud.create_server(
            flavor=flavor, metadata={'sod:options': '1'},
            scheduler_hints={'sod_request': 'c-i'})
        assert server['status'] == 'ACTIVE'
        source = server['OS-EXT-SRV-ATTR:host']

        migration = cloud.live_migrate(server, host=None)

        assert migration['status'] == 'completed'
        assert migration['source_compute'] == source
        dest = cloud.server_host(server)
        assert dest != source and dest in ('cn1', 'cn2', 'cn3')
        assert migration['dest_compute'] == dest
        assert cloud.get_server(server)['status'] == 'ACTIVE'
        # The domain really moved between the fake hypervisors.
        assert cloud.computes[dest].driver._host.get_connection(
        ).lookupByUUIDString(server['id'])
        with pytest.raises(fakelibvirt.libvirtError, match='Domain not found'):
            cloud.computes[source].driver._host.get_connection(
            ).lookupByUUIDString(server['id'])
        # The filter ran at boot and again at the migration, with the same
        # RequestSpec content and the instance metadata from the right place.
        seen = [s for s in RecordingFilter.seen if s['instance_uuid'] == server['id']]
        assert [s['metadata_source'] for s in seen] == ['build_request', 'cell']
        for record in seen:
            assert record['extra_specs'] == {'hw:cpu_policy': 'shared'}
            assert record['hints']['sod_request'] == ['c-i']
            assert record['metadata'] == {'sod:options': '1'}

    def test_refused_live_migration_leaves_server_in_place(self, cloud):
        server = cloud.create_server()
        source = server['OS-EXT-SRV-ATTR:host']
        others = [h for h in cloud.computes if h != source]
        for host in others:
            cloud.set_compute_enabled(host, False, reason='test')
        try:
            migration = cloud.live_migrate(server, host=None)
        finally:
            for host in others:
                cloud.set_compute_enabled(host, True)

        assert migration['status'] == 'error'
        after = cloud.get_server(server)
        assert after['status'] == 'ACTIVE'
        assert after['OS-EXT-SRV-ATTR:host'] == source
        errors = [n for n in cloud.versioned_notifications
                  if n['event_type'] == 'compute_task.migrate_server.error' and
                  n['payload']['nova_object.data']['request_spec']
                  ['nova_object.data']['instance_uuid'] == server['id']]
        assert errors
        fault = errors[0]['payload']['nova_object.data']['reason']
        assert 'No valid host' in fault['nova_object.data']['exception_message']

    def test_metadata_edit_emits_instance_update(self, cloud):
        server = cloud.create_server(metadata={'sod:options': '1'})
        received = []
        arrived = threading.Event()

        def listener(event_type, payload):
            metadata = payload['nova_object.data'].get('metadata', {})
            if event_type == 'instance.update' and metadata.get('sod:options') == '1,2':
                received.append(payload)
                arrived.set()

        class Endpoint:
            def __init__(self):
                self.payloads = []
                self.arrived = threading.Event()

            def info(self, ctxt, publisher_id, event_type, payload, metadata):
                data = payload['nova_object.data']
                if (event_type == 'instance.update' and
                        data['uuid'] == server['id'] and
                        data['metadata'].get('sod:options') == '1,2'):
                    self.payloads.append(payload)
                    self.arrived.set()

        endpoint = Endpoint()
        bus = oslo_messaging.get_notification_listener(
            oslo_messaging.get_notification_transport(cfg.CONF),
            [oslo_messaging.Target(topic='versioned_notifications', exchange='nova')],
            [endpoint], executor='threading', pool='sod-nova-test')
        bus.start()
        cloud.add_notification_listener(listener)
        try:
            metadata = cloud.set_metadata(server, {'sod:options': '1,2'})
            assert metadata == {'sod:options': '1,2'}
            assert arrived.wait(10), 'no instance.update reached the listener'
            assert endpoint.arrived.wait(10), 'no instance.update on the bus'
        finally:
            cloud.remove_notification_listener(listener)
            bus.stop()
            bus.wait()
        data = received[0]['nova_object.data']
        assert data['uuid'] == server['id']
        assert data['metadata'] == {'sod:options': '1,2'}

    def test_pause_and_unpause(self, cloud):
        server = cloud.create_server()
        assert cloud.pause(server)['status'] == 'PAUSED'
        assert cloud.unpause(server)['status'] == 'ACTIVE'
