"""The trust monitor (TMs): verifies evidence and keeps host trust rows.

Reports arrive as casts and are queued; one worker verifies them in batches
with the pure :class:`~sod_nova.trust.verify.Verifier` and records each
batch in one database transaction (:func:`sod_nova.db.enrollment.
advance_many`): the host's report freshness moves on only if no other
replica moved it meanwhile, and the host row is written in the same
transaction when the verdict changed or its evidence time needs refreshing
(at most every ``evidence_max_age``/4). Accepted reports are acknowledged
with the next nonce; trust changes publish ``sod.host.trust_changed`` and
call the in-process listeners. A periodic sweep marks hosts whose evidence
is older than ``evidence_max_age`` ``unreachable`` and flushes the counts of
rejected reports (:mod:`.alerts`).

Three outcomes (see :mod:`sod_nova.trust.verify`): an attributable report
sets the host's state; a rejected one (not attributable) changes nothing, is
counted and alerted, and the host is challenged at once so that a genuine
violation is still seen within one report interval; a late one is ignored
and the host challenged again. Placement: a host with a recent rejected
report keeps its state and so may still receive new VMs. The rejected report
carries no information about the host, only about someone on the bus; the
re-challenge brings the host's genuine evidence within one report interval;
and refusing placement on it would hand anyone on the bus a lever to drain
the cloud's capacity. The operator sees the counts and the notification.

Nonces are the group's (:mod:`sod_nova.trust.nonces`), and so is the key
that signs every challenge (:mod:`sod_nova.trust.challenges`; agents drop a
challenge the group did not sign): any monitor with the
same ``nonce_key_file`` checks them without state, so several monitor
processes may share one topic and one database (a *group*: same
``monitor_name``, topic and key), and a restart forgets nothing. Per-host
state lives only for enrolled hosts.

Nothing a report contains can stop the monitor: every failure is logged with
the host and the reason and the loop goes on.

Scale-out by scope: monitors (or groups) with their own names and topics
serve the hosts ``monitor_hosts``/``monitor_architectures`` select and sweep
only their rows. A monitor does not write a row another monitor keeps fresh
(a misconfigured overlap); once that row has gone stale it takes it over.
"""

import collections
import datetime
import threading
import time

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
import oslo_messaging
from oslo_service import service as oslo_service

from sod_nova import hostname
from sod_nova import trust
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import evidence_rejections
from sod_nova.db import sqlite_locks
from sod_nova.trust import challenges
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import platform
from sod_nova.trust import references as references_mod
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import manager
from sod_nova.trust.monitor import reports
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)

#: Attempts of one database call that met another writer (a deadlock; on
#: SQLite, a lock conflict).
DB_ATTEMPTS = 5
#: Most reports verified and recorded in one database transaction.
BATCH = 512
#: Queued behind the reports received before a stale sweep was due.
_SWEEP = object()


