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

Nonces are the group's (:mod:`sod_nova.trust.nonces`): any monitor with the
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

from oslo_log import log as logging
import oslo_messaging

from sod_nova import hostname
from sod_nova import trust
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import evidence_rejections
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import platform
from sod_nova.trust import references as references_mod
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import manager
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)

#: Attempts of one database call that SQLite refused with "database is
#: locked", and of a report whose freshness another replica moved meanwhile.
DB_ATTEMPTS = 5
#: Most reports verified and recorded in one database transaction.
BATCH = 512
#: Most reports queued; beyond, new ones are dropped (and counted).
MAX_QUEUE = 100_000


def _freshness(row):
    boot, seq, seen, nonce_ms = row.freshness
    return verify.Freshness(boot, seq, seen, nonce_ms / 1000.0)


def _db_tuple(freshness):
    return (freshness.boot_id, freshness.sequence, freshness.seen,
            int(round(freshness.nonce_at * 1000)))


class TrustMonitor:
    """A monitor process's service. Construction does no I/O; :meth:`start` does."""

    def __init__(self, conf, catalog=None, transport=None, clock=time.time,
                 name=None, topic=None, hosts=None, architectures=None,
                 nova_domains=None):
        """``name``, ``topic``, ``hosts`` and ``architectures`` override the
        [trust] options ``monitor_name``, ``monitor_topic``,
        ``monitor_hosts`` and ``monitor_architectures``, so that one process
        (the embedded cloud, a test) can run several monitors.

        ``nova_domains(host)``: the instance UUIDs Nova places on ``host``,
        to compare with the domains libvirt reports (``[trust]
        unknown_domains``); without it the domains are not checked."""
        self.conf = conf
        self.name = name or conf.trust.monitor_name
        self.topic = topic or conf.trust.monitor_topic
        self.hosts = set(conf.trust.monitor_hosts if hosts is None else hosts)
        self.architectures = {a.lower() for a in (
            conf.trust.monitor_architectures if architectures is None
            else architectures)}
        self.catalog = catalog
        self.clock = clock
        self._domains = None if nova_domains is None else platform.DomainCheck(
            nova_domains, conf.trust.unknown_domains == 'untrusted')
        self._transport = transport
        self._own_transport = transport is None
        self._server = None
        self._agents = None
        self._notifier = None
        self._notify_transport = None
        self._verifier = None
        self.nonce_key = None
        self._listeners = []
        self._db_lock = threading.Lock()
        self._work_lock = threading.Lock()
        self._queue = collections.deque()
        self._queued = threading.Condition()
        self._records = {}        # enrolled hosts only
        self._written = {}        # host -> (outcome, evidence time)
        self._rechallenged = {}   # enrolled host -> monitor time
        self.alerts = alerts.RejectionAlerts()
        #: The last rejected or late reports ``(host, outcome, code,
        #: reason)``, oldest first (the simulator's step reports, tests).
        self.recent_rejections = collections.deque(maxlen=64)
        self._stop = threading.Event()
        self._threads = []
        self.counters = collections.Counter()

    # -- life cycle --------------------------------------------------------

    def start(self):
        trust_conf = self.conf.trust
        if self.catalog is None:
            self.catalog = catalog_conf.load_catalog(self.conf)
        if trust_conf.nonce_key_file:
            self.nonce_key = nonces.load_key(trust_conf.nonce_key_file)
        elif self.nonce_key is None:
            self.nonce_key = nonces.generate_key()
            LOG.warning('trust monitor %s: no [trust] nonce_key_file; nonces '
                        'are this process\'s own (a restart or a replica '
                        'cannot check them)', self.name)
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
        self._threads = [
            threading.Thread(target=target, daemon=True,
                             name='sod-trust-monitor-%s-%s' % (self.name, what))
            for what, target in (('sweep', self._run), ('work', self._work))]
        for thread in self._threads:
            thread.start()
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
        self._stop.set()
        with self._queued:
            self._queued.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []
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

    def _run(self):
        while not self._stop.wait(self.conf.trust.stale_check_interval):
            try:
                self.check_stale()
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
                batch = [self._queue.popleft()
                         for _ in range(min(BATCH, len(self._queue)))]
            self.process(batch)

    # -- scope -------------------------------------------------------------

    def serves(self, host, architecture):
        return ((not self.hosts or host in self.hosts)
                and (not self.architectures
                     or architecture.lower() in self.architectures))

    def _now(self):
        return self.clock()

    def _db(self, call, *args, **kwargs):
        """``call(*args, conf=..., **kwargs)``, one at a time in this monitor,
        retried when SQLite reports a lock conflict."""
        for attempt in range(DB_ATTEMPTS):
            try:
                with self._db_lock:
                    return call(*args, conf=self.conf, **kwargs)
            except Exception as exc:
                if ('database is locked' not in str(exc)
                        or attempt == DB_ATTEMPTS - 1):
                    raise
                time.sleep(0.005 * 2 ** attempt)

    # -- reports -----------------------------------------------------------

    def submit(self, envelope):
        """Queue one report (the RPC endpoint's call); never blocks."""
        with self._queued:
            if len(self._queue) >= MAX_QUEUE:
                self.counters['dropped'] += 1
                return
            self._queue.append(envelope)
            self._queued.notify()

    def report_evidence(self, envelope):
        """Verify and record one report now; its verdict. Never raises."""
        return self.process([envelope])[0]

    def process(self, envelopes):
        """Verify and record ``envelopes`` (one transaction); their verdicts
        (None for a report that could not be processed). Never raises."""
        try:
            with self._work_lock:
                return self._process(envelopes)
        except Exception:
            LOG.exception('trust monitor %s: %d reports could not be '
                          'processed', self.name, len(envelopes))
            self.counters['errors'] += len(envelopes)
            return [None] * len(envelopes)

    def _process(self, envelopes):
        now = self._now()
        verdicts = [None] * len(envelopes)
        todo = list(range(len(envelopes)))
        accepted = set()
        for _attempt in range(DB_ATTEMPTS):
            updates, owners = [], []
            for i in todo:
                verdict, record = self._verify(envelopes[i], now)
                if self._domains is not None and verdict.fresh:
                    verdict = self._domains.apply(verdict)
                verdicts[i] = verdict
                update = self._plan(verdict, record, now)
                if update is not None:
                    updates.append(update)
                    owners.append((i, record))
            if not updates:
                break
            results = self._db(db_enrollment.advance_many, updates)
            todo = []
            for (i, record), update, result in zip(owners, updates, results,
                                                   strict=True):
                if result is None:          # another replica was first
                    self._forget(record.host)
                    todo.append(i)
                    continue
                accepted.add(i)
                self._recorded(verdicts[i], record, update, result)
            if not todo:
                break
            self.counters['conflicts'] += len(todo)
        for i, verdict in enumerate(verdicts):
            self._after(verdict, i in accepted)
        return verdicts

    def _verify(self, envelope, now):
        """``(verdict, enrollment record or None)``. A signature rejection
        based on a cached enrollment is checked against the database again
        (the operator may have re-enrolled the host), at most once a
        second per host."""
        records = {}

        def lookup(name):
            if name not in records:
                records[name] = self._enrollment(name)
            return records[name]

        verdict = self._verifier.verify(envelope, lookup, now)
        record = records.get(verdict.host) if verdict.host else None
        if (verdict.code == verify.SIGNATURE and record is not None
                and now - record.reloaded >= 1.0):
            current = self._reload(record.host, now)
            if current is None or current.key_text != record.key_text:
                records.clear()
                verdict = self._verifier.verify(envelope, lookup, now)
                record = records.get(verdict.host) if verdict.host else None
        return verdict, record

    def _plan(self, verdict, record, now):
        """The database update an accepted verdict needs, or None."""
        if record is None or verdict.outcome != verify.VERDICT:
            return None
        if not verdict.fresh or not self.serves(record.host,
                                                record.architecture):
            return None      # attributable without freshness: _after writes
        trust_write = self._trust_write(record, verdict, now)
        update = db_enrollment.FreshnessUpdate(
            record.host, record.key_text, _db_tuple(record.freshness),
            _db_tuple(verdict.freshness), trust=trust_write,
            max_age=self.conf.trust.evidence_max_age)
        record.freshness = verdict.freshness   # later reports of the batch
        return update

    def _trust_write(self, record, verdict, now):
        """The host-row write of ``verdict``, or None when the same verdict
        was written less than ``evidence_max_age``/4 ago (the row's
        evidence time lags by at most that; most reports write no row)."""
        state = verdict.state
        mask = (self.catalog.capability_mask(record.architecture)
                if state == trust.TRUSTED else 0)
        outcome = (state, verdict.reason, mask, record.architecture)
        last = self._written.get(record.host)
        if (last is not None and last[0] == outcome
                and 0 <= now - last[1] < self.conf.trust.evidence_max_age / 4):
            return None
        self._written[record.host] = (outcome, now)
        return {'state': state, 'reason': verdict.reason,
                'capability_mask': mask,
                'last_evidence_at': datetime.datetime.fromtimestamp(
                    now, datetime.UTC),
                'architecture': record.architecture, 'monitor': self.name}

    def _recorded(self, verdict, record, update, result):
        """Bookkeeping after the database took ``update``."""
        self.counters['trusted' if verdict.trusted else 'untrusted'] += 1
        if verdict.tpm is not None and verdict.tpm.clock is not None:
            record.tpm_clock = verdict.tpm.clock   # a rollback shows next time
        if not verdict.trusted:
            LOG.warning('%(host)s: untrusted: %(reason)s',
                        {'host': record.host, 'reason': verdict.reason})
        if update.trust is None or result is True:
            return
        if result == 'foreign':
            self._written.pop(record.host, None)
            self.counters['foreign'] += 1
            LOG.warning('%(host)s: kept fresh by another monitor; not '
                        'written by %(name)s (overlapping monitor scopes?)',
                        {'host': record.host, 'name': self.name})
            return
        db_api.log_transition(record.host, result, verdict.state,
                              verdict.reason)
        if result != verdict.state:
            self._publish(record.host, result, verdict.state, verdict.reason,
                          record.architecture)

    def _after(self, verdict, accepted):
        """Acknowledge, alert or challenge again, once the batch is recorded."""
        if verdict is None:
            return
        host = verdict.host
        record = self._records.get(host) if host else None
        if verdict.rejected or verdict.late:
            self.recent_rejections.append(
                (host if verdict.enrolled else None, verdict.outcome,
                 verdict.code, verdict.reason))
        if verdict.rejected:
            self.counters['rejected'] += 1
            self.counters['rejected:' + verdict.code] += 1
            self.alerts.count(host if verdict.enrolled else None,
                              verdict.code, verdict.reason)
            if record is not None:
                self._rechallenge(record)
        elif verdict.late:
            self.counters['late'] += 1
            LOG.info('%(host)s: late report ignored: %(reason)s; challenging '
                     'again', {'host': host, 'reason': verdict.reason})
            if record is not None:
                ev = verdict.evidence
                self._rechallenge(record, ack={'boot_id': ev.boot_id,
                                               'sequence': ev.sequence})
        elif record is None or not self.serves(host, record.architecture):
            self.counters['ignored'] += 1
        elif verdict.fresh:
            if accepted:
                credential = tpm_enrollment.apply(self, verdict, record)
                self._cast_challenge(host, immediate=credential is not None, ack={
                    'boot_id': verdict.freshness.boot_id,
                    'sequence': verdict.freshness.sequence}, credential=credential)
        else:
            self._record_unfresh(verdict, record)

    def _record_unfresh(self, verdict, record):
        """An attributable verdict without freshness (the host signed a
        malformed document, or one for another host): untrusted, if the
        host's key is still the enrolled one."""
        self.counters['untrusted'] += 1
        LOG.warning('%(host)s: untrusted: %(reason)s',
                    {'host': record.host, 'reason': verdict.reason})
        row = self._db(db_enrollment.get, record.host)
        if row is None or row.public_key != record.key_text:
            self._forget(record.host)
            return
        self._written.pop(record.host, None)
        old, new = self._db(db_api.host_set_trust, record.host, verdict.state,
                            verdict.reason, 0, architecture=record.architecture,
                            monitor=self.name)
        if old != new:
            self._publish(record.host, old, new, verdict.reason,
                          record.architecture)
        self._rechallenge(record)

    def _forget(self, host):
        self._records.pop(host, None)
        self._written.pop(host, None)

    def _enrollment(self, host):
        """The host's enrollment and freshness state, cached for enrolled
        hosts only (a name nobody enrolled leaves no state behind)."""
        record = self._records.get(host)
        if record is not None:
            return record
        return self._reload(host, self._now())

    def _reload(self, host, now):
        row = self._db(db_enrollment.get, host)
        if row is None or row.public_key is None:
            self._forget(host)
            return None
        record = verify.Enrollment(
            host=row.host, architecture=row.architecture,
            public_key=keys.load_public_key(row.public_key),
            key_text=row.public_key, freshness=_freshness(row), reloaded=now)
        tpm_enrollment.load(record, row)
        self._records[host] = record
        return record

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

    def request_challenge(self, host):
        """Issue a nonce to ``host`` and ask for an immediate report."""
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
            if self.serves(host, record.architecture):
                self._cast_challenge(host, immediate=True)
        except Exception:
            LOG.exception('%(host)s: challenge failed', {'host': host})

    def _rechallenge(self, record, ack=None):
        """Challenge an enrolled host at once after a rejected or late
        report, at most every ``report_interval``/4."""
        now = self._now()
        last = self._rechallenged.get(record.host)
        if last is not None and 0 <= now - last < (
                self.conf.trust.report_interval / 4):
            return
        self._rechallenged[record.host] = now
        self._cast_challenge(record.host, immediate=True, ack=ack)

    def challenge_all(self):
        """Challenge every enrolled host this monitor serves (at start)."""
        for row in self._db(db_enrollment.get_all):
            if row.public_key and self.serves(row.host, row.architecture):
                self.request_challenge(row.host)

    def _cast_challenge(self, host, immediate, ack=None, credential=None):
        try:
            nonce = nonces.issue(self.nonce_key, host, self._now())
            self._agents.challenge(host, nonce, immediate, ack, credential)
        except Exception as exc:
            LOG.warning('%(host)s: challenge not sent: %(exc)s',
                        {'host': host, 'exc': exc})

    def enroll(self, host, architecture, public_key, proof):
        """Enroll ``public_key`` with a one-time token's proof; never raises."""
        if not hostname.is_valid(host):
            LOG.warning('enrollment refused: invalid host name')
            return False
        try:
            keys.load_public_key(public_key)
            self._db(db_enrollment.enroll_with_token, host,
                     str(architecture), public_key,
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
        changed = self._db(db_api.hosts_mark_stale,
                           self.conf.trust.evidence_max_age, now=when,
                           monitor=self.name)
        for host in changed:
            self._written.pop(host, None)
            row = self._db(db_api.host_get, host)
            self._publish(host, trust.TRUSTED, trust.UNREACHABLE,
                          row.reason if row else 'no fresh evidence',
                          row.architecture if row else None)
        return changed
