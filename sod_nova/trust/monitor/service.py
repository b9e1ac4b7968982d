"""The trust monitor (TMs): verifies evidence and keeps host trust rows.

For each report it looks up the host's enrollment (cached), runs the pure
:class:`~sod_nova.trust.verify.Verifier`, moves the host's freshness state on
(consumed nonce, sequence, the next nonce; in memory, bound to this run's
epoch), writes the host row through :mod:`sod_nova.db.api` (capabilities from
the catalogue when trusted, none otherwise) when the verdict changed or the
row's evidence time needs refreshing, acknowledges the report with the next
nonce and, when the state changed, publishes ``sod.host.trust_changed`` and
calls the in-process listeners. A periodic sweep marks hosts whose evidence is
older than ``evidence_max_age`` ``unreachable``.

Nothing a report contains can stop the monitor: every failure is logged with
the host and the reason and the loop goes on.

Scale-out: each monitor has its own ``monitor_topic`` and name, serves the
hosts ``monitor_hosts``/``monitor_architectures`` select, stamps its rows with
its name, and sweeps only those rows, so several monitors share one database
without touching each other's hosts. A monitor does not write a row another
monitor keeps fresh (a misconfigured overlap); once that row has gone stale
(the other monitor is gone), it takes the host over.
"""

import collections
import datetime
import secrets
import threading
import time

from oslo_log import log as logging
import oslo_messaging

from sod_nova import trust
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import keys
from sod_nova.trust import platform
from sod_nova.trust import references as references_mod
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.monitor import manager
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)

