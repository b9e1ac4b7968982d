"""How the trust monitor handles reports: queue, batches, verdicts, alerts.

The half of :class:`~sod_nova.trust.monitor.service.TrustMonitor` that turns
reports into recorded verdicts (see that module for the whole story): the
RPC endpoint queues each report (:meth:`ReportsMixin.submit`); the worker
verifies a batch, moves each accepted report's freshness on and writes the
host rows that are due in one transaction
(:func:`sod_nova.db.enrollment.advance_many`), reads again and re-verifies
the reports another replica got to first, then acknowledges, alerts or
challenges again.
"""

import datetime

from oslo_log import log as logging

from sod_nova import trust
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import keys
from sod_nova.trust import verify
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)

#: Attempts of a report whose freshness another replica moved meanwhile.
ATTEMPTS = 5
#: Most reports queued; beyond, new ones are dropped (and counted).
MAX_QUEUE = 100_000


def _freshness(row):
    boot, seq, seen, nonce_ms = row.freshness
    return verify.Freshness(boot, seq, seen, nonce_ms / 1000.0)


def _db_tuple(freshness):
    return (freshness.boot_id, freshness.sequence, freshness.seen,
            int(round(freshness.nonce_at * 1000)))


class ReportsMixin:
    """Report handling of the trust monitor (uses its state and helpers)."""

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
        for _attempt in range(ATTEMPTS):
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
                verify.remember(record, envelopes[i])
                self._recorded(verdicts[i], record, update, result)
            if not todo:
                break
            self.counters['conflicts'] += len(todo)
        for i, verdict in enumerate(verdicts):
            try:
                self._after(verdict, i in accepted, envelopes[i])
            except Exception:
                LOG.exception('%(host)s: verdict recorded, but its follow-up '
                              '(acknowledgement, alert) failed',
                              {'host': getattr(verdict, 'host', None)})
                self.counters['errors'] += 1
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
            _db_tuple(verdict.freshness), trust=trust_write)
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
                and 0 <= now - last[1] < self.conf.sod_trust.evidence_max_age / 4):
            return None
        self._written[record.host] = (outcome, now)
        evidence_at = datetime.datetime.fromtimestamp(now, datetime.UTC)
        return {'state': state, 'reason': verdict.reason,
                'capability_mask': mask, 'last_evidence_at': evidence_at,
                'valid_until': db_api.evidence_valid_until(
                    evidence_at, self.conf.sod_trust.evidence_max_age),
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

    def _after(self, verdict, accepted, envelope):
        """Acknowledge, alert or challenge again, once the batch is recorded."""
        if verdict is None:
            return
        host = verdict.host
        record = self._records.get(host) if host else None
        if verdict.code == verify.INTERNAL_ERROR:
            # Counted whatever the outcome; a signed report's is untrusted.
            self.counters['internal_error'] += 1
            LOG.error('%(host)s: %(reason)s', {'host': host or '?',
                                               'reason': verdict.reason})
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
            self.counters['late:' + verdict.code] += 1
            LOG.info('%(host)s: report ignored: %(reason)s; challenging '
                     'again', {'host': host, 'reason': verdict.reason})
            if record is not None:
                awaiting = verdict.code == verify.AWAITING_ACTIVATION
                if awaiting:
                    self._awaiting_activation(verdict, record, envelope)
                ev = verdict.evidence      # None: refused before parsing
                self._rechallenge(record, ack=ev and {
                    'boot_id': ev.boot_id, 'sequence': ev.sequence},
                    awaiting=verdict if awaiting else None)
        elif record is None or not self.serves(host, record.architecture):
            self.counters['ignored'] += 1
        elif verdict.fresh:
            if accepted:
                tpm_enrollment.apply(self, verdict, record)
                self._cast_challenge(host, immediate=False, ack={
                    'boot_id': verdict.freshness.boot_id,
                    'sequence': verdict.freshness.sequence})
        else:
            self._record_unfresh(verdict, record)

    def _awaiting_activation(self, verdict, record, envelope):
        """A signed report quoted by an AK not activated yet: remembered, so
        that a replay of it is refused before its signature (and mints no
        credential); alerted once the TPM left every credential it was sent
        unopened (another TPM, or a host key used without its TPM)."""
        verify.remember(record, envelope)
        pending = record.tpm_pending
        if (pending and pending[0] == verdict.evidence.tpm['ak']
                and len(pending[1]) >= tpm_enrollment.PENDING_CREDENTIALS):
            self.alerts.count(record.host, verdict.code, '%s (%d credentials '
                              'unanswered)' % (verdict.reason, len(pending[1])))

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
        cached = self._records.get(host)
        if cached is not None and cached.key_text == row.public_key:
            record.accepted = cached.accepted
            if tpm_enrollment.same(cached, row):   # same EK and AK: keep their state
                record.tpm_pending, record.tpm_clock = cached.tpm_pending, cached.tpm_clock
        self._records[host] = record
        return record
