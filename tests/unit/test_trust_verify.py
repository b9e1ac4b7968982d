"""The verifier's checks, one bad-evidence case per test.

Each bad report is built so that only the check under test can catch it (the
other fields are valid), so removing that check makes its test fail. Three
outcomes: attributable (a state), rejected (not attributable: no state) and
late (ignored).
"""

import dataclasses

import pytest

from sod_nova import trust
from sod_nova.trust import backends
from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import references
from sod_nova.trust import verify

NOW = 1_000_000.0
MAX_AGE = 30.0
GROUP_KEY = b'k' * 32
#: The freshness of the enrolled host: boot1 up to sequence 5, its last
#: report on a nonce issued at NOW - 10.
STATE = verify.Freshness('boot1', 5, 0b1111, NOW - 10)


def nonce(host='hw1', at=NOW - 1, key=GROUP_KEY):
    return nonces.issue(key, host, at)


@pytest.fixture
def key():
    return keys.generate_private_key()


@pytest.fixture
def enrolled(key):
    return verify.Enrollment('hw1', 'HyperWall', key.public_key(),
                             freshness=STATE)


def make_verifier(max_bytes=65536):
    return verify.Verifier(references.References(), max_bytes, MAX_AGE,
                           GROUP_KEY)


def report(backend, host='hw1', boot_id='boot1', sequence=6, nonce=None,
           architecture=None):
    nonce = nonce or globals()['nonce'](host)
    log, pcrs = backend.measurements()
    return evidence.Evidence(
        host=host, architecture=architecture or backend.architecture_type,
        boot_id=boot_id, sequence=sequence, nonce=nonce, timestamp=NOW,
        event_log=tuple(log), pcrs=pcrs, runtime=backend.runtime_evidence())


def check(envelope, enrollment, now=NOW, verifier=None):
    table = {enrollment.host: enrollment}
    return (verifier or make_verifier()).verify(envelope, table.get, now)


def test_clean_report_is_trusted_and_fresh(key, enrolled):
    verdict = check(evidence.sign(report(backends.load('hyperwall')), key), enrolled)
    assert (verdict.state, verdict.reason, verdict.outcome) == (
        trust.TRUSTED, 'evidence verified', verify.VERDICT)
    assert (verdict.freshness.boot_id, verdict.freshness.sequence) == ('boot1', 6)
    assert verdict.freshness.seen == 0b11111     # 5 is now remembered too


def test_hyperwall_violations_are_the_reason(key, enrolled):
    backend = backends.load('hyperwall')
    backend.start_attack(3)
    verdict = check(evidence.sign(report(backend), key), enrolled)
    assert (verdict.state, verdict.reason) == (trust.UNTRUSTED, '3 memory violations')
    assert verdict.fresh  # attributable: the report is consumed all the same


def test_one_violation_is_singular(key, enrolled):
    backend = backends.load('hyperwall')
    backend.start_attack(1)
    assert check(evidence.sign(report(backend), key), enrolled).reason == (
        '1 memory violation')


def test_datasafe_blocked_leaks(key):
    enrolled = verify.Enrollment('ds1', 'DataSafe', key.public_key())
    backend = backends.load('datasafe')
    backend.start_attack(2)
    verdict = check(evidence.sign(report(backend, host='ds1'), key), enrolled)
    assert verdict.reason == '2 blocked tagged-data leaks'


def test_forged_signature_is_rejected_without_a_state(enrolled):
    forged = evidence.sign(report(backends.load('hyperwall')),
                           keys.generate_private_key())
    verdict = check(forged, enrolled)
    assert (verdict.outcome, verdict.state, verdict.code) == (
        verify.REJECTED, None, verify.SIGNATURE)
    assert verdict.reason == 'signature does not verify with the enrolled key'
    assert not verdict.fresh


def test_unknown_host_is_rejected_and_not_enrolled(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), host='ghost'), key)
    verdict = check(envelope, enrolled)
    assert (verdict.enrolled, verdict.state, verdict.host, verdict.code) == (
        False, None, 'ghost', verify.UNKNOWN_HOST)
    assert verdict.reason == 'unknown host: no enrolled key'


