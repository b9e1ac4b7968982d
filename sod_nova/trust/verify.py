"""Verification of one evidence report: pure logic, no I/O.

The monitor hands the envelope, the host's enrollment and the time to
:meth:`Verifier.verify` and gets a :class:`Verdict` back: attributable
(``trusted``/``untrusted``), ``rejected`` (not attributable) or ``late``, so
that a verdict that moves VMs can be neither forged nor faked by load. The
checks, their order and the outcomes: ``doc/source/contributor/architecture-notes.rst``.
"""

import dataclasses

from sod_nova import trust
from sod_nova.trust import attestation
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import measurements
from sod_nova.trust import nonces
from sod_nova.trust import platform

#: How runtime counters read in a reason: (singular, plural).
COUNTER_LABELS = {
    'memory_violations': ('memory violation', 'memory violations'),
    'blocked_leaks': ('blocked tagged-data leak', 'blocked tagged-data leaks'),
    'policy_violations': ('policy violation', 'policy violations'),
    'violations': ('security violation', 'security violations'),
}

VERDICT = 'verdict'
REJECTED = 'rejected'
LATE = 'late'

#: Why a report was rejected or ignored; the keys of the per-host counts.
MALFORMED = 'malformed'
OVERSIZED = 'oversized'
UNKNOWN_HOST = 'unknown_host'
SIGNATURE = 'signature'
UNKNOWN_NONCE = 'unknown_nonce'
REPLAY = 'replay'
INTERNAL_ERROR = 'internal_error'
EXPIRED = 'expired'
OVERTAKEN = 'overtaken'
AWAITING_ACTIVATION = 'awaiting_activation'
REJECTION_CODES = (MALFORMED, OVERSIZED, UNKNOWN_HOST, SIGNATURE,
                   UNKNOWN_NONCE, REPLAY, INTERNAL_ERROR)

#: Sequences below the last accepted one whose acceptance is remembered.
WINDOW = 63
_WINDOW_MASK = (1 << WINDOW) - 1
#: Seconds a nonce may appear to come from the future (monitor clocks).
MAX_CLOCK_SKEW = 5.0


@dataclasses.dataclass(frozen=True)
class Freshness:
    """What consumed a host's reports so far (kept in the database).

    ``sequence`` is the last accepted sequence of boot ``boot_id``; bit
    ``i`` of ``seen`` says whether ``sequence - 1 - i`` was accepted too;
    ``nonce_at`` is the issue time of the last accepted report's nonce.
    """

    boot_id: str = None
    sequence: int = 0
    seen: int = 0
    nonce_at: float = 0.0


@dataclasses.dataclass
class Enrollment:
    """What the monitor knows about an enrolled host."""

    host: str
    architecture: str
    public_key: object
    #: The enrolled key as stored (base64): the database update of the
    #: freshness state is conditional on it, so a re-enrollment wins.
    key_text: str = None
    freshness: Freshness = dataclasses.field(default_factory=Freshness)
    #: Monitor time the record was read from the database.
    reloaded: float = 0.0
    #: TPM hosts: the enrolled EK and the activated AK (tpm2.PublicArea),
    #: the AK as reported (base64), ``(AK digest, (proof digest, ...))`` of
    #: the credentials the group sent for an AK's activation
    #: (:func:`~sod_nova.trust.attestation.fingerprint`), and the clock of
    #: the last accepted quote; both as the group's database holds them.
    tpm_ek: object = None
    tpm_ek_text: str = None
    tpm_ak: object = None
    tpm_ak_text: str = None
    tpm_pending: tuple = None
    tpm_clock: object = None
    #: Signatures (their first 96 bits, as sent) of the last reports
    #: accepted from this host: a flood of replays is rejected without an
    #: Ed25519 verify each.
    accepted: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Verdict:
    host: str
    state: str
    reason: str
    outcome: str = VERDICT
    #: For a rejected or late report: one of the codes above.
    code: str = None
    evidence: object = None
    #: After an attributable report with a nonce: the host's new freshness.
    freshness: Freshness = None
    #: Whether ``host`` is an enrolled host (only those get counts and
    #: challenges: no state is kept for names nobody enrolled).
    enrolled: bool = True
    #: The :class:`~sod_nova.trust.attestation.Result` of a TPM host.
    tpm: object = None

    @property
    def trusted(self):
        return self.state == trust.TRUSTED

    @property
    def rejected(self):
        return self.outcome == REJECTED

    @property
    def late(self):
        return self.outcome == LATE

    @property
    def fresh(self):
        """Attributable and on a fresh nonce: freshness state moves on."""
        return self.freshness is not None


