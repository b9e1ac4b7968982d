"""Assemble the migration manager of a deployment from its configuration.

Kept apart from :mod:`.manager` so the embedded cloud and tests can build a
manager from parts; nothing here talks to Nova or the database. The audit
key is read here: no key, no manager. :class:`ManagerService` is what
``sod-migration-manager`` runs under oslo.service's launcher.
"""

import threading
import time

from oslo_service import service as oslo_service

from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import relocation as relocation_db
from sod_nova.metrics import exporter
from sod_nova.metrics import relocation as relocation_metrics
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import manager as manager_mod
from sod_nova.relocation import notifications
from sod_nova.trust import rpc


def build(conf, compute=None, transport=None, clock=time.time):
    """``(manager, listener)``; ``listener`` is None when notifications are
    off (``[sod_relocation] listen_notifications``). ``clock``: the manager's time
    (the embedded cloud's lets a scenario's ``wait`` pass)."""
    # The audit key, read first: a manager that could record none of its
    # decisions must not start (AuditKeyError, one line).
    store = relocation_db.RelocationStore(conf)
    store.audit_key()
    if compute is None:
        compute = compute_mod.connect(conf)
    compute.read_image_properties = conf.sod_relocation.read_image_properties
    manager = manager_mod.MigrationManager(
        compute, catalog_conf.load_catalog(conf), conf, store=store,
        clock=clock)
    listener = None
    if conf.sod_relocation.listen_notifications:
        if transport is None:
            transport = rpc.get_notification_transport(conf)
        listener = notifications.get_listener(transport, manager, conf)
    return manager, listener


def metrics(conf):
    """The manager's metrics endpoint (``[sod_metrics] manager_port``):
    its task rows, read at scrape time (a standby's say what the leader
    did)."""
    served = exporter.Exporter(conf, 'manager_port', 'sod-migration-manager')
    served.registry.register(relocation_metrics.ManagerCollector())
    return served


class ManagerService(oslo_service.ServiceBase):
    """The manager and its notification listener as an oslo.service service.

    With ``leadership`` (a :class:`~sod_nova.relocation.leader.Leadership`)
    the manager acts only while this process holds the lease; a lost lease
    ends the service with :attr:`exit_status` 1, for the supervisor to
    restart the process as a standby. ``metrics`` (see :func:`metrics`)
    serves from start to stop, on a standby too.
    """

    def __init__(self, manager, listener=None, leadership=None, metrics=None):
        super().__init__()
        self.manager = manager
        self.listener = listener
        self.leadership = leadership
        self.metrics = metrics
        self.exit_status = 0
        self._done = threading.Event()
        self._ended = threading.Event()
        self._thread = None

    def start(self):
        self._done.clear()
        self._ended.clear()
        if self.metrics is not None:
            self.metrics.start()
        if self.leadership is None:
            self.manager.start(self.listener)
            return
        self._thread = threading.Thread(
            target=self._lead, name='sod-migration-manager-lease', daemon=True)
        self._thread.start()

    def _lead(self):
        status = 1
        try:
            status = self.leadership.run(
                lambda: self.manager.start(self.listener), self.manager.stop,
                self._done)
        finally:
            self.exit_status = status
            self._ended.set()

    def stop(self):
        self._done.set()
        if self._thread is not None:
            self._thread.join()     # Leadership.run stops the manager
            self._thread = None
        else:
            self.manager.stop()
        if self.metrics is not None:
            self.metrics.stop()
        self._ended.set()

    def wait(self):
        """Return once stopped, or once the lease was lost."""
        self._ended.wait()

    def reset(self):
        """SIGHUP: nothing to rebuild (the launcher mutated the options)."""
