"""The notification endpoint only translates: what reaches the manager."""

import datetime

import oslo_messaging

from sod_nova.relocation import notifications


class Recorder:
    """Stands in for the manager's two trigger methods."""

    def __init__(self):
        self.calls = []

    def trust_changed(self, payload, event_at=None):
        self.calls.append(('trust', payload['host'], event_at))

    def instance_updated(self, vm, metadata=None, event_at=None):
        self.calls.append(('vm', vm, metadata, event_at))


STAMP = '2026-11-26 23:30:00.500000'
EPOCH = datetime.datetime(2026, 11, 26, 23, 30, 0, 500000,
                          tzinfo=datetime.UTC).timestamp()


def test_trust_change_and_instance_update_are_routed_with_publish_time():
    recorder = Recorder()
    endpoint = notifications.RelocationEndpoint(recorder)
    assert endpoint.info({}, 'sod-trust-monitor.m1', 'sod.host.trust_changed',
                         {'host': 'hw1', 'new_state': 'untrusted'},
                         {'timestamp': STAMP}) == (
        oslo_messaging.NotificationResult.HANDLED)
    endpoint.info({}, 'nova-api:ctl', 'instance.update',
                  {'nova_object.data': {'uuid': 'vm1',
                                        'metadata': {'sod:options': '1'}}},
                  {'timestamp': STAMP})
    assert recorder.calls == [
        ('trust', 'hw1', EPOCH),
        ('vm', 'vm1', {'sod:options': '1'}, EPOCH)]


def test_payload_without_uuid_and_bad_timestamp_are_harmless():
    recorder = Recorder()
    endpoint = notifications.RelocationEndpoint(recorder)
    endpoint.info({}, 'nova', 'instance.update', {}, {})
    endpoint.info({}, 'm', 'sod.host.trust_changed', {'host': 'hw2'},
                  {'timestamp': 'yesterday'})
    assert recorder.calls == [('trust', 'hw2', None)]


def test_filter_accepts_only_the_two_event_types():
    rule = notifications.RelocationEndpoint.filter_rule
    def match(event_type):
        return rule.match({}, 'nova-compute:hw1', event_type, {}, {})
    assert match('instance.update')
    assert match('sod.host.trust_changed')
    assert not match('instance.update.start')
    assert not match('instanceXupdate')