#: Accepted signatures an :class:`Enrollment` remembers, and how much of
#: each (96 bits of a base64 Ed25519 signature tell reports apart).
ACCEPTED_KEPT = 64
_SIGNATURE_PREFIX = 16


def remember(enrollment, envelope):
    """Note ``envelope`` (accepted) as ``enrollment``'s latest report."""
    accepted = enrollment.accepted
    accepted[envelope['signature'][:_SIGNATURE_PREFIX]] = None
    while len(accepted) > ACCEPTED_KEPT:
        del accepted[next(iter(accepted))]


def rejected(host, code, reason, enrolled=True):
    return Verdict(host, None, reason, outcome=REJECTED, code=code,
                   enrolled=enrolled)


def late(host, code, reason, evidence=None):
    return Verdict(host, None, reason, outcome=LATE, code=code,
                   evidence=evidence)


def advance(state, boot_id, sequence, nonce_at):
    """``(outcome, new state or None, reason)`` for a report of ``boot_id``
    with ``sequence`` whose nonce was issued at ``nonce_at``.

    outcome is ``fresh``; ``replay`` (this sequence, or a report of an
    earlier boot, was already accepted: consumed); or ``overtaken`` (an
    older sequence of this boot never accepted: a newer report came first).
    A new boot is accepted only on a nonce issued after the last accepted
    report's, so a report of an ended boot cannot come back.
    """
    if state.boot_id is None:
        return 'fresh', Freshness(boot_id, sequence, 0, nonce_at), None
    if boot_id != state.boot_id:
        if nonce_at > state.nonce_at:
            return 'fresh', Freshness(boot_id, sequence, 0, nonce_at), None
        return 'replay', None, ('replayed report: boot %s ended (its nonce '
                                'is older than the last accepted report\'s)'
                                % boot_id)
    last = state.sequence
    if sequence > last:
        shift = sequence - last
        seen = (((state.seen << shift) | (1 << (shift - 1))) & _WINDOW_MASK
                if shift <= WINDOW else 0)
        return 'fresh', Freshness(boot_id, sequence, seen,
                                  max(nonce_at, state.nonce_at)), None
    behind = last - sequence
    if behind == 0 or behind > WINDOW or state.seen >> (behind - 1) & 1:
        return 'replay', None, ('replayed report: sequence %d already '
                                'accepted (last %d)' % (sequence, last))
    return 'overtaken', None, ('late report: sequence %d overtaken by %d'
                               % (sequence, last))


#: Boot-check findings a :class:`Verifier` keeps, the oldest dropped
#: first (one per distinct boot log its hosts quote; a fleet of one
#: image needs one per architecture), and the longest log kept: at most
#: about 1024 x 64 events in memory, whatever a host sends.
BOOT_FINDINGS_KEPT = 1024
BOOT_FINDING_EVENTS = 64
_MISSING = object()


