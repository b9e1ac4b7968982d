"""Nova's versioned notifications in the embedded cloud.

Nova's ``FakeVersionedNotifier`` with two outlets: listeners called from one
dispatcher thread (never Nova's), and the message bus, where sod-nova's real
listener code finds them. Why: ``doc/source/contributor/simulator.rst``.
"""

import queue
import threading

import fixtures
from nova import conf as nova_conf
from nova import rpc
from nova.tests.fixtures import notifications as nova_notifications
from oslo_log import log as logging
import oslo_messaging

CONF = nova_conf.CONF
LOG = logging.getLogger(__name__)

_STOP = object()


class NotificationHub:
    """Delivers notifications to listeners from a single dispatcher thread."""

    def __init__(self):
        self._listeners = []
        self._queue = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name='sod-nova-notifications', daemon=True)
        self._thread.start()

    def add_listener(self, callback):
        self._listeners.append(callback)

    def remove_listener(self, callback):
        self._listeners.remove(callback)

    def publish(self, event_type, payload):
        with self._idle:
            self._pending += 1
        self._queue.put((event_type, payload))

    def flush(self, timeout=10.0):
        """Wait until every notification emitted so far reached the listeners.

        :returns: True if they did, False on timeout.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self):
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self):
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            event_type, payload = item
            for listener in list(self._listeners):
                try:
                    listener(event_type, payload)
                except Exception:
                    LOG.exception('Notification listener %r failed on %s',
                                  listener, event_type)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


class _FanOutNotifier(nova_notifications.FakeVersionedNotifier):
    """Records like FakeVersionedNotifier, then fans out to the hub and the bus."""

    hub = None
    bus = None

    def __init__(self, transport, publisher_id, serializer=None, parent=None,
                 test_case_id=None):
        super().__init__(transport, publisher_id, serializer=serializer,
                         parent=parent, test_case_id=test_case_id)
        if parent is not None:
            self.hub = parent.hub
            self.bus = parent.bus

    def _notify(self, priority, ctxt, event_type, payload):
        primitive = self._serializer.serialize_entity(ctxt, payload)
        notification = {
            'publisher_id': self.publisher_id,
            'priority': priority,
            'event_type': event_type,
            'payload': primitive,
        }
        self.versioned_notifications.append(notification)
        self.subscriptions[event_type].received(notification)
        if self.hub is not None:
            self.hub.publish(event_type, primitive)
        if self.bus is not None:
            try:
                bus = self.bus.prepare(publisher_id=self.publisher_id)
                getattr(bus, priority.lower())(ctxt, event_type, payload)
            except Exception:
                LOG.exception('Could not publish %s on the message bus', event_type)


class VersionedNotifications(fixtures.Fixture):
    """Replaces ``nova.rpc.NOTIFIER``; needs ``nova.rpc.init`` to have run.

    :param publish_on_bus: also publish on the notification transport.
    """

    def __init__(self, publish_on_bus=True):
        super().__init__()
        self.publish_on_bus = publish_on_bus

    def _setUp(self):
        self.hub = NotificationHub()
        self.addCleanup(self.hub.stop)
        serializer = getattr(rpc.NOTIFIER, '_serializer', None)
        notifier = _FanOutNotifier(
            rpc.NOTIFIER.transport, rpc.NOTIFIER.publisher_id,
            serializer=serializer, test_case_id='sod-nova-embedded')
        notifier.hub = self.hub
        if self.publish_on_bus:
            notifier.bus = oslo_messaging.Notifier(
                rpc.NOTIFICATION_TRANSPORT, publisher_id=rpc.NOTIFIER.publisher_id,
                driver='messagingv2', serializer=serializer,
                topics=CONF.notifications.versioned_notifications_topics)
        self.notifier = notifier
        self.useFixture(fixtures.MonkeyPatch('nova.rpc.NOTIFIER', notifier))


class NotificationAccess:
    """The notification methods of :class:`~sod_nova.cloud.nova.EmbeddedNova`.

    Expects ``self._notifications`` (a started :class:`VersionedNotifications`)
    and ``self.notifier`` (its notifier).
    """

    def add_notification_listener(self, callback):
        """Call ``callback(event_type, payload)`` for every versioned notification.

        ``payload`` is the serialized payload (``payload['nova_object.data']``;
        for ``instance.update``, ``...['metadata']`` is the instance metadata).
        Called from one dispatcher thread, in emission order; a listener may
        call Nova's API. Exceptions are logged and ignored.
        """
        self._notifications.hub.add_listener(callback)

    def remove_notification_listener(self, callback):
        self._notifications.hub.remove_listener(callback)

    def flush_notifications(self, timeout=10.0):
        """Wait until listeners have seen every notification emitted so far."""
        return self._notifications.hub.flush(timeout)

    @property
    def versioned_notifications(self):
        """Every versioned notification so far: dicts with ``event_type``,
        ``payload``, ``priority``, ``publisher_id``."""
        return list(self.notifier.versioned_notifications)

    def wait_for_notification(self, event_type, n_events=1, timeout=10.0):
        """Block until ``n_events`` of ``event_type`` were emitted; returns them all.

        Raises AssertionError on timeout (Nova's FakeVersionedNotifier).
        """
        return self.notifier.wait_for_versioned_notifications(
            event_type, n_events, timeout)

    def reset_notifications(self):
        self.notifier.reset()
