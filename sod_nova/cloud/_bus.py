"""The embedded cloud's message bus: in memory, listeners woken, not polling.

``sod-memory://`` delivers as oslo.messaging's ``fake://`` does, but wakes a
listener when a message is queued instead of every 50 ms; one process only.
:class:`MemoryBus` is Nova's ``RPCFixture`` on it
(``doc/source/contributor/simulator.rst``).
"""

import threading
import time

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture
from oslo_messaging._drivers import base
from oslo_messaging._drivers import impl_fake

URL = 'sod-memory:/'


class _Exchange(impl_fake.FakeExchange):
    """A fake exchange that wakes the listeners of the queues it delivers to."""

    def __init__(self, name):
        super().__init__(name)
        self._waiters = {}  # (topic, server or None) -> {listener's event}

    def subscribe(self, target, event):
        with self._queues_lock:
            self._waiters.setdefault((target.topic, target.server), set()).add(event)

    def unsubscribe(self, target, event):
        with self._queues_lock:
            self._waiters.get((target.topic, target.server), set()).discard(event)

    def deliver_message(self, topic, ctxt, message, server=None, fanout=False,
                        reply_q=None):
        with self._queues_lock:
            super().deliver_message(topic, ctxt, message, server=server,
                                    fanout=fanout, reply_q=reply_q)
            # Which queues got it is the fake exchange's rule: fanout, every
            # server queue of the topic; a server, its queue; else every
            # pool's topic queue.
            if fanout:
                keys = [k for k in self._waiters if k[0] == topic and k[1]]
            else:
                keys = [(topic, server)]
            events = [e for k in keys for e in self._waiters.get(k, ())]
        for event in events:
            event.set()


class _ExchangeManager(impl_fake.FakeExchangeManager):
    _exchanges_lock = threading.Lock()
    _exchanges = {}  # its own, apart from fake://'s

    def get_exchange(self, name):
        if name is None:
            name = self._default_exchange
        with self._exchanges_lock:
            return self._exchanges.setdefault(name, _Exchange(name))


class _Listener(impl_fake.FakeListener):
    """Waits for a delivery (or the poll's timeout) instead of sleeping 50 ms."""

    def __init__(self, exchange_manager, targets, pool=None):
        super().__init__(exchange_manager, targets, pool)
        self._wakeup = threading.Event()
        for target in self._targets:
            exchange_manager.get_exchange(target.exchange).subscribe(
                target, self._wakeup)

    @base.batch_poll_helper
    def poll(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stopped.is_set():
            # Cleared before looking, so a delivery after the look is seen.
            self._wakeup.clear()
            for target in self._targets:
                exchange = self._exchange_manager.get_exchange(target.exchange)
                ctxt, message, reply_q, requeue = exchange.poll(target, self._pool)
                if message is not None:
                    return impl_fake.FakeIncomingMessage(ctxt, message, reply_q,
                                                         requeue)
            if deadline is None:
                self._wakeup.wait()
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wakeup.wait(left)
        return None

    def stop(self):
        super().stop()
        self._wakeup.set()

    def cleanup(self):
        for target in self._targets:
            self._exchange_manager.get_exchange(target.exchange).unsubscribe(
                target, self._wakeup)


class MemoryDriver(impl_fake.FakeDriver):
    """oslo.messaging driver ``sod-memory``: ``fake://`` without the polling."""

    def __init__(self, conf, url, default_exchange=None, allowed_remote_exmods=None):
        super().__init__(conf, url, default_exchange, allowed_remote_exmods)
        self._exchange_manager = _ExchangeManager(default_exchange)

    def listen(self, target, batch_size, batch_timeout):
        exchange = target.exchange or self._default_exchange
        listener = _Listener(self._exchange_manager, [
            oslo_messaging.Target(topic=target.topic, server=target.server,
                                  exchange=exchange),
            oslo_messaging.Target(topic=target.topic, exchange=exchange)])
        return base.PollStyleListenerAdapter(listener, batch_size, batch_timeout)

    def listen_for_notifications(self, targets_and_priorities, pool, batch_size,
                                 batch_timeout):
        targets = [oslo_messaging.Target(topic='%s.%s' % (target.topic, priority),
                                         exchange=target.exchange)
                   for target, priority in targets_and_priorities]
        listener = _Listener(self._exchange_manager, targets, pool)
        return base.PollStyleListenerAdapter(listener, batch_size, batch_timeout)


class MemoryBus(fixtures.Fixture):
    """Nova's ``RPCFixture`` (nova/tests/fixtures/nova.py) on ``sod-memory:/``.

    As there, every transport Nova asks for (a cell's, the notifications')
    is the one bus, and messages still queued are dropped on cleanUp.
    """

    def __init__(self, conf=cfg.CONF):
        super().__init__()
        self.conf = conf
        self._buses = {}

    def _create_transport(self, url):
        from nova import rpc as nova_rpc

        # As RPCFixture: one bus, whatever URL a cell mapping names.
        if None not in self._buses:
            self._buses[None] = oslo_messaging.get_rpc_transport(
                self.conf, url=None,
                allowed_remote_exmods=nova_rpc.get_allowed_exmods())
        return self._buses[None]

    def _setUp(self):
        # Imported here: oslo.messaging loads the driver above without Nova.
        from nova import rpc as nova_rpc

        self.addCleanup(nova_rpc.cleanup)
        nova_rpc.add_extra_exmods()
        self.addCleanup(nova_rpc.clear_extra_exmods)
        messaging_conf = conffixture.ConfFixture(self.conf)
        messaging_conf.transport_url = URL
        self.useFixture(messaging_conf)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.rpc.create_transport', self._create_transport))
        # As RPCFixture: initialise with no URL, so that the default transport
        # is the one cached above.
        with fixtures.MonkeyPatch('nova.rpc.get_transport_url',
                                  lambda url_str=None: None):
            nova_rpc.init(self.conf)
        self.addCleanup(_ExchangeManager._exchanges.clear)