class TrustMonitor(reports.ReportsMixin, oslo_service.Service):
    """A monitor process's service. Construction does no I/O; :meth:`start` does.

    An oslo.service service (``sod-trust-monitor`` runs it under the
    launcher): the stale sweep is a timer of its thread group, which
    ``wait()`` waits for; the embedded cloud calls :meth:`start` and
    :meth:`stop`.
    """

    def __init__(self, conf, catalog=None, transport=None, clock=time.time,
                 name=None, topic=None, hosts=None, architectures=None,
                 nova_domains=None):
        """``name``, ``topic``, ``hosts`` and ``architectures`` override the
        [sod_trust] options ``monitor_name``, ``monitor_topic``,
        ``monitor_hosts`` and ``monitor_architectures``, so that one process
        (the embedded cloud, a test) can run several monitors.

        ``nova_domains(host)``: the instance UUIDs Nova places on ``host``,
        to compare with the domains libvirt reports (``[sod_trust]
        unknown_domains``); without it the domains are not checked."""
        super().__init__()
        self.conf = conf
        self.name = name or conf.sod_trust.monitor_name
        self.topic = topic or conf.sod_trust.monitor_topic
        self.hosts = set(conf.sod_trust.monitor_hosts if hosts is None else hosts)
        self.architectures = {a.lower() for a in (
            conf.sod_trust.monitor_architectures if architectures is None
            else architectures)}
        self.catalog = catalog
        self.clock = clock
        self._domains = None if nova_domains is None else platform.DomainCheck(
            nova_domains, conf.sod_trust.unknown_domains == 'untrusted')
        self._transport = transport
        self._own_transport = transport is None
        self._server = None
        self._agents = None
        self._notifier = None
        self._notify_transport = None
        self._verifier = None
        self.nonce_key = None
        self._challenge_key = None
        self._listeners = []
        self._db_lock = threading.Lock()
        self._work_lock = threading.Lock()
        self._queue = collections.deque()
        self._sweep_queued = False
        self._sweep_at = None
        self._queued = threading.Condition()
        self._records = {}        # enrolled hosts only
        self._written = {}        # host -> (outcome, evidence time)
        self._rechallenged = {}   # enrolled host -> monitor time
        self._requested = {}      # host -> monitor time (request_challenge)
        self.alerts = alerts.RejectionAlerts()
        #: The last rejected or late reports ``(host, outcome, code,
        #: reason)``, oldest first (the simulator's step reports, tests).
        self.recent_rejections = collections.deque(maxlen=64)
        self._stop = threading.Event()
        self._worker = None
        self.counters = collections.Counter()

    # -- life cycle --------------------------------------------------------

    def start(self):
        trust_conf = self.conf.sod_trust
        if self.catalog is None:
            self.catalog = catalog_conf.load_catalog(self.conf)
        if trust_conf.nonce_key_file:
            self.nonce_key = nonces.load_key(trust_conf.nonce_key_file)
        elif self.nonce_key is None:
            raise nonces.NonceKeyError(
                '[sod_trust] nonce_key_file is not set: the agents check the '
                'group\'s challenges with a key derived from it (create one '
                'with "openssl rand -hex 32", mode 0600)')
        self._challenge_key = challenges.signing_key(self.nonce_key)
        self._records.clear()
        self._written.clear()
        self._verifier = verify.Verifier(
            references_mod.References.load(trust_conf.reference_values_file),
            trust_conf.max_evidence_bytes, trust_conf.nonce_max_age,
            self.nonce_key)
        if self._transport is None:
            self._transport = rpc.get_transport(self.conf)
        self._agents = agent_rpcapi.AgentAPI(self._transport,
                                             trust_conf.agent_topic)
        self._notify_transport = rpc.get_notification_transport(self.conf)
        self._notifier = oslo_messaging.Notifier(
            self._notify_transport,
            publisher_id='sod-trust-monitor.%s' % self.name,
            driver='messagingv2', topics=[trust_conf.notification_topic])
        self._stop.clear()
        self._worker = threading.Thread(
            target=self._work, daemon=True,
            name='sod-trust-monitor-%s-work' % self.name)
        self._worker.start()
        interval = trust_conf.stale_check_interval
        self.tg.add_timer_args(interval, self._sweep_once,
                               initial_delay=interval)
        self._server = rpc.get_server(
            self._transport, self.topic, self.name,
            [manager.MonitorManager(self)])
        self._server.start()
        self.challenge_all()
        LOG.info('trust monitor %(name)s started on topic %(topic)s',
                 {'name': self.name, 'topic': self.topic})

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server.wait()
            self._server = None
        self.tg.stop_timers(wait=True)
        self._stop.set()
        with self._queued:
            self._queued.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        self.flush_alerts()
        if self._notify_transport is not None:
            self._notify_transport.cleanup()
            self._notify_transport = None
        if self._own_transport and self._transport is not None:
            self._transport.cleanup()
            self._transport = None

    def add_listener(self, callback):
        """Call ``callback(change)`` on every state change, in process.

        ``change`` is the notification payload: host, old_state, new_state,
        reason, architecture. Runs in the monitor's thread: keep it short.
        """
        self._listeners.append(callback)

    def _sweep_once(self):
        """The stale sweep's timer: queue the sweep behind the reports
        already received, so that a host is never judged unreachable on
        evidence this monitor holds but has not processed yet (after a stall
        of this process, the timer and a backlog of reports fire together)."""
        with self._queued:
            if self._worker is not None and not self._stop.is_set():
                if not self._sweep_queued:
                    self._sweep_queued = True
                    self._sweep_at = self._now()
                    self._queue.append(_SWEEP)
                    self._queued.notify()
                return
        self._sweep()

    def _sweep(self, now=None):
        """Mark stale hosts as of ``now`` (when the sweep was due; the
        reports received until then are processed first)."""
        try:
            self.check_stale(now)
            self.flush_alerts()
        except Exception:
            LOG.exception('trust monitor %s: stale check failed', self.name)

    def _work(self):
        while True:
            with self._queued:
                while not self._queue and not self._stop.is_set():
                    self._queued.wait()
                if not self._queue:
                    return
                batch, sweep = [], False
                while self._queue and len(batch) < BATCH:
                    envelope = self._queue.popleft()
                    if envelope is _SWEEP:
                        sweep, sweep_at = True, self._sweep_at
                        self._sweep_queued = False
                        break
                    batch.append(envelope)
            if batch:
                self.counters['batches'] += 1
                self.process(batch)
            if sweep:
                self._sweep(sweep_at)

    # -- scope -------------------------------------------------------------

    def serves(self, host, architecture):
        return ((not self.hosts or host in self.hosts)
                and (not self.architectures
                     or architecture.lower() in self.architectures))

    def _now(self):
        return self.clock()

    @oslo_db_api.wrap_db_retry(max_retries=DB_ATTEMPTS - 1, retry_interval=0.005,
                               retry_on_deadlock=True,
                               exception_checker=sqlite_locks.is_lock_conflict)
    def _db(self, call, *args, **kwargs):
        """``call(*args, conf=..., **kwargs)``, one at a time in this monitor,
        retried when it met another writer (a deadlock, or SQLite's lock
        conflict: :mod:`sod_nova.db.sqlite_locks`)."""
        with self._db_lock:
            return call(*args, conf=self.conf, **kwargs)

    def _publish(self, host, old, new, reason, architecture):
        change = {'host': host, 'old_state': old, 'new_state': new,
                  'reason': reason, 'architecture': architecture}
        self._notify(trust.TRUST_CHANGED_EVENT, change)
        for callback in list(self._listeners):
            try:
                callback(change)
            except Exception:
                LOG.exception('%(host)s: trust change listener failed',
                              {'host': host})

    def _notify(self, event, payload):
        try:
            self._notifier.info({}, event, payload)
        except Exception as exc:
            LOG.warning('%(host)s: %(event)s not published: %(exc)s',
                        {'host': payload.get('host'), 'event': event,
                         'exc': exc})

    def flush_alerts(self):
        """Store and publish the rejected-report counts of the period."""
        if self._notifier is None:
            return {}
        return self.alerts.flush(
            lambda counts: self._db(evidence_rejections.add, counts),
            lambda payload: self._notify(alerts.EVIDENCE_REJECTED_EVENT,
                                         payload))

    def attestation_state(self, host):
        """``{boot_id, last_sequence}`` of ``host`` as this monitor last
        saw it, or None (diagnostics and tests)."""
        record = self._records.get(host)
        if record is None:
            return None
        return {'boot_id': record.freshness.boot_id,
                'last_sequence': record.freshness.sequence}

    # -- challenges and enrollment ------------------------------------------

    def request_challenge(self, host, limited=False):
        """Issue a nonce to ``host`` and ask for an immediate report;
        ``limited`` (a request from the bus, which anyone can send): at most
        every ``report_interval``/4 per host, so that a flood of requests
        cannot make an agent attest without pause."""
        try:
            if not hostname.is_valid(host):
                LOG.warning('challenge requested for an invalid host name; '
                            'ignored')
                return
            record = self._enrollment(host)
            if record is None:
                LOG.warning('%(host)s: challenge requested by a host with no '
                            'enrolled key; ignored', {'host': host})
                return
            if not self.serves(host, record.architecture):
                return
            if limited and not self._not_within(self._requested, host):
                return
            self._cast_challenge(host, immediate=True)
        except Exception:
            LOG.exception('%(host)s: challenge failed', {'host': host})

    def _not_within(self, last_times, host):
        """Whether ``host``'s last time in ``last_times`` is at least
        ``report_interval``/4 ago; if so, now becomes its last time. One table
        per cause, so that requests from the bus (anyone's) never hold back a
        re-challenge after a rejected report."""
        now = self._now()
        last = last_times.get(host)
        if last is not None and 0 <= now - last < (
                self.conf.sod_trust.report_interval / 4):
            return False
        last_times[host] = now
        return True

    def _rechallenge(self, record, ack=None, awaiting=None):
        """Challenge an enrolled host at once after a rejected or late
        report, at most every ``report_interval``/4 (a host this monitor
        serves only). For a report ``awaiting`` its AK's activation, the
        challenge carries a new credential; the same limit bounds how fast
        credentials are minted (a flood of replays cannot push the one the
        agent is opening out of the pending few)."""
        if not self.serves(record.host, record.architecture):
            return
        if not self._not_within(self._rechallenged, record.host):
            return
        credential = (tpm_enrollment.credential(awaiting, record)
                      if awaiting is not None else None)
        self._cast_challenge(record.host, immediate=True, ack=ack,
                             credential=credential)

    def challenge_all(self):
        """Challenge every enrolled host this monitor serves (at start)."""
        for row in self._db(db_enrollment.get_all):
            if row.public_key and self.serves(row.host, row.architecture):
                self.request_challenge(row.host)

    def _cast_challenge(self, host, immediate, ack=None, credential=None):
        try:
            nonce = nonces.issue(self.nonce_key, host, self._now())
            self._agents.challenge(
                host, nonce, immediate, ack, credential, challenges.sign(
                    self._challenge_key, host, nonce, immediate, ack,
                    credential))
        except Exception as exc:
            LOG.warning('%(host)s: challenge not sent: %(exc)s',
                        {'host': host, 'exc': exc})

    def enroll(self, host, architecture, public_key, proof):
        """Enroll ``public_key`` with a one-time token's proof; never raises."""
        if not hostname.is_valid(host):
            LOG.warning('enrollment refused: invalid host name')
            return False
        try:
            # Stored in its one spelling (one key, one host); the proof is
            # over the text the agent sent.
            canonical = keys.canonical_public_key(public_key)
            self._db(db_enrollment.enroll_with_token, host,
                     str(architecture), canonical,
                     lambda token_key, arch: keys.check_enrollment_proof(
                         token_key, proof, host, arch, public_key))
        except (ValueError, TypeError, AttributeError) as exc:
            LOG.warning('%(host)s: enrollment refused: %(reason)s',
                        {'host': host, 'reason': exc})
            return False
        except Exception:
            LOG.exception('%(host)s: enrollment failed', {'host': host})
            return False
        self._forget(host)
        LOG.info('%(host)s: key enrolled with a one-time token', {'host': host})
        self.request_challenge(host)
        return True

    # -- staleness ---------------------------------------------------------

    def check_stale(self, now=None):
        """Mark this monitor's hosts with old evidence ``unreachable``."""
        now = self._now() if now is None else now
        when = datetime.datetime.fromtimestamp(now, datetime.UTC)
        changed = self._db(db_api.hosts_mark_stale, now=when,
                           monitor=self.name)
        for host in changed:
            self._written.pop(host, None)
            row = self._db(db_api.host_get, host)
            self._publish(host, trust.TRUSTED, trust.UNREACHABLE,
                          row.reason if row else 'no fresh evidence',
                          row.architecture if row else None)
        return changed