def test_replay_of_an_accepted_sequence_is_rejected(key, enrolled):
    for sequence in (5, 3):                       # the last, one in the window
        envelope = evidence.sign(report(backends.load('hyperwall'),
                                        sequence=sequence), key)
        verdict = check(envelope, enrolled)
        assert (verdict.outcome, verdict.code) == (verify.REJECTED, verify.REPLAY)
        assert verdict.reason.startswith('replayed report: sequence %d' % sequence)


def test_stale_forgery_is_refused_before_the_signature(enrolled):
    """A forged report on a consumed sequence: refused as a replay by its
    text alone (no Ed25519 verify), still without any state."""
    stale = evidence.sign(report(backends.load('hyperwall'), sequence=5),
                          keys.generate_private_key())
    verdict = check(stale, enrolled)
    assert (verdict.outcome, verdict.code, verdict.state) == (
        verify.REJECTED, verify.REPLAY, None)
    fresh = evidence.sign(report(backends.load('hyperwall'), sequence=6),
                          keys.generate_private_key())
    assert check(fresh, enrolled).code == verify.SIGNATURE


def test_peek_finds_what_parse_finds():
    doc = report(backends.load('hyperwall'))
    text = evidence.canonical(doc.to_document()).encode()
    assert evidence.peek(text) == (doc.boot_id, doc.sequence, doc.nonce)
    assert evidence.peek(b'{"sequence":1}') is None


def test_replay_of_a_remembered_report_is_rejected_before_the_signature(
        key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    assert check(envelope, enrolled).trusted
    verify.remember(enrolled, envelope)
    enrolled.public_key = keys.generate_private_key().public_key()
    verdict = check(envelope, enrolled)      # would fail the signature now
    assert (verdict.code, verdict.reason) == (
        verify.REPLAY, 'replayed report: already accepted')
    for i in range(verify.ACCEPTED_KEPT):
        verify.remember(enrolled, {'signature': '%016d' % i})
    assert len(enrolled.accepted) == verify.ACCEPTED_KEPT
    assert envelope['signature'][:16] not in enrolled.accepted   # bounded


def test_overtaken_report_is_late_not_an_attack(key):
    """Sequence 4 never arrived before 5 (bit 0 of seen is clear)."""
    enrolled = verify.Enrollment('hw1', 'HyperWall', key.public_key(),
                                 freshness=verify.Freshness('boot1', 5, 0b1110,
                                                            NOW - 10))
    envelope = evidence.sign(report(backends.load('hyperwall'), sequence=4), key)
    verdict = check(envelope, enrolled)
    assert (verdict.outcome, verdict.code, verdict.state) == (
        verify.LATE, verify.OVERTAKEN, None)


def test_report_of_an_ended_boot_is_a_replay(key, enrolled):
    """The agent restarted after boot0: a report of boot0 quotes a nonce
    older than the last accepted report's."""
    old = evidence.sign(report(backends.load('hyperwall'), boot_id='boot0',
                               sequence=99, nonce=nonce(at=NOW - 20)), key)
    verdict = check(old, enrolled)
    assert (verdict.outcome, verdict.code) == (verify.REJECTED, verify.REPLAY)
    assert verdict.reason.startswith('replayed report: boot boot0 ended')


def test_new_boot_on_a_newer_nonce_may_restart_its_sequence(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), boot_id='boot2',
                                    sequence=1), key)
    verdict = check(envelope, enrolled)
    assert verdict.trusted
    assert verdict.freshness == verify.Freshness('boot2', 1, 0, NOW - 1)


def test_missing_nonce_is_rejected(key, enrolled):
    ev = report(backends.load('hyperwall'))
    ev = evidence.Evidence(**{**ev.__dict__, 'nonce': None})
    verdict = check(evidence.sign(ev, key), enrolled)
    assert (verdict.code, verdict.reason) == (verify.UNKNOWN_NONCE, 'missing nonce')


