"""Assemble the migration manager of a deployment from its configuration.

Kept apart from :mod:`.manager` so that the embedded cloud and the tests can
build a manager from parts (their own Nova connection, their own transport)
while ``sod-migration-manager`` builds everything from ``[nova]``,
``[sod_relocation]``, ``[sod_catalog]`` and ``[sod_database]``. Nothing here talks to
Nova or the database: that starts with :meth:`MigrationManager.start`.
"""

import time

from sod_nova.conf import catalog as catalog_conf
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import manager as manager_mod
from sod_nova.relocation import notifications
from sod_nova.trust import rpc


def build(conf, compute=None, transport=None, clock=time.time):
    """``(manager, listener)``; ``listener`` is None when notifications are
    off (``[sod_relocation] listen_notifications``). ``clock``: the manager's time
    (the embedded cloud's lets a scenario's ``wait`` pass)."""
    if compute is None:
        compute = compute_mod.connect(conf)
    compute.read_image_properties = conf.sod_relocation.read_image_properties
    manager = manager_mod.MigrationManager(
        compute, catalog_conf.load_catalog(conf), conf, clock=clock)
    listener = None
    if conf.sod_relocation.listen_notifications:
        if transport is None:
            transport = rpc.get_notification_transport(conf)
        listener = notifications.get_listener(transport, manager, conf)
    return manager, listener
