"""TPM hosts of the embedded cloud on real software TPMs (swtpm).

With ``tpm_hosts='swtpm'`` (``'auto'`` when swtpm and tpm2-pytss are
installed) each TPM host gets its own swtpm and the real ``tpm`` backend;
the simulator's attack and recovery hooks live here, not in that backend.
See doc/source/contributor/simulator.rst.
"""

import importlib.util

from sod_nova.cloud import swtpm
from sod_nova.trust import measurements
from sod_nova.trust.backends import tpm as tpm_backend

MODES = ('auto', 'swtpm', 'simulated')


def available():
    """Whether swtpm and tpm2-pytss are both installed."""
    return swtpm.available() and importlib.util.find_spec('tpm2_pytss') is not None


def use_swtpm(mode):
    if mode not in MODES:
        raise ValueError('tpm_hosts must be one of %s, not %r'
                         % (', '.join(MODES), mode))
    if mode == 'swtpm' and not available():
        raise RuntimeError('tpm_hosts=swtpm needs swtpm and tpm2-pytss (%s)'
                           % tpm_backend.INSTALL_HINT)
    return mode == 'swtpm' or (mode == 'auto' and available())


class SwtpmHostBackend(tpm_backend.TpmBackend):
    """The ``tpm`` backend on a host's swtpm, with the simulator's hooks."""

    def __init__(self, tpm, architecture='TPM'):
        self.swtpm = tpm
        self._attacks = 0
        super().__init__(
            architecture, tcti=tpm.tcti, measured_files=[],
            boot_events=measurements.golden_event_log(self.ARCHITECTURE))

    def start_attack(self, count=3):
        if count < 1:
            raise ValueError('an attack has at least one violation')
        for _ in range(int(count)):
            name = 'rootkit-%d.ko' % self._attacks
            self._attacks += 1
            self.record_event(name, measurements.component_digest('attacker', name))

    def stop_attack(self):
        """Reboot: the TPM restarts and the golden boot is measured again."""
        with self._tss_lock:
            self.swtpm.restart()
            self._reconnect()
        self._changed()


def start(architecture='TPM'):
    """``(backend, swtpm)`` of a new TPM host; stop both when done."""
    tpm = swtpm.SwTpm().start()
    try:
        return SwtpmHostBackend(tpm, architecture), tpm
    except Exception:
        tpm.stop()
        raise