@pytest.mark.parametrize('made', [
    lambda: nonce(key=b'x' * 32),        # another group's
    lambda: nonce(host='hw2'),           # issued to another host
    lambda: 'a' * 64,                    # made up
])
def test_nonce_the_group_did_not_issue_to_this_host(key, enrolled, made):
    envelope = evidence.sign(report(backends.load('hyperwall'), nonce=made()), key)
    verdict = check(envelope, enrolled)
    assert (verdict.outcome, verdict.code, verdict.state) == (
        verify.REJECTED, verify.UNKNOWN_NONCE, None)


def test_nonce_from_the_future_is_rejected(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'),
                                    nonce=nonce(at=NOW + 60)), key)
    assert check(envelope, enrolled).reason == 'nonce issued 60.0s in the future'


def test_expired_nonce_is_late_not_untrusted(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = check(envelope, enrolled, now=NOW + MAX_AGE + 5)
    assert (verdict.outcome, verdict.code, verdict.state) == (
        verify.LATE, verify.EXPIRED, None)
    assert verdict.reason.startswith('expired nonce')


def test_event_log_that_does_not_replay_to_the_quote(key):
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key())
    tpm = backends.load('simulated-tpm')
    tpm.tamper_log()
    verdict = check(evidence.sign(report(tpm, host='tpm1'), key), enrolled)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == 'event log does not replay to the quoted PCR 9'


def test_tpm_unexpected_measurement_misses_the_reference(key):
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key())
    tpm = backends.load('simulated-tpm')
    tpm.start_attack(2)
    verdict = check(evidence.sign(report(tpm, host='tpm1'), key), enrolled)
    assert verdict.reason == ('PCR 10 does not match the TPM reference: '
                              'unexpected rootkit-0.ko, rootkit-1.ko')
    tpm.stop_attack()
    assert check(evidence.sign(report(tpm, host='tpm1'), key), enrolled).trusted


def test_architecture_claim_differs_from_enrollment(key, enrolled):
    """A consistent DataSafe report (its own golden log) from a host enrolled
    as HyperWall."""
    envelope = evidence.sign(report(backends.load('datasafe')), key)
    verdict = check(envelope, enrolled)
    assert verdict.reason == 'architecture claim DataSafe differs from enrolled HyperWall'
    assert verdict.state == trust.UNTRUSTED and verdict.fresh


def test_report_for_another_host_signed_by_this_one(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), host='hw2',
                                    nonce=nonce('hw1')), key)
    envelope['host'] = 'hw1'
    verdict = check(envelope, enrolled)
    assert verdict.reason == 'evidence is for host hw2, not hw1'
    assert verdict.state == trust.UNTRUSTED
    # On hw2's nonce it is not even fresh evidence of hw1: rejected.
    envelope = evidence.sign(report(backends.load('hyperwall'), host='hw2'), key)
    envelope['host'] = 'hw1'
    assert check(envelope, enrolled).code == verify.UNKNOWN_NONCE


def test_no_reference_values_fails_closed(key, enrolled):
    verifier = verify.Verifier(references.References({'TPM': {}}), 65536,
                               MAX_AGE, GROUP_KEY)
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = check(envelope, enrolled, verifier=verifier)
    assert verdict.reason == 'no reference values for HyperWall'


