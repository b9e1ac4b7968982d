"""The interface every evidence backend implements (one per architecture family).

A backend tells the agent (TMc) its host's architecture, boot measurements
and runtime security health; the agent signs and sends, the backend never
talks to the monitor. Backends are stevedore plugins of the
``sod_nova.trust.backends`` namespace (:func:`sod_nova.trust.backends.load`).
"""

import abc
import threading


class TrustBackend(abc.ABC):
    """Evidence source of one host.

    The interface has no way to inject an attack: a real backend reports
    what its hardware measured. The simulation backends
    (:mod:`.simulated`, :mod:`.simulated_tpm`) add ``start_attack`` and
    ``stop_attack``, for the embedded cloud and the tests.
    """

    def __init__(self, architecture=None):
        self._lock = threading.Lock()
        self._listeners = []

    @property
    @abc.abstractmethod
    def architecture_type(self):
        """The catalogue name of this host's architecture (e.g. ``HyperWall``)."""

    @abc.abstractmethod
    def measurements(self):
        """``(event_log, pcrs)`` of the measured boot.

        ``event_log`` is a list of :class:`~sod_nova.trust.measurements.Event`
        in measurement order; ``pcrs`` maps PCR index to the hex value the
        platform quotes. The monitor replays the log, so the two must agree
        on an honest host.
        """

    def attest(self, nonce):
        """``(event_log, pcrs, tpm)`` for a report quoting ``nonce``.

        ``tpm`` is the TPM quote backing ``pcrs`` (see
        :mod:`sod_nova.trust.attestation`), or None for a backend without a
        TPM (then only the agent's signature vouches for the values).
        """
        event_log, pcrs = self.measurements()
        return event_log, pcrs, None

    def identity(self):
        """``{name: text}`` the operator enrolls besides the host key (a
        TPM's endorsement key); empty for backends without one."""
        return {}

    def activate(self, blob, encrypted_seed):
        """Activate a credential the monitor made for this host's TPM."""
        raise NotImplementedError('%s has no TPM to activate a credential'
                                  % type(self).__name__)

    @abc.abstractmethod
    def runtime_evidence(self):
        """``{counter name: count}`` of violations seen by the protection.

        Every counter counts violations currently being reported (0 on a
        healthy host); any non-zero counter makes the host untrusted.
        """

    def add_listener(self, callback):
        """Call ``callback()`` whenever the evidence changes.

        A hardware monitor raises an interrupt on a violation; the agent uses
        this to report at once instead of at its next periodic report.
        """
        self._listeners.append(callback)

    def _changed(self):
        for callback in list(self._listeners):
            callback()
