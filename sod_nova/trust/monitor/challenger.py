"""The monitor's challenges: group nonces, signed, and their rate limits.

Every challenge carries a group nonce (:mod:`sod_nova.trust.nonces`) and the
group's signature (:mod:`sod_nova.trust.challenges`); challenges are limited
per host and cause, so that no flood makes an agent attest without pause.
See doc/source/contributor/trust-plane.rst.
"""

import contextlib

from oslo_log import log as logging

from sod_nova import hostname
from sod_nova.trust import challenges
from sod_nova.trust import nonces
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)


class Challenger:
    """Issues one monitor's challenges to the agents.

    ``serves(host, architecture)``: whether the monitor serves a host;
    ``enrollments``: its :class:`~.enrollments.EnrollmentCache`.
    """

    def __init__(self, conf, enrollments, serves, clock):
        self.conf = conf
        self._enrollments = enrollments
        self._serves = serves
        self._clock = clock
        #: The group's nonce key (set before :meth:`start`, or read there
        #: from ``[sod_trust] nonce_key_file``).
        self.nonce_key = None
        self._key = None
        self._agents = None
        self._requested = {}      # host -> monitor time (request)
        self._rechallenged = {}   # enrolled host -> monitor time
        self._acks = None         # (host, ack) held by batched()

    def load_keys(self):
        """The group's nonce key (from ``[sod_trust] nonce_key_file``, else
        as set) and the challenge key derived from it."""
        key_file = self.conf.sod_trust.nonce_key_file
        if key_file:
            self.nonce_key = nonces.load_key(key_file)
        elif self.nonce_key is None:
            raise nonces.NonceKeyError(
                '[sod_trust] nonce_key_file is not set: the agents check the '
                'group\'s challenges with a key derived from it (create one '
                'with "openssl rand -hex 32", mode 0600)')
        self._key = challenges.signing_key(self.nonce_key)

    def start(self, agents):
        """Cast through ``agents`` (an
        :class:`~sod_nova.trust.agent.rpcapi.AgentAPI`) from now on."""
        self._agents = agents

    def request(self, host, limited=False):
        """Issue a nonce to ``host`` and ask for an immediate report;
        ``limited`` (a request from the bus, which anyone can send): at most
        every ``report_interval``/4 per host. Never raises."""
        try:
            if not hostname.is_valid(host):
                LOG.warning('challenge requested for an invalid host name; '
                            'ignored')
                return
            record = self._enrollments.get(host, self._clock())
            if record is None:
                LOG.warning('%(host)s: challenge requested by a host with no '
                            'enrolled key; ignored', {'host': host})
                return
            if not self._serves(host, record.architecture):
                return
            if limited and not self._not_within(self._requested, host):
                return
            self._cast(host, immediate=True)
        except Exception:
            LOG.exception('%(host)s: challenge failed', {'host': host})

    def challenge_all(self, rows):
        """Challenge every enrolled host of ``rows`` (enrollment rows) the
        monitor serves (at start)."""
        for row in rows:
            if row.public_key and self._serves(row.host, row.architecture):
                self.request(row.host)

    def acknowledge(self, host, freshness):
        """The next challenge after an accepted report, acknowledging it
        (held until the end of :meth:`batched` if within it)."""
        ack = {'boot_id': freshness.boot_id, 'sequence': freshness.sequence}
        if self._acks is not None:
            self._acks.append((host, ack))
        else:
            self._cast(host, immediate=False, ack=ack)

    @contextlib.contextmanager
    def batched(self):
        """Acknowledgements made within (by one thread: the recorder's) are
        cast at its end under one signature of the group
        (:func:`~sod_nova.trust.challenges.sign_many`), not one each."""
        self._acks = []
        try:
            yield
        finally:
            acks, self._acks = self._acks, None
            self._cast_acks(acks)

    def _cast_acks(self, acks):
        try:
            issued = nonces.issue_many(self.nonce_key, [h for h, _a in acks],
                                       self._clock())
            signatures = challenges.sign_many(self._key, [
                (host, nonce, False, ack)
                for (host, ack), nonce in zip(acks, issued, strict=True)])
        except Exception as exc:
            LOG.warning('%(n)d acknowledgements not sent: %(exc)s',
                        {'n': len(acks), 'exc': exc})
            return
        for (host, ack), nonce, signature in zip(acks, issued, signatures,
                                                 strict=True):
            try:
                self._agents.challenge(host, nonce, False, ack, None,
                                       signature)
            except Exception as exc:
                LOG.warning('%(host)s: challenge not sent: %(exc)s',
                            {'host': host, 'exc': exc})

    def rechallenge(self, record, ack=None, awaiting=None):
        """Challenge an enrolled host at once after a rejected or late
        report, at most every ``report_interval``/4 (a host the monitor
        serves only). For a report ``awaiting`` its AK's activation, the
        challenge carries a new credential; the same limit bounds how fast
        credentials are minted (a flood of replays cannot push the one the
        agent is opening out of the pending few)."""
        if not self._serves(record.host, record.architecture):
            return
        if not self._not_within(self._rechallenged, record.host):
            return
        credential = (tpm_enrollment.credential(
            awaiting, record, self._enrollments.database)
            if awaiting is not None else None)
        self._cast(record.host, immediate=True, ack=ack, credential=credential)

    def _not_within(self, last_times, host):
        """Whether ``host``'s last time in ``last_times`` is at least
        ``report_interval``/4 ago; if so, now becomes its last time. One table
        per cause, so that requests from the bus (anyone's) never hold back a
        re-challenge after a rejected report."""
        now = self._clock()
        last = last_times.get(host)
        if last is not None and 0 <= now - last < (
                self.conf.sod_trust.report_interval / 4):
            return False
        last_times[host] = now
        return True

    def _cast(self, host, immediate, ack=None, credential=None):
        try:
            nonce = nonces.issue(self.nonce_key, host, self._clock())
            self._agents.challenge(
                host, nonce, immediate, ack, credential, challenges.sign(
                    self._key, host, nonce, immediate, ack, credential))
        except Exception as exc:
            LOG.warning('%(host)s: challenge not sent: %(exc)s',
                        {'host': host, 'exc': exc})