def test_oversized_payload_is_rejected_before_the_signature(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    limit = len(envelope['evidence']) - 1
    verdict = check(envelope, enrolled, verifier=make_verifier(max_bytes=limit))
    assert (verdict.outcome, verdict.code, verdict.state) == (
        verify.REJECTED, verify.OVERSIZED, None)
    assert verdict.reason.startswith('oversized evidence: ')


@pytest.mark.parametrize('envelope, reason', [
    ({'host': 'hw1', 'evidence': 5, 'signature': 'x'}, 'malformed report'),
    ({'host': 'hw1', 'evidence': 1}, 'malformed report'),
    ({'host': 'hw1', 'evidence': '{}', 'signature': '***'}, 'malformed report'),
    ({'host': 'hw1', 'evidence': '\u00e9', 'signature': ''}, 'malformed report'),
])
def test_malformed_envelope_of_an_enrolled_host_is_rejected(enrolled, envelope,
                                                            reason):
    verdict = check(envelope, enrolled)
    assert (verdict.outcome, verdict.state, verdict.enrolled) == (
        verify.REJECTED, None, True)
    assert verdict.reason.startswith(reason)


@pytest.mark.parametrize('envelope', [None, [], 'x', {'host': 7}, {'host': 'a b'},
                                      {'host': 'h\u00b2'}, {'host': 'h' * 256}])
def test_envelope_without_a_valid_host_is_rejected_unattributed(enrolled,
                                                                envelope):
    seen = []
    verdict = make_verifier().verify(envelope, seen.append, NOW)
    assert (verdict.enrolled, verdict.state, verdict.code) == (
        False, None, verify.MALFORMED)
    assert seen == []        # no lookup (no state) for an invalid name


def test_signed_garbage_is_malformed_and_attributable(key, enrolled):
    text = '{"version": 1'
    envelope = {'host': 'hw1', 'evidence': text,
                'signature': evidence.base64.b64encode(
                    key.sign(text.encode())).decode()}
    verdict = check(envelope, enrolled)
    assert verdict.reason == 'malformed evidence: not JSON'
    assert verdict.state == trust.UNTRUSTED


def _signed_text(key, text):
    return {'host': 'hw1', 'evidence': text,
            'signature': evidence.base64.b64encode(
                key.sign(text.encode())).decode()}


@pytest.mark.parametrize('field, value, reason', [
    ('version', 2, 'unsupported evidence version 2'),
    ('sequence', 0, 'malformed evidence: sequence must be an integer from 1 '
                    'to 2**63-1'),
    ('sequence', True, 'malformed evidence: sequence must be an integer from 1 '
                       'to 2**63-1'),
    ('sequence', 2 ** 63, 'malformed evidence: sequence must be an integer '
                          'from 1 to 2**63-1'),
    ('sequence', 10 ** 4000, 'malformed evidence: integer of 4001 digits (at '
                             'most 63 bits)'),
    ('nonce', 'xyz', 'malformed evidence: nonce must be 64 hex digits'),
    ('nonce', 'a' * 64 + '\n', 'malformed evidence: nonce must be 64 hex digits'),
    ('pcrs', {'0': 'a' * 64 + '\n'}, "malformed evidence: pcrs['0']"),
    ('runtime', {'memory_violations': -1}, "malformed evidence: runtime['memory_violations']"),
    ('runtime', {'memory_violations': 2 ** 63},
     "malformed evidence: runtime['memory_violations']"),
    ('pcrs', {'99': 'a' * 64}, "malformed evidence: pcrs['99']"),
    ('pcrs', {'\u00b2': 'a' * 64}, "malformed evidence: pcrs['\\xb2']"),
    ('pcrs', {'01': 'a' * 64}, "malformed evidence: pcrs['01']"),
    ('event_log', [{'pcr': 0}], 'malformed evidence: event_log[0]'),
    ('boot_id', 'b' * 256, 'malformed evidence: bad boot_id'),
    ('extra', 1, 'malformed evidence: fields extra'),
])
def test_signed_document_with_a_bad_field(key, enrolled, field, value, reason):
    doc = report(backends.load('hyperwall')).to_document()
    doc[field] = value
    verdict = check(_signed_text(key, evidence.canonical(doc)), enrolled)
    assert verdict.reason == reason
    assert verdict.state == trust.UNTRUSTED   # signed by the host: fails closed


@pytest.mark.parametrize('text, reason', [
    ('[' * 30000 + ']' * 30000, 'malformed evidence: nested too deep'),
    ('{"a":NaN}', 'malformed evidence: NaN is not a number'),
    ('{"a":Infinity}', 'malformed evidence: Infinity is not a number'),
])
def test_signed_hostile_json_is_refused_without_raising(key, enrolled, text,
                                                        reason):
    verdict = check(_signed_text(key, text), enrolled)
    assert (verdict.state, verdict.reason) == (trust.UNTRUSTED, reason)


def test_boot_findings_kept_per_log_never_hide_a_new_measurement(key):
    """One verifier keeps the boot check's finding per (log, PCRs): a host
    that measures something new after clean reports is still caught, and
    caught again after a clean report in between."""
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key())
    tpm = backends.load('simulated-tpm')
    verifier = make_verifier()
    outcomes = []
    for sequence, attack in enumerate((None, 2, None, 2, 3), start=1):
        if attack:
            tpm.start_attack(attack)
        verdict = check(evidence.sign(report(tpm, host='tpm1', sequence=sequence),
                                      key), enrolled, verifier=verifier)
        enrolled.freshness = verdict.freshness
        outcomes.append(verdict.reason)
        tpm.stop_attack()
    two = ('PCR 10 does not match the TPM reference: unexpected rootkit-0.ko, '
           'rootkit-1.ko')
    assert outcomes == ['evidence verified', two, 'evidence verified', two,
                        two + ', rootkit-2.ko']


