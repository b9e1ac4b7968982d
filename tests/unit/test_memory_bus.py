"""The embedded cloud's bus (``sod-memory://``) through oslo.messaging's own API.

The driver is found by oslo.messaging through its entry point, as any
transport; servers and listeners on it must get every kind of message the
fake driver delivers (call with reply, cast, fanout, notifications with
pools) and stop when told although nothing wakes them by polling.
"""

import threading

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
import pytest

from sod_nova.cloud import _bus

TIMEOUT = 30  # a failing delivery fails the test instead of hanging it


@pytest.fixture
def transport():
    conf = cfg.ConfigOpts()
    conf([], project='sod-memory-test')
    with conffixture.ConfFixture(conf) as messaging_conf:  # registers its options
        messaging_conf.transport_url = _bus.URL
        transport = oslo_messaging.get_rpc_transport(conf)
        yield transport
        transport.cleanup()


class Endpoint:
    def __init__(self, name):
        self.name = name
        self.casts = []
        self.got = threading.Event()

    def echo(self, ctxt, value):
        return [self.name, value]

    def note(self, ctxt, value):
        self.casts.append(value)
        self.got.set()


def _server(transport, topic, name, endpoint):
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=topic, server=name), [endpoint])
    server.start()
    return server


def _stop(*servers):
    for server in servers:
        server.stop()
        server.wait()


def test_the_driver_is_the_entry_point(transport):
    assert isinstance(transport._driver, _bus.MemoryDriver)


def test_call_cast_and_fanout(transport):
    a, b = Endpoint('a'), Endpoint('b')
    servers = [_server(transport, 'svc', 'a', a), _server(transport, 'svc', 'b', b)]
    try:
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic='svc'), timeout=TIMEOUT)
        assert client.prepare(server='b').call({}, 'echo', value=1) == ['b', 1]
        client.prepare(server='a').cast({}, 'note', value='only a')
        assert a.got.wait(TIMEOUT)
        a.got.clear()
        client.prepare(fanout=True).cast({}, 'note', value='all')
        assert a.got.wait(TIMEOUT) and b.got.wait(TIMEOUT)
        assert a.casts == ['only a', 'all'] and b.casts == ['all']
    finally:
        _stop(*servers)


def test_notifications_reach_each_pool(transport):
    seen = {'p1': [], 'p2': []}
    done = threading.Semaphore(0)

    class Listener:
        def __init__(self, pool):
            self.pool = pool

        def info(self, ctxt, publisher_id, event_type, payload, metadata):
            seen[self.pool].append((event_type, payload))
            done.release()

    targets = [oslo_messaging.Target(topic='events')]
    listeners = [oslo_messaging.get_notification_listener(
        transport, targets, [Listener(pool)], pool=pool)
        for pool in ('p1', 'p2')]
    for listener in listeners:
        listener.start()
    try:
        oslo_messaging.Notifier(transport, 'x', driver='messaging',
                                topics=['events']).info({}, 'host.changed', {'h': 1})
        for _ in range(2):
            assert done.acquire(timeout=TIMEOUT)
    finally:
        _stop(*listeners)
    assert seen == {'p1': [('host.changed', {'h': 1})], 'p2': [('host.changed', {'h': 1})]}


def test_an_idle_server_stops_when_told(transport):
    """Nothing polls an idle listener, so stop() itself must wake it."""
    server = _server(transport, 'idle', 'x', Endpoint('x'))
    stopper = threading.Thread(target=_stop, args=(server,))
    stopper.start()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
