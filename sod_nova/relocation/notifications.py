"""oslo.messaging endpoints feeding the migration manager.

The trust monitor's ``sod.host.trust_changed`` and Nova's versioned
``instance.update`` start work; the endpoints only hand the manager a host
name or a VM id and return, so decisions happen on the manager's thread.
Topics and pool: doc/source/contributor/migration-manager.rst.
"""

import datetime

from oslo_log import log as logging
import oslo_messaging
from oslo_utils import timeutils

from sod_nova import trust

LOG = logging.getLogger(__name__)

TRUST_CHANGED = trust.TRUST_CHANGED_EVENT
INSTANCE_UPDATE = 'instance.update'


def _event_time(metadata):
    """The publish time of a notification, as epoch seconds (or None)."""
    stamp = (metadata or {}).get('timestamp')
    if not stamp:
        return None
    try:
        return timeutils.normalize_time(
            timeutils.parse_isotime(str(stamp))).replace(
                tzinfo=datetime.UTC).timestamp()
    except ValueError:
        return None


def instance_update_fields(payload):
    """``(uuid, metadata)`` of a versioned ``instance.update`` payload."""
    data = (payload or {}).get('nova_object.data') or {}
    return data.get('uuid'), data.get('metadata')


class RelocationEndpoint:
    """Routes the two notifications to :class:`.manager.MigrationManager`."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r'^(%s|%s)$' % (TRUST_CHANGED.replace('.', r'\.'),
                                   INSTANCE_UPDATE.replace('.', r'\.')))

    def __init__(self, manager):
        self.manager = manager

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type == TRUST_CHANGED:
            self.manager.trust_changed(payload, _event_time(metadata))
        elif event_type == INSTANCE_UPDATE:
            vm, vm_metadata = instance_update_fields(payload)
            if vm:
                self.manager.instance_updated(vm, vm_metadata,
                                              _event_time(metadata))
        return oslo_messaging.NotificationResult.HANDLED


def get_listener(transport, manager, conf):
    """The notification listener of ``manager`` (start/stop it with it)."""
    targets = [
        oslo_messaging.Target(topic=conf.sod_trust.notification_topic),
        oslo_messaging.Target(topic=conf.sod_relocation.nova_notification_topic,
                              exchange=conf.sod_relocation.nova_exchange),
    ]
    return oslo_messaging.get_notification_listener(
        transport, targets, [RelocationEndpoint(manager)],
        executor='threading', pool=conf.sod_relocation.notification_pool)
