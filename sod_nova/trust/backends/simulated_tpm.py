"""A simulated TPM (paper [20]): a software event log and PCR bank.

Backend ``simulated-tpm``, for the embedded cloud and the simulator: a TPM
host without a TPM, so nothing it reports is backed by a quote (the ``tpm``
backend talks to a real TPM 2.0). Its PCR bank is kept apart from its event
log, as in a real TPM. See doc/source/contributor/trust-plane.rst.
"""

from sod_nova.trust import measurements
from sod_nova.trust.backends import base

#: The PCR runtime measurements go into (Linux IMA's default).
RUNTIME_PCR = 10


class SimulatedTpmBackend(base.TrustBackend):

    ARCHITECTURE = 'TPM'

    def __init__(self, architecture=None):
        super().__init__(architecture)
        self._reboot()

    def _reboot(self):
        self._log = []
        self._pcrs = {}
        for event in measurements.golden_event_log(self.ARCHITECTURE):
            self._measure(event)

    def _measure(self, event):
        self._log.append(event)
        old = bytes.fromhex(self._pcrs.get(event.pcr, measurements.ZERO_PCR.hex()))
        self._pcrs[event.pcr] = measurements.extend(old, event.digest).hex()

    @property
    def architecture_type(self):
        return self.ARCHITECTURE

    def measurements(self):
        with self._lock:
            return list(self._log), dict(self._pcrs)

    def runtime_evidence(self):
        return {}

    def start_attack(self, count=3):
        if count < 1:
            raise ValueError('an attack has at least one violation')
        with self._lock:
            for i in range(int(count)):
                name = 'rootkit-%d.ko' % i
                self._measure(measurements.Event(
                    RUNTIME_PCR,
                    measurements.component_digest('attacker', name), name))
        self._changed()

    def stop_attack(self):
        """The host is rebooted into its golden image."""
        with self._lock:
            self._reboot()
        self._changed()

    def tamper_log(self):
        """Drop the last event from the log but not from the PCRs."""
        with self._lock:
            self._log.pop()
        self._changed()