def test_boot_findings_are_kept_per_pcrs_and_architecture_too(key):
    """The same log with other PCRs (a quote the log does not replay to),
    or claimed for another architecture, is judged on its own."""
    tpm = backends.load('simulated-tpm')
    verifier = make_verifier()
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key())

    def judge(ev):
        verdict = check(evidence.sign(ev, key), enrolled, verifier=verifier)
        enrolled.freshness = verdict.freshness
        return verdict.reason
    clean = report(tpm, host='tpm1', sequence=1)
    assert judge(clean) == 'evidence verified'
    tampered = {**clean.pcrs, 9: '0' * 64}
    assert judge(dataclasses.replace(clean, sequence=2, pcrs=tampered)) == (
        'event log does not replay to the quoted PCR 9')
    assert judge(dataclasses.replace(clean, sequence=3)) == 'evidence verified'
    # The TPM's clean log and PCRs, claimed by a HyperWall host.
    enrolled.architecture = 'HyperWall'
    assert judge(dataclasses.replace(clean, sequence=4, architecture='HyperWall')
                 ).startswith('PCR ')


def test_boot_findings_kept_are_bounded(key, monkeypatch):
    monkeypatch.setattr(verify, 'BOOT_FINDINGS_KEPT', 2)
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key())
    tpm = backends.load('simulated-tpm')
    verifier = make_verifier()
    for sequence in range(1, 6):
        tpm.start_attack(sequence)
        verdict = check(evidence.sign(report(tpm, host='tpm1', sequence=sequence),
                                      key), enrolled, verifier=verifier)
        enrolled.freshness = verdict.freshness
        tpm.stop_attack()
    assert len(verifier._boot_findings) == 2


def test_internal_error_fails_closed_for_a_signed_report(key, enrolled):
    """A bug in a later check (here: reference values that raise) gives an
    untrusted verdict for that host, never an exception or None."""
    class Broken(references.References):
        def expected(self, architecture):
            raise KeyError(architecture)

    verifier = verify.Verifier(Broken(), 65536, MAX_AGE, GROUP_KEY)
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = check(envelope, enrolled, verifier=verifier)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == ('internal error verifying evidence: KeyError '
                              '(fails closed)')
    assert verdict.code == verify.INTERNAL_ERROR


def test_internal_error_before_the_signature_changes_no_state(key, enrolled):
    def lookup(host):
        raise RuntimeError('database gone')

    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = make_verifier().verify(envelope, lookup, NOW)
    assert (verdict.outcome, verdict.state, verdict.code) == (
        verify.REJECTED, None, verify.INTERNAL_ERROR)