#: Outstanding nonces kept per host (each usable once).
MAX_NONCES = 16
#: A nonce is this monitor run's epoch (8 random bytes) + 24 random bytes.
EPOCH_BYTES = 8
NONCE_BYTES = 24
#: Attempts of one database call that SQLite refused with "database is
#: locked" (two read-then-write transactions met; one must start over).
DB_ATTEMPTS = 5


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
        self.epoch = None
        self._listeners = []
        self._host_locks = collections.defaultdict(threading.Lock)
        self._db_lock = threading.Lock()
        self._records = {}
        self._written = {}
        self._locks_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.counters = collections.Counter()

    # -- life cycle --------------------------------------------------------

    def start(self):
        trust_conf = self.conf.trust
        if self.catalog is None:
            self.catalog = catalog_conf.load_catalog(self.conf)
        self.epoch = secrets.token_hex(EPOCH_BYTES)
        self._records.clear()
        self._written.clear()
        self._verifier = verify.Verifier(
            references_mod.References.load(trust_conf.reference_values_file),
            trust_conf.max_evidence_bytes, trust_conf.nonce_max_age,
            epoch=self.epoch)
        if self._transport is None:
            self._transport = rpc.get_transport(self.conf)
        self._agents = agent_rpcapi.AgentAPI(self._transport,
                                             trust_conf.agent_topic)
        self._notify_transport = rpc.get_notification_transport(self.conf)
        self._notifier = oslo_messaging.Notifier(
            self._notify_transport,
            publisher_id='sod-trust-monitor.%s' % self.name,
            driver='messagingv2', topics=[trust_conf.notification_topic])
        self._server = rpc.get_server(
            self._transport, self.topic, self.name,
            [manager.MonitorManager(self)])
        self._server.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='sod-trust-monitor-%s' % self.name)
        self._thread.start()
        self.challenge_all()
        LOG.info('trust monitor %(name)s started on topic %(topic)s',
                 {'name': self.name, 'topic': self.topic})

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._server is not None:
            self._server.stop()
            self._server.wait()
            self._server = None
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
            except Exception:
                LOG.exception('trust monitor %s: stale check failed', self.name)

    # -- scope -------------------------------------------------------------

    def serves(self, host, architecture):
        return ((not self.hosts or host in self.hosts)
                and (not self.architectures
                     or architecture.lower() in self.architectures))

    def _host_lock(self, host):
        with self._locks_lock:
            return self._host_locks[host]

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

    def report_evidence(self, envelope):
        """Verify one report and record the verdict; never raises."""
        try:
            return self._report(envelope)
        except Exception:
            host = envelope.get('host') if isinstance(envelope, dict) else None
            LOG.exception('%(host)s: evidence could not be processed',
                          {'host': host})
            self.counters['errors'] += 1
            return None

    def _report(self, envelope):
        host = envelope.get('host') if isinstance(envelope, dict) else None
        if not isinstance(host, str):
            host = None
        with self._host_lock(host) if host else threading.Lock():
            now = self._now()
            verdict, record = self._verify(envelope, now)
            if self._domains is not None and verdict.fresh:
                verdict = self._domains.apply(verdict)
            credential = None
            if verdict.ignored:
                ev = verdict.evidence
                ack = {'boot_id': ev.boot_id, 'sequence': ev.sequence}
            else:
                credential = tpm_enrollment.apply(self, verdict, record)
                nonce = self._record(verdict, record, now)
                if nonce is None:
                    return verdict if not verdict.enrolled else None
        if verdict.ignored:
            self.counters['earlier_run'] += 1
            LOG.info('%(host)s: report ignored: %(reason)s; challenging again',
                     {'host': verdict.host, 'reason': verdict.reason})
            self._challenge(verdict.host, ack=ack)
        elif verdict.fresh:
            self._cast_challenge(record.host, nonce,
                                 immediate=credential is not None,
                                 ack={'boot_id': record.boot_id,
                                      'sequence': record.last_sequence},
                                 credential=credential)
        return verdict

    def _record(self, verdict, record, now):
        """Apply ``verdict`` (host lock held). Returns the host's next nonce
        after fresh evidence, ``''`` after other recorded verdicts, None
        when nothing was recorded."""
        if not verdict.enrolled:
            self.counters['unknown'] += 1
            LOG.warning('%(host)s: evidence rejected: %(reason)s',
                        {'host': verdict.host or '?', 'reason': verdict.reason})
            return None
        if not self.serves(record.host, record.architecture):
            self.counters['ignored'] += 1
            LOG.debug('%(host)s: not served by monitor %(name)s; ignored',
                      {'host': record.host, 'name': self.name})
            return None
        nonce = ''
        if verdict.fresh:
            verify.consume(record, verdict)
            nonce = self._add_nonce(record, now)
        if verdict.trusted:
            self.counters['trusted'] += 1
            LOG.debug('%(host)s: evidence verified', {'host': record.host})
        else:
            self.counters['untrusted'] += 1
            LOG.warning('%(host)s: untrusted: %(reason)s',
                        {'host': record.host, 'reason': verdict.reason})
        if not self._set_state(record, verdict.state, verdict.reason,
                               evidence_at=now if verdict.fresh else None):
            return None
        return nonce

    def _verify(self, envelope, now):
        """``(verdict, enrollment record)``; a rejection based on a cached
        enrollment is checked again against the database, in case the
        operator re-enrolled the host meanwhile."""
        records = {}

        def lookup(name):
            if name not in records:
                records[name] = self._enrollment(name)
            return records[name]

        verdict = self._verifier.verify(envelope, lookup, now)
        cached = self._records.get(verdict.host) if verdict.host else None
        if not verdict.fresh and cached is not None:
            del self._records[verdict.host]
            records.clear()
            current = lookup(verdict.host)
            if current is None or (current.key_text, current.architecture) != (
                    cached.key_text, cached.architecture):
                verdict = self._verifier.verify(envelope, lookup, now)
            else:
                # Same enrollment: keep this run's freshness state. A forged
                # or replayed report must not wipe the nonces issued to the
                # genuine agent (its next report would look like a replay).
                self._records[verdict.host] = records[verdict.host] = cached
        return verdict, records.get(verdict.host)

    def _enrollment(self, host):
        """The host's enrollment and freshness state, cached: this monitor
        alone serves the host; the key is checked against the database
        before each host-row write (:meth:`_still_enrolled`)."""
        record = self._records.get(host)
        if record is not None:
            return record
        row = self._db(db_enrollment.get, host)
        if row is None or row.public_key is None:
            return None
        record = verify.Enrollment(
            host=row.host, architecture=row.architecture,
            public_key=keys.load_public_key(row.public_key),
            key_text=row.public_key)
        tpm_enrollment.load(record, row)
        self._records[host] = record
        return record

    def _still_enrolled(self, record):
        """Whether ``record``'s key is still the enrolled one (the operator
        may have revoked or re-enrolled the host); drops it from the cache
        when not."""
        row = self._db(db_enrollment.get, record.host)
        if row is not None and row.public_key == record.key_text and (
                row.architecture == record.architecture) and (
                tpm_enrollment.same(record, row)):
            return True
        self._records.pop(record.host, None)
        return False

    def _add_nonce(self, record, now):
        """A new nonce for ``record``; expired and surplus ones dropped."""
        max_age = self.conf.trust.nonce_max_age
        kept = sorted(((t, n) for n, t in record.nonces.items()
                       if now - t <= max_age), reverse=True)[:MAX_NONCES - 1]
        nonce = self.epoch + secrets.token_hex(NONCE_BYTES)
        record.nonces = {n: t for t, n in kept}
        record.nonces[nonce] = now
        return nonce

    def _set_state(self, record, state, reason, evidence_at=None):
        """Write the host row; after fresh evidence, only if the host's key is
        still enrolled (else False: a revoked or re-enrolled host is not
        written from evidence signed with its old key).

        A fresh verdict equal to the last one written is not written again
        while that write is younger than a quarter of ``evidence_max_age``:
        the row's evidence time lags by at most that, and most reports cost
        no database write at all."""
        mask = (self.catalog.capability_mask(record.architecture)
                if state == trust.TRUSTED else 0)
        outcome = (state, reason, mask, record.architecture)
        last = self._written.get(record.host)
        if (evidence_at is not None and last is not None and last[0] == outcome
                and 0 <= evidence_at - last[1] < self.conf.trust.evidence_max_age / 4):
            return True
        if evidence_at is not None and not self._still_enrolled(record):
            LOG.warning('%(host)s: enrollment changed or revoked while its '
                        'evidence was verified; verdict dropped',
                        {'host': record.host})
            return False
        owner = self._foreign_owner(record.host, evidence_at)
        if owner:
            self.counters['foreign'] += 1
            LOG.warning('%(host)s: kept fresh by monitor %(owner)s; not '
                        'written by %(name)s (overlapping monitor scopes?)',
                        {'host': record.host, 'owner': owner, 'name': self.name})
            return False
        old, new = self._db(
            db_api.host_set_trust, record.host, state, reason, mask,
            last_evidence_at=(None if evidence_at is None else
                              datetime.datetime.fromtimestamp(evidence_at,
                                                              datetime.UTC)),
            architecture=record.architecture, monitor=self.name)
        if evidence_at is not None:
            self._written[record.host] = (outcome, evidence_at)
        else:
            self._written.pop(record.host, None)
        if old != new:
            self._publish(record.host, old, new, reason, record.architecture)
        return True

    def _foreign_owner(self, host, now):
        """The other monitor whose fresh evidence the host row holds, if any."""
        row = self._db(db_api.host_get, host)
        if row is None or row.monitor in (None, self.name):
            return None
        when = datetime.datetime.fromtimestamp(
            self._now() if now is None else now, datetime.UTC)
        if row.is_fresh(when, self.conf.trust.evidence_max_age):
            return row.monitor
        return None

    def _publish(self, host, old, new, reason, architecture):
        change = {'host': host, 'old_state': old, 'new_state': new,
                  'reason': reason, 'architecture': architecture}
        try:
            self._notifier.info({}, trust.TRUST_CHANGED_EVENT, change)
        except Exception as exc:
            LOG.warning('%(host)s: trust change not published: %(exc)s',
                        {'host': host, 'exc': exc})
        for callback in list(self._listeners):
            try:
                callback(change)
            except Exception:
                LOG.exception('%(host)s: trust change listener failed',
                              {'host': host})

    def attestation_state(self, host):
        """``{boot_id, last_sequence, outstanding_nonces}`` of ``host`` in
        this monitor run, or None (diagnostics and tests)."""
        record = self._records.get(host)
        if record is None:
            return None
        return {'boot_id': record.boot_id,
                'last_sequence': record.last_sequence,
                'outstanding_nonces': len(record.nonces)}

    # -- challenges and enrollment ------------------------------------------

    def request_challenge(self, host):
        """Issue a nonce to ``host`` and ask for an immediate report."""
        self._challenge(host)

    def _challenge(self, host, ack=None):
        try:
            self._challenge_unsafe(host, ack)
        except Exception:
            LOG.exception('%(host)s: challenge failed', {'host': host})

    def _challenge_unsafe(self, host, ack):
        if not isinstance(host, str):
            return
        with self._host_lock(host):
            record = self._enrollment(host)
            if record is None:
                LOG.warning('%(host)s: challenge requested by a host with no '
                            'enrolled key; ignored', {'host': host})
                return
            if not self.serves(host, record.architecture):
                return
            nonce = self._add_nonce(record, self._now())
        self._cast_challenge(host, nonce, immediate=True, ack=ack)

    def challenge_all(self):
        """Challenge every enrolled host this monitor serves (at start)."""
        for row in self._db(db_enrollment.get_all):
            if row.public_key and self.serves(row.host, row.architecture):
                self.request_challenge(row.host)

    def _cast_challenge(self, host, nonce, immediate, ack=None,
                        credential=None):
        try:
            self._agents.challenge(host, nonce, immediate, ack, credential)
        except Exception as exc:
            LOG.warning('%(host)s: challenge not sent: %(exc)s',
                        {'host': host, 'exc': exc})

    def enroll(self, host, architecture, public_key, proof):
        """Enroll ``public_key`` with a one-time token's proof; never raises."""
        try:
            keys.load_public_key(public_key)
            self._db(db_enrollment.enroll_with_token, str(host),
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
        self._records.pop(host, None)
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