class Verifier:
    """Checks reports against enrollments and reference values."""

    def __init__(self, references, max_bytes, nonce_max_age, nonce_key):
        self.references = references
        self.max_bytes = max_bytes
        self.nonce_max_age = nonce_max_age
        self.nonce_key = nonce_key
        # A host boots once and quotes the same log and PCRs in every report
        # of that boot: the boot check's finding is kept per (architecture,
        # log, PCRs), a pure function of them and of the fixed references,
        # instead of re-hashing the log each report (bounded: see
        # BOOT_FINDINGS_KEPT).
        self._boot_findings = {}
        # The last nonce checked, ``(host, nonce, issue time)``: the cheap
        # freshness check before the signature and the full one after it
        # read the same nonce, so its MAC is computed once.
        self._last_nonce = (None, None, None)
        self._parser = evidence_mod.Parser()

    def verify(self, envelope, lookup, now):
        """The :class:`Verdict` on ``envelope``; never raises.

        ``lookup(host)`` returns the host's :class:`Enrollment` or None
        (called only with valid host names); ``now`` is the monitor's clock,
        the one nonces carry.
        """
        signed = [None]
        try:
            return self._verify(envelope, lookup, now, signed)
        except Exception as exc:  # a bug must not fail open
            host = signed[0]
            reason = 'internal error verifying evidence: %s' % (
                type(exc).__name__)
            if host is None:
                return rejected(None, INTERNAL_ERROR, reason, enrolled=False)
            return Verdict(host, trust.UNTRUSTED, reason + ' (fails closed)',
                           code=INTERNAL_ERROR)

    def _verify(self, envelope, lookup, now, signed):
        try:
            host, data, signature = evidence_mod.open_envelope(
                envelope, self.max_bytes)
        except evidence_mod.EvidenceError as exc:
            reason = str(exc)
            claimed = getattr(exc, 'host', None)
            return rejected(claimed, OVERSIZED if reason.startswith(
                'oversized') else MALFORMED, reason,
                enrolled=claimed is not None and lookup(claimed) is not None)
        enrollment = lookup(host)
        if enrollment is None:
            return rejected(host, UNKNOWN_HOST, 'unknown host: no enrolled key',
                            enrolled=False)
        if envelope['signature'][:_SIGNATURE_PREFIX] in enrollment.accepted:
            return rejected(host, REPLAY, 'replayed report: already accepted')
        # Freshness before the signature: a report whose nonce or sequence
        # cannot be fresh is refused without an Ed25519 verify or a parse (a
        # flood of stale forgeries and replays costs a few regex searches
        # each). It is not attributable either way; only the label may
        # differ. What looks fresh is checked in full below.
        early = self._parser.known(data)     # unsigned: only to refuse
        peeked = ((early.boot_id, early.sequence, early.nonce) if early
                  else evidence_mod.peek(data))
        if peeked is not None:
            verdict = self._freshness(enrollment, *peeked, now)[1]
            if verdict is not None:
                return verdict
        try:
            evidence_mod.check_signature(enrollment.public_key, data, signature)
        except evidence_mod.EvidenceError as exc:
            return rejected(host, SIGNATURE, str(exc))
        signed[0] = host
        try:
            evidence = early or self._parser.parse(data)
        except evidence_mod.EvidenceError as exc:
            return Verdict(host, trust.UNTRUSTED, str(exc))
        if evidence.host != enrollment.host:
            return Verdict(host, trust.UNTRUSTED, 'evidence is for host %s, not %s'
                           % (evidence.host, enrollment.host))
        freshness, verdict = self._freshness(
            enrollment, evidence.boot_id, evidence.sequence, evidence.nonce,
            now, evidence)
        if verdict is not None:
            return verdict
        reason = self._identity_problem(enrollment, evidence)
        quote = None if reason else attestation.check(enrollment, evidence)
        if quote is not None and quote.credential_for is not None:
            return Verdict(host, None, quote.reason, outcome=LATE,
                           code=AWAITING_ACTIVATION, evidence=evidence,
                           tpm=quote)
        reason = (reason or (quote and quote.reason)
                  or self._boot_problem(evidence)
                  or (evidence.platform is not None
                      and platform.architecture_problem(evidence.architecture,
                                                        evidence.platform))
                  or self._runtime_problem(evidence.runtime))
        if reason:
            return Verdict(host, trust.UNTRUSTED, reason, evidence=evidence,
                           freshness=freshness, tpm=quote)
        return Verdict(host, trust.TRUSTED, 'evidence verified',
                       evidence=evidence, freshness=freshness, tpm=quote)

    def _freshness(self, enrollment, boot_id, sequence, nonce, now,
                   evidence=None):
        """``(new freshness, None)`` when a report of ``boot_id`` with
        ``sequence`` quoting ``nonce`` is fresh: a nonce the group issued to
        this host, not expired, and a sequence not consumed. Else
        ``(None, rejected or late verdict)``."""
        host = enrollment.host
        if nonce is None:
            return None, rejected(host, UNKNOWN_NONCE, 'missing nonce')
        issued = self._issued_at(host, nonce)
        if issued is None:
            return None, rejected(host, UNKNOWN_NONCE, 'unknown nonce: not '
                                  'issued to this host by this monitor group')
        age = now - issued
        if age < -MAX_CLOCK_SKEW:
            return None, rejected(host, UNKNOWN_NONCE, 'nonce issued %.1fs in '
                                  'the future' % -age)
        if age > self.nonce_max_age:
            return None, late(host, EXPIRED, 'expired nonce (issued %.1fs ago, '
                              'limit %.1fs)' % (age, self.nonce_max_age),
                              evidence)
        outcome, freshness, reason = advance(enrollment.freshness, boot_id,
                                             sequence, issued)
        if outcome == 'replay':
            return None, rejected(host, REPLAY, reason)
        if outcome == 'overtaken':
            return None, late(host, OVERTAKEN, reason, evidence)
        return freshness, None

    def _issued_at(self, host, nonce):
        last_host, last_nonce, issued = self._last_nonce
        if last_host != host or last_nonce != nonce:
            issued = nonces.issued_at(self.nonce_key, host, nonce)
            self._last_nonce = (host, nonce, issued)
        return issued

    @staticmethod
    def _identity_problem(enrollment, evidence):
        if evidence.architecture.lower() != enrollment.architecture.lower():
            return ('architecture claim %s differs from enrolled %s'
                    % (evidence.architecture, enrollment.architecture))
        return None

    def _boot_problem(self, evidence):
        if len(evidence.event_log) > BOOT_FINDING_EVENTS:
            return self._replay_problem(evidence)   # not kept: memory bound
        key = (evidence.architecture, evidence.event_log,
               tuple(sorted(evidence.pcrs.items())))
        findings = self._boot_findings
        finding = findings.get(key, _MISSING)
        if finding is _MISSING:
            finding = self._replay_problem(evidence)
            while len(findings) >= BOOT_FINDINGS_KEPT:
                findings.pop(next(iter(findings)), None)
            findings[key] = finding
        return finding

    def _replay_problem(self, evidence):
        replayed = measurements.replay(evidence.event_log)
        for index in sorted(set(replayed) | set(evidence.pcrs)):
            if replayed.get(index) != evidence.pcrs.get(index):
                return 'event log does not replay to the quoted PCR %d' % index
        reference = self.references.expected(evidence.architecture)
        if reference is None:
            return 'no reference values for %s' % evidence.architecture
        for index in sorted(set(reference) | set(evidence.pcrs)):
            if reference.get(index) != evidence.pcrs.get(index):
                extra = measurements.unexpected_events(
                    evidence.event_log, index, reference.get(index))
                if extra:
                    return ('PCR %d does not match the %s reference: '
                            'unexpected %s' % (index, evidence.architecture,
                                               ', '.join(extra)))
                names = [e.name for e in evidence.event_log if e.pcr == index]
                return 'PCR %d does not match the %s reference (events: %s)' % (
                    index, evidence.architecture, ', '.join(names) or 'none')
        return None

    @staticmethod
    def _runtime_problem(runtime):
        parts = []
        for name in sorted(runtime):
            count = runtime[name]
            if count:
                one, many = COUNTER_LABELS.get(
                    name, (name.replace('_', ' '), name.replace('_', ' ')))
                parts.append('%d %s' % (count, one if count == 1 else many))
        return ', '.join(parts) or None
