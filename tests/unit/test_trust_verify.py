"""The verifier's checks, one bad-evidence case per test.

Each bad report is built so that only the check under test can catch it (the
other fields are valid), so removing that check makes its test fail.
"""

import pytest

from sod_nova import trust
from sod_nova.trust import backends
from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import references
from sod_nova.trust import verify

NOW = 1_000_000.0
NONCE = 'a' * 64
NONCE2 = 'b' * 64
MAX_AGE = 30.0


@pytest.fixture
def key():
    return keys.generate_private_key()


@pytest.fixture
def enrolled(key):
    return verify.Enrollment('hw1', 'HyperWall', key.public_key(),
                             boot_id='boot1', last_sequence=5,
                             nonces={NONCE: NOW - 1})


def make_verifier(max_bytes=65536):
    return verify.Verifier(references.References(), max_bytes, MAX_AGE)


def report(backend, host='hw1', boot_id='boot1', sequence=6, nonce=NONCE,
           architecture=None):
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
    assert (verdict.state, verdict.reason, verdict.fresh) == (
        trust.TRUSTED, 'evidence verified', True)
    verify.consume(enrolled, verdict)
    assert (enrolled.nonces, enrolled.last_sequence) == ({}, 6)


def test_hyperwall_violations_are_the_reason(key, enrolled):
    backend = backends.load('hyperwall')
    backend.start_attack(3)
    verdict = check(evidence.sign(report(backend), key), enrolled)
    assert (verdict.state, verdict.reason) == (trust.UNTRUSTED, '3 memory violations')
    assert verdict.fresh  # authentic: the nonce is used up all the same


def test_one_violation_is_singular(key, enrolled):
    backend = backends.load('hyperwall')
    backend.start_attack(1)
    assert check(evidence.sign(report(backend), key), enrolled).reason == (
        '1 memory violation')


def test_datasafe_blocked_leaks(key):
    enrolled = verify.Enrollment('ds1', 'DataSafe', key.public_key(),
                                 nonces={NONCE: NOW})
    backend = backends.load('datasafe')
    backend.start_attack(2)
    verdict = check(evidence.sign(report(backend, host='ds1'), key), enrolled)
    assert verdict.reason == '2 blocked tagged-data leaks'


def test_forged_signature(enrolled):
    forged = evidence.sign(report(backends.load('hyperwall')),
                           keys.generate_private_key())
    verdict = check(forged, enrolled)
    assert verdict.state == trust.UNTRUSTED
    assert 'signature does not verify' in verdict.reason
    assert not verdict.fresh  # a forger cannot burn the host's nonce


def test_unknown_host_is_not_attributed(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), host='ghost'), key)
    verdict = check(envelope, enrolled)
    assert (verdict.enrolled, verdict.state, verdict.host) == (False, None, 'ghost')
    assert verdict.reason == 'unknown host: no enrolled key'


def test_replayed_report_from_before_a_restart(key, enrolled):
    """The agent restarted (new boot_id, sequence from 1): a report captured
    before is only caught by its used-up nonce."""
    old = evidence.sign(report(backends.load('hyperwall'), boot_id='boot0',
                               sequence=99, nonce=NONCE2), key)
    verdict = check(old, enrolled)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith('replayed or unknown nonce')


def test_old_sequence_with_a_valid_nonce(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), sequence=5), key)
    verdict = check(envelope, enrolled)
    assert (verdict.state, verdict.reason) == (
        trust.UNTRUSTED, 'old sequence 5 (last accepted 5)')


def test_new_boot_may_restart_its_sequence(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), boot_id='boot2',
                                    sequence=1), key)
    assert check(envelope, enrolled).trusted


def test_missing_nonce(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), nonce=None), key)
    assert check(envelope, enrolled).reason == 'missing nonce'


def test_expired_nonce(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = check(envelope, enrolled, now=NOW + MAX_AGE + 5)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith('expired nonce')


def test_event_log_that_does_not_replay_to_the_quote(key):
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key(),
                                 nonces={NONCE: NOW})
    tpm = backends.load('simulated-tpm')
    tpm.tamper_log()
    verdict = check(evidence.sign(report(tpm, host='tpm1'), key), enrolled)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == 'event log does not replay to the quoted PCR 9'


