"""The embedded cloud's trust agents: the production agent plus attack hooks.

The simulator and the tests attack the trust protocol as an adversary on the
host or the network would (silence, ``forge``, ``replay``, ``send``,
:class:`ChallengeForger`); the production agent
(:class:`sod_nova.trust.agent.service.TrustAgent`) has none of these hooks.
"""

import collections
import time

from sod_nova.trust import challenges
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.agent import service as agent_service

#: How many sent reports an agent keeps for ``replay``.
KEPT_REPORTS = 8
#: How many challenges an agent keeps as someone on the bus records them.
KEPT_CHALLENGES = 8


class SimulatedAgent(agent_service.TrustAgent):
    """A :class:`~sod_nova.trust.agent.service.TrustAgent` that the
    simulator can silence and make send forged or replayed reports."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._silenced = False
        #: The last reports sent, oldest first.
        self.sent = collections.deque(maxlen=KEPT_REPORTS)
        #: The last genuine challenges taken (as the bus carried them: what
        #: someone recording it could replay), oldest first.
        self.received = collections.deque(maxlen=KEPT_CHALLENGES)

    def challenge(self, nonce, immediate, ack=None, credential=None,
                  signature=None):
        dropped = sum(self.dropped_challenges.values())
        super().challenge(nonce, immediate, ack, credential, signature)
        if sum(self.dropped_challenges.values()) == dropped:
            self.received.append({'nonce': nonce, 'immediate': immediate,
                                  'ack': ack, 'credential': credential,
                                  'signature': signature})

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


class ChallengeForger:
    """Someone on the message bus who sends a host's agent challenges the
    monitor group never issued, in turn: a well-formed nonce with no
    signature, one signed with a key of its own, and a genuine challenge it
    recorded earlier, replayed. Each would, if the agent took it, make the
    agent's next report quote a nonce the monitor rejects."""

    KINDS = ('unsigned', 'own_key', 'replayed')

    def __init__(self, transport, topic):
        self._agents = agent_rpcapi.AgentAPI(transport, topic)
        self._key = keys.generate_private_key()
        self._nonce_key = nonces.generate_key()
        self.sent = collections.Counter()

    def send(self, agent):
        """Cast the next kind of bogus challenge to ``agent``'s host."""
        kind = self.KINDS[sum(self.sent.values()) % len(self.KINDS)]
        host = agent.host
        recorded = agent.received[-1] if agent.received else None  # held or used
        if kind == 'replayed' and recorded is None:
            kind = 'unsigned'
        if kind == 'replayed':
            args = dict(recorded)
        else:
            nonce = nonces.issue(self._nonce_key, host, time.time())
            signature = (challenges.sign(self._key, host, nonce, True)
                         if kind == 'own_key' else None)
            args = {'nonce': nonce, 'immediate': True, 'ack': None,
                    'credential': None, 'signature': signature}
        self._agents.challenge(host, **args)
        self.sent[kind] += 1
        return kind