@pytest.mark.parametrize('state, boot, seq, nonce_at, outcome', [
    (verify.Freshness(), 'b', 1, 5.0, 'fresh'),
    (verify.Freshness('b', 5, 0, 5.0), 'b', 6, 6.0, 'fresh'),
    (verify.Freshness('b', 5, 0, 5.0), 'b', 5, 6.0, 'replay'),
    (verify.Freshness('b', 5, 0b10, 5.0), 'b', 3, 6.0, 'replay'),
    (verify.Freshness('b', 5, 0b10, 5.0), 'b', 4, 6.0, 'overtaken'),
    (verify.Freshness('b', 100, 0, 5.0), 'b', 37, 6.0, 'overtaken'),
    (verify.Freshness('b', 100, 0, 5.0), 'b', 36, 6.0, 'replay'),  # too old
    (verify.Freshness('b', 5, 0, 5.0), 'c', 1, 6.0, 'fresh'),
    (verify.Freshness('b', 5, 0, 5.0), 'c', 1, 5.0, 'replay'),
])
def test_advance(state, boot, seq, nonce_at, outcome):
    assert verify.advance(state, boot, seq, nonce_at)[0] == outcome


def test_advance_window_shifts_and_forgets_beyond_63():
    state = verify.Freshness('b', 1, 0, 1.0)
    _, state, _ = verify.advance(state, 'b', 3, 1.0)
    assert state.seen == 0b10            # 1 accepted, 2 not
    _, state, _ = verify.advance(state, 'b', 3 + 100, 1.0)
    assert state.seen == 0
    _, state, _ = verify.advance(state, 'b', 3 + 100 + 63, 1.0)
    assert state.seen == 1 << 62         # 103 is 63 behind: still known
    assert verify.advance(state, 'b', 103, 1.0)[0] == 'replay'


def _texts(sequences, **changes):
    """Canonical documents of one hyperwall host, one per sequence."""
    backend = backends.load('hyperwall')
    return [evidence.canonical(dataclasses.replace(
        report(backend, sequence=s), **changes).to_document()).encode()
        for s in sequences]


def _parsed(parser, data):
    try:
        return parser.parse(data)
    except evidence.EvidenceError as exc:
        return str(exc)


def _full(data):
    try:
        return evidence.parse(data)
    except evidence.EvidenceError as exc:
        return str(exc)


def test_a_hosts_template_parses_as_a_full_parse_would():
    parser = evidence.Parser()
    texts = _texts(range(1, 5))
    assert parser.known(texts[2]) is None          # not yet: seen twice first
    for data in texts:
        assert parser.parse(data) == evidence.parse(data)
    assert parser.known(texts[3]) == evidence.parse(texts[3])
    # Each report gets dicts of its own.
    parser.parse(texts[3]).runtime['memory_violations'] = 9
    assert parser.parse(texts[3]).runtime == {'memory_violations': 0}
    # Values of the template's slots that parse() refuses or reads
    # otherwise: the same error or value from the template.
    template = texts[3]
    for old, new in [(b'"sequence":4', b'"sequence":9999999999999999999'),
                     (b'"sequence":4', b'"sequence":9223372036854775807'),
                     (b'"timestamp":1000000.0', b'"timestamp":1e999'),
                     (b'"timestamp":1000000.0', b'"timestamp":-0'),
                     (b'"timestamp":1000000.0', b'"timestamp":25'),
                     (b'"timestamp":1000000.0', b'"timestamp":-2.5e3'),
                     (b'"timestamp":1000000.0', b'"timestamp":12345678901234567890')]:
        data = template.replace(old, new)
        assert data != template
        assert _parsed(parser, data) == _full(data), new
    assert parser.parse(template.replace(b'"timestamp":1000000.0',
                                         b'"timestamp":-0')).timestamp == 0.0


def test_a_template_whose_slot_is_not_the_field_is_never_used():
    # A duplicate key: the last one counts, not the one a template would cut.
    parser = evidence.Parser()
    texts = [t.replace(b'"sequence":', b'"sequence":1,"sequence":', 1)
             for t in _texts(range(2, 6))]
    for data in texts:
        assert parser.parse(data) == evidence.parse(data)
        assert parser.parse(data).sequence == int(
            data.split(b'"sequence":1,"sequence":')[1].split(b',')[0])
    assert parser.known(texts[-1]) is None


def test_a_tpm_or_platform_report_keeps_no_template():
    parser = evidence.Parser()
    texts = _texts(range(1, 4), platform={'model': 'x'})
    for data in texts:
        assert parser.parse(data) == evidence.parse(data)
    assert parser.known(texts[-1]) is None
