"""Verification of one evidence report: pure logic, no I/O.

The monitor hands the envelope, the host's enrollment record and the time to
:meth:`Verifier.verify` and gets a :class:`Verdict` back; it alone reads and
writes the database. Checks run cheapest first and each failure names the
reason:

1. envelope shape and size (before any cryptography);
2. the host is enrolled (else the report is dropped: unknown host);
3. the Ed25519 signature over the exact bytes, with the enrolled key;
4. the document's shape; its host equals the envelope's;
5. the claimed architecture equals the enrolled one;
6. freshness: the nonce is one this monitor issued to this host, unused and
   younger than ``nonce_max_age``; the sequence grows within one boot_id;
7. a host enrolled with a TPM endorsement key backs the PCRs with a quote
   of an activated attestation key (:mod:`sod_nova.trust.attestation`);
   the event log replays to the quoted PCRs;
8. the PCRs equal the architecture's reference values;
9. what libvirt reports (when the agent reads it) supports the claimed
   architecture (:mod:`sod_nova.trust.platform`);
10. no runtime counter reports a violation.

A report that passes 1-6 is *authentic and fresh*: its nonce is consumed and
its sequence recorded even if 7-9 make the host untrusted. A report that fails
1-6 changes no freshness state, so a forger cannot burn the host's nonces.

Nonces live in the monitor's memory and start with the monitor run's
``epoch``. An authentic report quoting a nonce of an earlier run (it was in
flight when the monitor restarted, or it is replayed from then) is *ignored*:
it changes nothing, and the monitor challenges the host again.
"""

import dataclasses

from sod_nova import trust
from sod_nova.trust import attestation
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import measurements
from sod_nova.trust import platform

#: How runtime counters read in a reason: (singular, plural).
COUNTER_LABELS = {
    'memory_violations': ('memory violation', 'memory violations'),
    'blocked_leaks': ('blocked tagged-data leak', 'blocked tagged-data leaks'),
    'policy_violations': ('policy violation', 'policy violations'),
    'violations': ('security violation', 'security violations'),
}


class _EarlierRun(evidence_mod.EvidenceError):
    """An authentic report whose nonce this monitor run did not issue."""


@dataclasses.dataclass
class Enrollment:
    """What the monitor knows about an enrolled host."""

    host: str
    architecture: str
    public_key: object
    boot_id: str = None
    last_sequence: int = 0
    #: ``{nonce hex: issued at (monitor clock)}``, each usable once.
    nonces: dict = dataclasses.field(default_factory=dict)
    #: The enrolled key as stored (base64), to detect re-enrollment.
    key_text: str = None
    #: TPM hosts: the enrolled EK and the activated AK (tpm2.PublicArea),
    #: the AK as reported (base64), ``(AK text, (secret, ...))`` of the
    #: credentials sent for its activation, and the clock of the last
    #: accepted quote.
    tpm_ek: object = None
    tpm_ek_text: str = None
    tpm_ak: object = None
    tpm_ak_text: str = None
    tpm_pending: tuple = None
    tpm_clock: object = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    host: str
    state: str
    reason: str
    enrolled: bool = True
    #: True for an authentic report quoting an earlier monitor run's nonce.
    ignored: bool = False
    #: True when the report was authentic and fresh (freshness state moves on).
    fresh: bool = False
    evidence: object = None
    #: The :class:`~sod_nova.trust.attestation.Result` of a TPM host.
    tpm: object = None

    @property
    def trusted(self):
        return self.state == trust.TRUSTED


class Verifier:
    """Checks reports against enrollments and reference values."""

    def __init__(self, references, max_bytes, nonce_max_age, epoch=None):
        self.references = references
        self.max_bytes = max_bytes
        self.nonce_max_age = nonce_max_age
        self.epoch = epoch

    def verify(self, envelope, lookup, now):
        """The :class:`Verdict` on ``envelope``.

        ``lookup(host)`` returns the host's :class:`Enrollment` or None;
        ``now`` is the monitor's clock, the one nonces were issued with.
        """
        try:
            host, data, signature = evidence_mod.open_envelope(
                envelope, self.max_bytes)
        except evidence_mod.EvidenceError as exc:
            host = getattr(exc, 'host', None)
            enrolled = host is not None and lookup(host) is not None
            return Verdict(host, trust.UNTRUSTED if enrolled else None,
                           str(exc), enrolled=enrolled)
        enrollment = lookup(host)
        if enrollment is None:
            return Verdict(host, None, 'unknown host: no enrolled key',
                           enrolled=False)
        try:
            evidence_mod.check_signature(enrollment.public_key, data, signature)
            evidence = evidence_mod.parse(data)
            self._check_identity(enrollment, evidence)
            self._check_fresh(enrollment, evidence, now)
        except _EarlierRun as exc:
            return Verdict(host, None, str(exc), ignored=True, evidence=evidence)
        except evidence_mod.EvidenceError as exc:
            return Verdict(host, trust.UNTRUSTED, str(exc))
        quote = attestation.check(enrollment, evidence)
        reason = ((quote and quote.reason) or self._boot_problem(evidence)
                  or (evidence.platform is not None
                      and platform.architecture_problem(evidence.architecture,
                                                        evidence.platform))
                  or self._runtime_problem(evidence.runtime))
        if reason:
            return Verdict(host, trust.UNTRUSTED, reason, fresh=True,
                           evidence=evidence, tpm=quote)
        return Verdict(host, trust.TRUSTED, 'evidence verified', fresh=True,
                       evidence=evidence, tpm=quote)

    @staticmethod
    def _check_identity(enrollment, evidence):
        if evidence.host != enrollment.host:
            raise evidence_mod.EvidenceError(
                'evidence is for host %s, not %s' % (evidence.host, enrollment.host))
        if evidence.architecture.lower() != enrollment.architecture.lower():
            raise evidence_mod.EvidenceError(
                'architecture claim %s differs from enrolled %s'
                % (evidence.architecture, enrollment.architecture))

    def _check_fresh(self, enrollment, evidence, now):
        if evidence.nonce is None:
            raise evidence_mod.EvidenceError('missing nonce')
        issued = enrollment.nonces.get(evidence.nonce)
        if issued is None and self.epoch and not evidence.nonce.startswith(
                self.epoch):
            raise _EarlierRun('nonce of an earlier monitor run')
        if issued is None:
            raise evidence_mod.EvidenceError(
                'replayed or unknown nonce (not issued to this host, or used)')
        if now - issued > self.nonce_max_age:
            raise evidence_mod.EvidenceError(
                'expired nonce (issued %.1fs ago, limit %.1fs)'
                % (now - issued, self.nonce_max_age))
        if (evidence.boot_id == enrollment.boot_id
                and evidence.sequence <= enrollment.last_sequence):
            raise evidence_mod.EvidenceError(
                'old sequence %d (last accepted %d)'
                % (evidence.sequence, enrollment.last_sequence))

    def _boot_problem(self, evidence):
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


def consume(enrollment, verdict):
    """Move ``enrollment``'s freshness state past an authentic, fresh report."""
    if verdict.fresh:
        ev = verdict.evidence
        enrollment.nonces.pop(ev.nonce, None)
        enrollment.boot_id = ev.boot_id
        enrollment.last_sequence = ev.sequence
        if verdict.tpm is not None and verdict.tpm.clock is not None:
            enrollment.tpm_clock = verdict.tpm.clock
    return enrollment
