"""Leader election of migration managers: several run, exactly one acts.

Each ``sod-migration-manager`` process tries to hold the database lease
``migration-manager`` (:mod:`sod_nova.db.leases`); the holder runs the
manager, the others stand by and take over once the lease expired. Timing
and hand-over: doc/source/contributor/migration-manager.rst.
"""

import os
import socket
import time

from oslo_log import log as logging

from sod_nova.db import api as db_api
from sod_nova.db import leases

LOG = logging.getLogger(__name__)

ROLE = 'migration-manager'


class Leadership:
    """This process's claim on the ``migration-manager`` lease."""

    def __init__(self, conf, holder=None, role=ROLE, clock=time.time,
                 monotonic=time.monotonic):
        self.conf = conf
        self.holder = holder or '%s:%d' % (socket.gethostname(), os.getpid())
        self.role = role
        self.lease = conf.sod_relocation.leader_lease
        self.interval = self.lease / 3.0
        self._clock = clock
        self._monotonic = monotonic
        self._valid_until = None

    @property
    def held(self):
        """True while this process may act as the leader."""
        return (self._valid_until is not None
                and self._monotonic() < self._valid_until)

    def try_acquire(self):
        """Take or renew the lease once; :attr:`held` afterwards."""
        started = self._monotonic()
        try:
            won = leases.acquire(db_api.Context(), self.role, self.holder,
                                 self.lease, now=self._clock())
        except Exception as exc:   # any database error: keep the margin
            LOG.warning('%(holder)s: cannot renew the %(role)s lease: %(exc)s',
                        {'holder': self.holder, 'role': self.role,
                         'exc': str(exc).splitlines()[0]})
            return self.held
        if won:
            self._valid_until = started + self.lease * 2.0 / 3.0
        else:
            self._valid_until = None
        return self.held

    def release(self):
        self._valid_until = None
        try:
            leases.release(db_api.Context(), self.role, self.holder)
        except Exception as exc:
            LOG.warning('%(holder)s: could not release the %(role)s lease '
                        '(it expires by itself): %(exc)s',
                        {'holder': self.holder, 'role': self.role,
                         'exc': str(exc).splitlines()[0]})

    def run(self, start, stop, done):
        """Wait as a standby, act as the leader until ``done`` is set.

        ``start()``/``stop()`` start and stop the manager; ``done`` is a
        :class:`threading.Event`. Returns 0 after ``done``, 1 when the
        leadership was lost (the manager is stopped then).
        """
        LOG.info('%(holder)s: standby for the %(role)s lease (%(lease)s s)',
                 {'holder': self.holder, 'role': self.role,
                  'lease': self.lease})
        while not self.try_acquire():
            if done.wait(self.interval):
                return 0
        LOG.info('%(holder)s: leader of %(role)s; acting',
                 {'holder': self.holder, 'role': self.role})
        start()
        try:
            while not done.wait(self.interval):
                if not self.try_acquire():
                    LOG.error('%(holder)s: lost the %(role)s lease; stopping '
                              'so that a standby takes over',
                              {'holder': self.holder, 'role': self.role})
                    return 1
        finally:
            stop()
        self.release()
        return 0
