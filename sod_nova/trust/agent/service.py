"""The trust agent (TMc): signs its backend's evidence and reports it.

It reports a nonce the monitor group signed (each once, never an older one),
every report interval and at once when the evidence changes, one report in
flight at a time; every send is a cast that survives a monitor outage. The
protocol: doc/source/contributor/trust-agent.rst.
"""

import base64
import collections
import threading
import time
import uuid

from oslo_log import log as logging
from oslo_service import service as oslo_service

from sod_nova import hostname
from sod_nova.trust import challenges
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import keys
from sod_nova.trust import rpc
from sod_nova.trust.agent import manager
from sod_nova.trust.monitor import rpcapi as monitor_rpcapi

LOG = logging.getLogger(__name__)

#: How many quoted nonces it remembers, to never quote one twice.
USED_NONCES = 32


class TrustAgent(oslo_service.Service):
    """One host's agent. Construction does no I/O; :meth:`start` does.

    An oslo.service service (``sod-trust-agent`` runs it under the
    launcher): the periodic report is a timer of its thread group, which
    ``wait()`` waits for; the embedded cloud calls :meth:`start` and
    :meth:`stop`.
    """

    def __init__(self, conf, host, backend, private_key, transport=None,
                 enrollment_token=None, clock=time.monotonic,
                 monitor_topic=None, platform=None, challenge_keys=None):
        """``monitor_topic`` overrides ``[sod_trust] monitor_topic`` (the monitor
        this agent reports to); ``platform`` (a
        :class:`sod_nova.trust.platform.LibvirtPlatform`) adds what the
        hypervisor can enforce and runs to each report; ``challenge_keys``
        (the monitor group's challenge public keys) override ``[sod_trust]
        challenge_public_key_file``."""
        super().__init__()
        self.conf = conf
        self.monitor_topic = monitor_topic or conf.sod_trust.monitor_topic
        self.host = hostname.check(host, 'agent host')
        self.backend = backend
        self.platform = platform
        self.private_key = private_key
        self.enrollment_token = enrollment_token
        self.clock = clock
        self._transport = transport
        self._own_transport = transport is None
        self._lock = threading.Lock()
        self._server = None
        self._monitor = None
        self._nonce = None
        self._nonce_at = None
        self._nonce_issued = None
        self._used = collections.deque(maxlen=USED_NONCES)
        self.challenge_keys = challenge_keys
        #: Challenges dropped, by reason (:mod:`sod_nova.trust.challenges`).
        self.dropped_challenges = collections.Counter()
        self._dropped_logged = None
        self._want = False
        self._acked = 0
        self._last_request = None
        self._challenged = False
        self.boot_id = None
        self.sequence = 0
        backend.add_listener(self.report_now)

    # -- life cycle --------------------------------------------------------

    def start(self):
        """Listen for challenges, enroll if told to, ask for a first nonce.

        Raises :class:`~sod_nova.trust.challenges.ChallengeKeyError` when no
        challenge key is configured: an agent that took anyone's challenge
        could be kept from ever reporting verifiable evidence.
        """
        if self.challenge_keys is None:
            self.challenge_keys = load_challenge_keys(self.conf)
        if self._transport is None:
            self._transport = rpc.get_transport(self.conf)
        with self._lock:
            self.boot_id = uuid.uuid4().hex
            self.sequence = self._acked = 0
            self._nonce = self._last_request = None
            self._want = True
        self._monitor = monitor_rpcapi.MonitorAPI(
            self._transport, self.monitor_topic)
        self._server = rpc.get_server(
            self._transport, self.conf.sod_trust.agent_topic, self.host,
            [manager.AgentManager(self)])
        self._server.start()
        self._report(force=True)
        interval = self.conf.sod_trust.report_interval
        self.tg.add_timer_args(interval, self._periodic_report,
                               initial_delay=interval, stop_on_exception=False)
        LOG.info('%(host)s: trust agent started (%(arch)s, boot %(boot)s)',
                 {'host': self.host, 'arch': self.backend.architecture_type,
                  'boot': self.boot_id})

    def stop(self):
        self._monitor = None
        self.tg.stop_timers(wait=True)
        if self._server is not None:
            self._server.stop()
            self._server.wait()
            self._server = None
        if self._own_transport and self._transport is not None:
            self._transport.cleanup()
            self._transport = None

    def _periodic_report(self):
        with self._lock:
            self._want = True
        self._report(force=True)

    # -- protocol ----------------------------------------------------------

    def challenge(self, nonce, immediate, ack=None, credential=None,
                  signature=None):
        """A nonce from the monitor group; ``ack`` names the report it
        accepted; ``credential`` ``{'blob', 'secret'}`` (base64) is for the
        TPM; ``signature`` is the group's over all of them. A challenge the
        group did not sign, or one that would take the agent back in time,
        changes nothing."""
        why = challenges.verify(self.challenge_keys or (), self.host, nonce,
                                immediate, ack, credential, signature)
        issued = challenges.issued_at(nonce) if why is None else None
        with self._lock:
            if why is None:
                why = self._stale(nonce, issued)
            if why is not None:
                self._drop(why)
                return
            self._challenged = True
            if ack and ack['boot_id'] == self.boot_id:
                self._acked = max(self._acked, ack['sequence'])
            self._nonce, self._nonce_issued = nonce, issued
            self._nonce_at = self.clock()
            if immediate:
                self._want = True
        if credential is not None:
            self._activate(credential)
        self._report()

    def _stale(self, nonce, issued):
        """Why a signed challenge is a replay, or None (under the lock): its
        nonce was quoted or is held already, or it was issued before the
        nonce held (the group's challenges only move forward). Nothing is
        remembered beyond the nonce held (see the contributor guide)."""
        if nonce in self._used or nonce == self._nonce:
            return challenges.USED
        if self._nonce is not None and issued < self._nonce_issued:
            return challenges.OLDER
        return None

    def _drop(self, why):
        """Count a dropped challenge; log at most once a report interval
        (a flood must not flood the log too)."""
        self.dropped_challenges[why] += 1
        now = self.clock()
        if (self._dropped_logged is not None and now - self._dropped_logged
                < self.conf.sod_trust.report_interval):
            return
        self._dropped_logged = now
        LOG.warning('%(host)s: challenge dropped (%(why)s): %(what)s; '
                    '%(total)d dropped since the agent started',
                    {'host': self.host, 'why': why, 'what': _DROPPED[why],
                     'total': sum(self.dropped_challenges.values())})

    def _activate(self, credential):
        try:
            self.backend.activate(base64.b64decode(credential['blob']),
                                  base64.b64decode(credential['secret']))
        except Exception as exc:    # the monitor sees the AK still inactive
            LOG.warning('%(host)s: credential activation failed: %(exc)s',
                        {'host': self.host, 'exc': exc})
        else:
            LOG.info('%(host)s: attestation key activated', {'host': self.host})

    def report_now(self):
        """Report as soon as possible (the evidence changed)."""
        with self._lock:
            self._want = True
        self._report()

    def _report(self, force=False):
        """Report if one is wanted, a nonce is at hand and, unless ``force``
        (the periodic report), no report awaits its acknowledgement."""
        monitor = self._monitor
        if monitor is None:
            return
        request = envelope = None
        with self._lock:
            if not self._want or (not force and self.sequence > self._acked):
                return
            now = self.clock()
            if (self._nonce is not None
                    and now - self._nonce_at > self.conf.sod_trust.nonce_max_age / 2):
                self._nonce = None      # kept too long (silenced): ask anew
            if self._nonce is None:
                interval = 2 * self.conf.sod_trust.report_interval
                if (self._last_request is None
                        or now - self._last_request >= interval):
                    self._last_request = now
                    request = self.boot_id
            else:
                try:
                    evidence = self._evidence(self._nonce, self.sequence + 1)
                except Exception as exc:    # e.g. the TPM went away
                    LOG.warning('%(host)s: no evidence to report: %(exc)s; '
                                'retrying at the next report',
                                {'host': self.host, 'exc': exc})
                    return
                self._used.append(self._nonce)
                self._nonce = None
                self._want = False
                self.sequence += 1
                envelope = evidence_mod.sign(evidence, self.private_key)
        if request is not None:
            if self.enrollment_token and not self._challenged:
                # Until a first challenge shows the key is enrolled (a cast
                # to a monitor that is not up yet may be dropped).
                self._enroll(monitor)
            self._cast(monitor.request_challenge, self.host, request)
        elif envelope is not None:
            self._send_report(monitor, envelope)

    def _send_report(self, monitor, envelope):
        """Cast one report this agent signed."""
        self._cast(monitor.report_evidence, envelope)

    def _attest(self, nonce):
        return self.backend.attest(nonce)

    def _evidence(self, nonce, sequence):
        event_log, pcrs, tpm = self._attest(nonce)
        return evidence_mod.Evidence(
            host=self.host, architecture=self.backend.architecture_type,
            boot_id=self.boot_id, sequence=sequence, nonce=nonce,
            timestamp=time.time(), event_log=tuple(event_log), pcrs=pcrs,
            runtime=self.backend.runtime_evidence(), tpm=tpm,
            platform=self.platform.read() if self.platform else None)

    def _enroll(self, monitor):
        public = keys.public_key_text(self.private_key)
        arch = self.backend.architecture_type
        proof = keys.enrollment_proof(self.enrollment_token, self.host, arch,
                                      public)
        self._cast(monitor.enroll, self.host, arch, public, proof)

    def _cast(self, method, *args):
        try:
            method(*args)
        except Exception as exc:  # a broker outage must not stop the agent
            LOG.warning('%(host)s: cannot reach the trust monitor '
                        '(%(what)s): %(exc)s; retrying at the next report',
                        {'host': self.host, 'what': method.__name__, 'exc': exc})


#: What each reason to drop a challenge means, for the log.
_DROPPED = {
    challenges.MALFORMED: 'not a challenge as the monitor sends them',
    challenges.SIGNATURE: 'not signed by the monitor group (someone else '
                          'on the message bus)',
    challenges.USED: 'a nonce already held or quoted (a replay)',
    challenges.OLDER: 'issued before the nonce held (a replay)',
}


def load_challenge_keys(conf):
    """The monitor group's challenge public keys from ``[sod_trust]
    challenge_public_key_file``; raises ChallengeKeyError (one line) when it
    is not set or cannot be used."""
    path = conf.sod_trust.challenge_public_key_file
    if not path:
        raise challenges.ChallengeKeyError(
            '[sod_trust] challenge_public_key_file is not set: the agent '
            'cannot tell the monitor group\'s challenges from anyone\'s '
            '(print the key with "sod-nova trust challenge-key" on a monitor)')
    return challenges.load_public_keys(path)