def test_tpm_unexpected_measurement_misses_the_reference(key):
    enrolled = verify.Enrollment('tpm1', 'TPM', key.public_key(),
                                 nonces={NONCE: NOW})
    tpm = backends.load('simulated-tpm')
    tpm.start_attack(2)
    verdict = check(evidence.sign(report(tpm, host='tpm1'), key), enrolled)
    assert verdict.reason == ('PCR 10 does not match the TPM reference: '
                              'unexpected rootkit-0.ko, rootkit-1.ko')
    tpm.stop_attack()
    enrolled.nonces = {NONCE: NOW}
    assert check(evidence.sign(report(tpm, host='tpm1'), key), enrolled).trusted


def test_architecture_claim_differs_from_enrollment(key, enrolled):
    """A consistent DataSafe report (its own golden log) from a host enrolled
    as HyperWall."""
    envelope = evidence.sign(report(backends.load('datasafe')), key)
    verdict = check(envelope, enrolled)
    assert verdict.reason == 'architecture claim DataSafe differs from enrolled HyperWall'


def test_report_for_another_host_signed_by_this_one(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall'), host='hw2'), key)
    envelope['host'] = 'hw1'
    assert check(envelope, enrolled).reason == 'evidence is for host hw2, not hw1'


def test_no_reference_values_fails_closed(key, enrolled):
    verifier = verify.Verifier(references.References({'TPM': {}}), 65536, MAX_AGE)
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    verdict = check(envelope, enrolled, verifier=verifier)
    assert verdict.reason == 'no reference values for HyperWall'


def test_oversized_payload_is_refused_before_the_signature(key, enrolled):
    envelope = evidence.sign(report(backends.load('hyperwall')), key)
    limit = len(envelope['evidence']) - 1
    verdict = check(envelope, enrolled, verifier=make_verifier(max_bytes=limit))
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith('oversized evidence: ')


@pytest.mark.parametrize('envelope, reason', [
    ({'host': 'hw1', 'evidence': 5, 'signature': 'x'}, 'malformed report'),
    ({'host': 'hw1', 'evidence': '{}', 'signature': '***'}, 'malformed report'),
    ({'host': 'hw1', 'evidence': 'é', 'signature': ''}, 'malformed report'),
])
def test_malformed_envelope_of_an_enrolled_host(enrolled, envelope, reason):
    verdict = check(envelope, enrolled)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith(reason)


@pytest.mark.parametrize('envelope', [None, [], 'x', {'host': 7}, {'host': 'a b'}])
def test_envelope_without_a_host_is_dropped(enrolled, envelope):
    verdict = check(envelope, enrolled)
    assert (verdict.enrolled, verdict.state) == (False, None)


def test_signed_garbage_is_malformed(key, enrolled):
    text = '{"version": 1'
    envelope = {'host': 'hw1', 'evidence': text,
                'signature': evidence.base64.b64encode(
                    key.sign(text.encode())).decode()}
    assert check(envelope, enrolled).reason == 'malformed evidence: not JSON'


@pytest.mark.parametrize('field, value, reason', [
    ('version', 2, 'unsupported evidence version 2'),
    ('sequence', 0, 'malformed evidence: sequence must be an integer >= 1'),
    ('sequence', True, 'malformed evidence: sequence must be an integer >= 1'),
    ('nonce', 'xyz', 'malformed evidence: nonce must be 64 hex digits'),
    ('runtime', {'memory_violations': -1}, "malformed evidence: runtime['memory_violations']"),
    ('pcrs', {'99': 'a' * 64}, "malformed evidence: pcrs['99']"),
    ('event_log', [{'pcr': 0}], 'malformed evidence: event_log[0]'),
    ('extra', 1, 'malformed evidence: fields extra'),
])
def test_signed_document_with_a_bad_field(key, enrolled, field, value, reason):
    doc = report(backends.load('hyperwall')).to_document()
    doc[field] = value
    text = evidence.canonical(doc)
    envelope = {'host': 'hw1', 'evidence': text,
                'signature': evidence.base64.b64encode(
                    key.sign(text.encode())).decode()}
    assert check(envelope, enrolled).reason == reason


def test_nonce_of_an_earlier_monitor_run_is_ignored(key, enrolled):
    verifier = verify.Verifier(references.References(), 65536, MAX_AGE,
                               epoch='e' * 16)
    envelope = evidence.sign(report(backends.load('hyperwall'), nonce=NONCE2), key)
    verdict = check(envelope, enrolled, verifier=verifier)
    assert (verdict.ignored, verdict.state, verdict.fresh) == (True, None, False)
    assert verdict.reason == 'nonce of an earlier monitor run'
    this_run = 'e' * 16 + 'f' * 48           # this run's, but never issued
    envelope = evidence.sign(report(backends.load('hyperwall'), nonce=this_run), key)
    verdict = check(envelope, enrolled, verifier=verifier)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith('replayed or unknown nonce')
