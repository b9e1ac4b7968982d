"""Simulation backends: hosts whose protection is simulated in software.

For HyperWall, DataSafe and any catalogue architecture (backend
``simulated``), which have no hardware here: they boot the architecture's
golden components and keep a violation counter that the embedded cloud and
the tests set (:meth:`GoldenBootBackend.start_attack`).
"""

import abc

from sod_nova.trust import measurements
from sod_nova.trust.backends import base


class GoldenBootBackend(base.TrustBackend, metaclass=abc.ABCMeta):
    """A simulated host that booted its architecture's golden components.

    Subclasses name their runtime counter in ``COUNTER``; an attack sets it.
    """

    ARCHITECTURE = None
    COUNTER = 'violations'

    def __init__(self, architecture=None):
        super().__init__(architecture)
        self._architecture = self.ARCHITECTURE or architecture
        if not self._architecture:
            raise ValueError('the %s backend needs an architecture'
                             % type(self).__name__)
        self._log = measurements.golden_event_log(self._architecture)
        self._violations = 0

    @property
    def architecture_type(self):
        return self._architecture

    def measurements(self):
        return list(self._log), measurements.replay(self._log)

    def runtime_evidence(self):
        with self._lock:
            return {self.COUNTER: self._violations}

    def start_attack(self, count=3):
        if count < 1:
            raise ValueError('an attack has at least one violation')
        with self._lock:
            self._violations = int(count)
        self._changed()

    def stop_attack(self):
        with self._lock:
            self._violations = 0
        self._changed()


class SimulatedBackend(GoldenBootBackend):
    """A simulated host of any catalogue architecture (``[sod_trust]
    architecture``): every Table III row with the same evidence path."""

    COUNTER = 'violations'
