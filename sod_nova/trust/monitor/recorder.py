"""The monitor's verdicts: verify a batch of reports and record it.

A batch is verified with :class:`~sod_nova.trust.verify.Verifier`, recorded in
ONE transaction (:func:`sod_nova.db.enrollment.advance_many`) and each report
answered; the stale sweep marks expired hosts ``unreachable``. Nothing a
report contains stops the monitor. See doc/source/contributor/trust-plane.rst.
"""

import datetime
import threading

from oslo_log import log as logging

from sod_nova import trust
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import attestation
from sod_nova.trust import verify
from sod_nova.trust.monitor import enrollments as enrollments_mod
from sod_nova.trust.monitor import tpm_enrollment

LOG = logging.getLogger(__name__)

#: Attempts of a report whose freshness another replica moved meanwhile.
ATTEMPTS = 5


class VerdictRecorder:
    """Turns one monitor's reports into recorded verdicts.

    ``monitor`` names the monitor (its host rows carry it); ``serves(host,
    architecture)`` says whether it serves a host; ``publish(host, old, new,
    reason, architecture)`` announces a trust change; ``domains`` (or None)
    checks the domains a fresh report lists against Nova's.
    """

    def __init__(self, conf, monitor, enrollments, database, challenger,
                 alerts, publish, serves, clock, counters, domains=None):
        self.conf = conf
        self._monitor = monitor
        self._enrollments = enrollments
        self._database = database
        self._challenger = challenger
        self._alerts = alerts
        self._publish = publish
        self._serves = serves
        self._clock = clock
        self.counters = counters
        self._domains = domains
        self.catalog = None
        self.verifier = None
        self._lock = threading.Lock()    # one batch at a time

    def start(self, catalog, verifier):
        self.catalog, self.verifier = catalog, verifier

    # -- a batch -----------------------------------------------------------

    def process(self, envelopes):
        """Verify and record ``envelopes`` (one transaction); their verdicts
        (None for a report that could not be processed). Never raises."""
        try:
            with self._lock:
                return self._process(envelopes)
        except Exception:
            LOG.exception('trust monitor %s: %d reports could not be '
                          'processed', self._monitor, len(envelopes))
            self.counters['errors'] += len(envelopes)
            return [None] * len(envelopes)

    def _process(self, envelopes):
        now = self._clock()
        verdicts = [None] * len(envelopes)
        todo = list(range(len(envelopes)))
        accepted = set()
        self._enrollments.refresh(
            {e.get('host') for e in envelopes if isinstance(e, dict)
             and isinstance(e.get('host'), str)}, now)
        for _attempt in range(ATTEMPTS):
            planned = []      # (report index, record, update, TPM write)
            for i in todo:
                verdict, record = self._verify(envelopes[i], now)
                if self._domains is not None and verdict.fresh:
                    verdict = self._domains.apply(verdict)
                verdicts[i] = verdict
                update = self._plan(verdict, record, now)
                if update is not None:
                    planned.append((i, record, update,
                                    tpm_enrollment.to_write(verdict, record)))
            if not planned:
                break
            results, stored = self._database.transaction(self._write, planned)
            todo = []
            for (i, record, update, tpm), result in zip(planned, results,
                                                        strict=True):
                if result is None:          # another replica was first
                    self._enrollments.forget(record.host)
                    todo.append(i)
                    continue
                accepted.add(i)
                if verdicts[i].fresh:
                    verify.remember(record, envelopes[i])
                if i in stored:
                    tpm_enrollment.activated(record, verdicts[i], tpm)
                self._recorded(verdicts[i], record, update, result)
            if not todo:
                break
            self.counters['conflicts'] += len(todo)
        with self._challenger.batched():       # one signature, all acks
            for i, verdict in enumerate(verdicts):
                try:
                    self.follow_up(verdict, i in accepted, envelopes[i])
                except Exception:
                    LOG.exception('%(host)s: verdict recorded, but its '
                                  'follow-up (acknowledgement, alert) failed',
                                  {'host': getattr(verdict, 'host', None)})
                    self.counters['errors'] += 1
        return verdicts

    @staticmethod
    def _write(context, planned):
        """The batch's transaction: freshness moves and host rows, and the
        TPM state of accepted reports (the attestation keys whose activation
        they proved, their TPM clocks). ``(advance_many's results, indexes
        of the reports whose AK was stored)``."""
        results = db_enrollment.advance_many(
            context, [update for _i, _r, update, _tpm in planned])
        stored = tpm_enrollment.store(context, [
            (i, record, tpm) for (i, record, _update, tpm), result
            in zip(planned, results, strict=True)
            if result is not None and tpm is not None])
        return results, stored

    def _verify(self, envelope, now):
        """``(verdict, enrollment record or None)``. A signature rejection
        based on a cached enrollment is checked against the database again
        (the operator may have re-enrolled the host), at most once a
        second per host."""
        records = {}

        def lookup(name):
            if name not in records:
                records[name] = self._enrollments.get(name, now)
            return records[name]

        verdict = self.verifier.verify(envelope, lookup, now)
        record = records.get(verdict.host) if verdict.host else None
        if (verdict.code == verify.SIGNATURE and record is not None
                and now - record.reloaded >= 1.0):
            current = self._enrollments.reload(record.host, now)
            if current is None or current.key_text != record.key_text:
                records.clear()
                verdict = self.verifier.verify(envelope, lookup, now)
                record = records.get(verdict.host) if verdict.host else None
        return verdict, record

    def _plan(self, verdict, record, now):
        """The database update an attributable verdict of a served host
        needs, or None. A verdict without freshness (the host signed a
        malformed document, or one for another host) leaves the freshness as
        it is and writes the host row ``untrusted``, if the host's key is
        still the enrolled one."""
        if record is None or verdict.outcome != verify.VERDICT:
            return None
        if not self._serves(record.host, record.architecture):
            return None
        expect = enrollments_mod.db_tuple(record.freshness)
        if not verdict.fresh:
            self._enrollments.written.pop(record.host, None)
            return db_enrollment.FreshnessUpdate(
                record.host, record.key_text, expect, expect, trust={
                    'state': verdict.state, 'reason': verdict.reason,
                    'capability_mask': 0,
                    'architecture': record.architecture,
                    'monitor': self._monitor})
        update = db_enrollment.FreshnessUpdate(
            record.host, record.key_text, expect,
            enrollments_mod.db_tuple(verdict.freshness),
            trust=self._trust_write(record, verdict, now))
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
        written = self._enrollments.written
        last = written.get(record.host)
        max_age = self.conf.sod_trust.evidence_max_age
        if (last is not None and last[0] == outcome
                and 0 <= now - last[1] < max_age / 4):
            return None
        written[record.host] = (outcome, now)
        evidence_at = datetime.datetime.fromtimestamp(now, datetime.UTC)
        return {'state': state, 'reason': verdict.reason,
                'capability_mask': mask, 'last_evidence_at': evidence_at,
                'valid_until': db_api.evidence_valid_until(evidence_at, max_age),
                'architecture': record.architecture, 'monitor': self._monitor}

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
            self._enrollments.written.pop(record.host, None)
            self.counters['foreign'] += 1
            LOG.warning('%(host)s: kept fresh by another monitor; not '
                        'written by %(name)s (overlapping monitor scopes?)',
                        {'host': record.host, 'name': self._monitor})
            return
        db_api.log_transition(record.host, result, verdict.state,
                              verdict.reason)
        if result != verdict.state:
            self._publish(record.host, result, verdict.state, verdict.reason,
                          record.architecture)

    # -- answers -----------------------------------------------------------

    def follow_up(self, verdict, accepted, envelope):
        """Acknowledge, alert or challenge again, once the batch is
        recorded (``accepted``: the database took the report)."""
        if verdict is None:
            return
        host = verdict.host
        record = self._enrollments.cached(host) if host else None
        if verdict.code == verify.INTERNAL_ERROR:
            # Counted whatever the outcome; a signed report's is untrusted.
            self.counters['internal_error'] += 1
            LOG.error('%(host)s: %(reason)s', {'host': host or '?',
                                               'reason': verdict.reason})
        if verdict.rejected:
            self.counters['rejected'] += 1
            self.counters['rejected:' + verdict.code] += 1
            self._alerts.count(host if verdict.enrolled else None,
                               verdict.code, verdict.reason)
            if record is not None:
                self._challenger.rechallenge(record)
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
                self._challenger.rechallenge(record, ack=ev and {
                    'boot_id': ev.boot_id, 'sequence': ev.sequence},
                    awaiting=verdict if awaiting else None)
        elif record is None or not self._serves(host, record.architecture):
            self.counters['ignored'] += 1
        elif accepted and verdict.fresh:
            self._challenger.acknowledge(host, verdict.freshness)
        elif accepted:
            self._challenger.rechallenge(record)

    def _awaiting_activation(self, verdict, record, envelope):
        """A signed report quoted by an AK not activated yet: remembered, so
        that a replay of it is refused before its signature (and mints no
        credential); alerted once the TPM left every credential it was sent
        unopened (another TPM, or a host key used without its TPM)."""
        verify.remember(record, envelope)
        pending = record.tpm_pending
        if (pending and pending[0] == attestation.fingerprint(
                verdict.evidence.tpm['ak'])
                and len(pending[1]) >= tpm_enrollment.PENDING_CREDENTIALS):
            self._alerts.count(record.host, verdict.code, '%s (%d credentials '
                               'unanswered)' % (verdict.reason, len(pending[1])))

    # -- the stale sweep ---------------------------------------------------

    def check_stale(self, now=None):
        """Mark this monitor's hosts with expired evidence ``unreachable``
        as of ``now`` (default: now); the hosts changed."""
        now = self._clock() if now is None else now
        when = datetime.datetime.fromtimestamp(now, datetime.UTC)
        changed = self._database.call(db_api.hosts_mark_stale, now=when,
                                      monitor=self._monitor)
        # The rows as marked, in one read (not one per host).
        rows = ({row.host: row for row in self._database.call(
            db_api.host_get_all)} if changed else {})
        for host in changed:
            self._enrollments.written.pop(host, None)
            row = rows.get(host)
            self._publish(host, trust.TRUSTED, trust.UNREACHABLE,
                          row.reason if row else 'no fresh evidence',
                          row.architecture if row else None)
        return changed
