"""The embedded cloud's trust agents: the production agent plus attack hooks.

The simulator and the tests attack the trust protocol as an adversary on
the host or the network would: the agent goes silent (its evidence goes
stale), a report signed with a key nobody enrolled arrives (``forge``), a
report the agent sent before arrives again (``replay``), or any envelope
at all (``send``). Those hooks exist only here; the production agent
(:class:`sod_nova.trust.agent.service.TrustAgent`) has none of them.
"""

import collections

from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import keys
from sod_nova.trust.agent import service as agent_service

#: How many sent reports an agent keeps for ``replay``.
KEPT_REPORTS = 8


class SimulatedAgent(agent_service.TrustAgent):
    """A :class:`~sod_nova.trust.agent.service.TrustAgent` that the
    simulator can silence and make send forged or replayed reports."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._silenced = False
        #: The last reports sent, oldest first.
        self.sent = collections.deque(maxlen=KEPT_REPORTS)

    def _report(self, force=False):
        if not self._silenced:
            super()._report(force)

    def _send_report(self, monitor, envelope):
        # Only the agent's own reports are kept: forged or replayed ones
        # (send()) are not, so replay() re-sends a genuine report.
        self.sent.append(envelope)
        super()._send_report(monitor, envelope)

    def _attest(self, nonce):
        if nonce is None:       # forge() before any challenge: no quote
            event_log, pcrs = self.backend.measurements()
            return event_log, pcrs, None
        return super()._attest(nonce)

    def silence(self):
        """Stop reporting (the host's evidence will go stale)."""
        self._silenced = True

    def resume(self):
        """Report again, at once."""
        self._silenced = False
        with self._lock:
            self._want = True
        self._report(force=True)

    def forge(self):
        """Send one report signed with a fresh key nobody enrolled."""
        with self._lock:
            evidence = self._evidence(self._nonce, self.sequence + 1)
        envelope = evidence_mod.sign(evidence, keys.generate_private_key())
        self.send(envelope)
        return envelope

    def replay(self, envelope=None):
        """Send an earlier report again (default: the oldest kept)."""
        if envelope is None:
            if not self.sent:
                raise ValueError('%s has sent no report to replay' % self.host)
            envelope = self.sent[0]
        self.send(envelope)
        return envelope

    def send(self, envelope):
        """Send any envelope as a report (forged, replayed, malformed)."""
        monitor = self._monitor
        if monitor is None:
            raise RuntimeError('the agent of %s is not running' % self.host)
        self._cast(monitor.report_evidence, envelope)
