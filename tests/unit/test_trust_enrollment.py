"""Enrollment and report freshness in the database (real SQLite, migrated).

A wrong proof is refused without using up the token, and never keeps a
correct one waiting; one public key belongs to one host, however it is
spelled; the freshness of a host's reports moves on
only from the state a monitor read (two replicas never both accept one
report); rejected-report counts add up per host and reason.
"""

import datetime

from cryptography.hazmat.primitives import serialization
import pytest

from sod_nova.db import api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import evidence_rejections
from sod_nova.trust import keys

CTX = api.Context()

UTC = datetime.UTC
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def public():
    return keys.public_key_text(keys.generate_private_key())


def enroll(host, token, key, proof_token=None, arch='HyperWall', now=NOW):
    proof = keys.enrollment_proof(proof_token or token, host, arch, key)
    return db_enrollment.enroll_with_token(
        CTX, host, arch, key, lambda token_key, a: keys.check_enrollment_proof(
            token_key, proof, host, a, key), now=now)


def test_wrong_proof_keeps_the_token_for_the_genuine_agent(db):
    db_enrollment.create_token(CTX, 'hw1', 'HyperWall', keys.token_key('right'), 600,
                               now=NOW)
    with pytest.raises(db_enrollment.EnrollmentError,
                       match='enrollment proof of hw1 does not match its token'):
        enroll('hw1', 'right', public(), proof_token='wrong')
    assert db_enrollment.get(CTX, 'hw1').token_pending      # not used up
    genuine = public()
    assert enroll('hw1', 'right', genuine).public_key == genuine
    assert not db_enrollment.get(CTX, 'hw1').token_pending  # used by its enrollment


def test_wrong_proofs_back_off_but_never_keep_the_right_one_waiting(db):
    db_enrollment.create_token(CTX, 'hw1', 'HyperWall', keys.token_key('right'), 600,
                               now=NOW)
    for _ in range(db_enrollment.FREE_PROOF_ATTEMPTS):
        with pytest.raises(db_enrollment.EnrollmentError, match='does not match'):
            enroll('hw1', 'right', public(), proof_token='wrong')
    # The back-off runs: a wrong proof is refused and not counted...
    with pytest.raises(db_enrollment.EnrollmentError,
                       match=r'does not match its token \(3 wrong proofs; '
                             r'back-off for 1 s more\)'):
        enroll('hw1', 'right', public(), proof_token='wrong')
    # ... and the genuine agent's right proof is checked, and enrolls.
    key = public()
    assert enroll('hw1', 'right', key, now=NOW).public_key == key


def test_a_stranger_at_every_back_off_end_cannot_lock_the_agent_out(db):
    db_enrollment.create_token(CTX, 'hw1', 'HyperWall', keys.token_key('right'),
                               db_enrollment.MAX_TOKEN_TTL, now=NOW)
    now = NOW
    for _ in range(20):     # a wrong proof whenever the back-off ended
        with pytest.raises(db_enrollment.EnrollmentError, match='does not match'):
            enroll('hw1', 'right', public(), proof_token='wrong', now=now)
        now += datetime.timedelta(seconds=db_enrollment.MAX_PROOF_BACKOFF)
    with pytest.raises(db_enrollment.EnrollmentError, match='does not match'):
        enroll('hw1', 'right', public(), proof_token='wrong', now=now)
    # The genuine agent, a second after the stranger, in the back-off.
    key = public()
    later = now + datetime.timedelta(seconds=1)
    assert enroll('hw1', 'right', key, now=later).public_key == key
    assert not db_enrollment.get(CTX, 'hw1').token_pending


def test_a_token_lives_at_most_a_week(db):
    for ttl in (0, db_enrollment.MAX_TOKEN_TTL + 1, 10 ** 20):
        with pytest.raises(db_enrollment.EnrollmentError,
                           match='a token lives 1 to 604800 seconds'):
            db_enrollment.create_token(CTX, 'hw1', 'TPM', keys.token_key('t'), ttl)


def _spellings(key_text):
    """The same public key written otherwise than the stored text."""
    pem = keys.load_public_key(key_text).public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return [pem, ' ' + key_text, key_text + '\n']


def test_one_key_one_host_whatever_its_spelling(db):
    key = public()
    db_enrollment.enroll_key(CTX, 'hw1', 'HyperWall', key)
    db_enrollment.create_token(CTX, 'hw2', 'HyperWall', keys.token_key('t'), 600,
                               now=NOW)
    for spelling in _spellings(key):
        # By a token (the monitor passes the agent's text on) ...
        with pytest.raises(db_enrollment.EnrollmentError,
                           match='not written as base64 of its 32 raw bytes'):
            enroll('hw2', 't', spelling)
        # ... or by the operator: only the canonical text is stored.
        with pytest.raises(db_enrollment.EnrollmentError,
                           match='not written as base64'):
            db_enrollment.enroll_key(CTX, 'hw3', 'TPM', spelling)
        assert keys.canonical_public_key(spelling) == key
    assert db_enrollment.get(CTX, 'hw2').public_key is None
    assert db_enrollment.get(CTX, 'hw3') is None


def test_token_enrollment_of_a_key_another_host_holds_is_refused(db):
    key = public()
    db_enrollment.enroll_key(CTX, 'hw1', 'HyperWall', key)
    db_enrollment.create_token(CTX, 'hw2', 'HyperWall', keys.token_key('t'), 600,
                               now=NOW)
    with pytest.raises(db_enrollment.EnrollmentError,
                       match='already enrolled for host hw1; one key belongs '
                             'to one host'):
        enroll('hw2', 't', key)
    assert db_enrollment.get(CTX, 'hw2').public_key is None
    with pytest.raises(db_enrollment.EnrollmentError, match='host hw1'):
        db_enrollment.enroll_key(CTX, 'hw3', 'TPM', key)
    assert db_enrollment.get(CTX, 'hw3') is None
    db_enrollment.enroll_key(CTX, 'hw1', 'HyperWall', key)   # its own key again: fine


def test_host_names_follow_the_one_rule(db):
    for bad in ('a/b', 'h\u00e9', 'x' * 256, 'a\nb', ''):
        with pytest.raises(ValueError, match='host'):
            api.host_declare(CTX, bad, 'TPM')
    assert api.host_get_all(CTX) == []


def _update(host, key, expect, new, trust=None):
    return db_enrollment.FreshnessUpdate(host, key, expect, new, trust=trust)


def test_freshness_moves_only_from_the_state_read(db):
    key = public()
    db_enrollment.enroll_key(CTX, 'hw1', 'HyperWall', key)
    start = db_enrollment.get(CTX, 'hw1').freshness
    assert start == (None, 0, 0, 0)
    first = ('boot', 1, 0, 1000)
    trusted = {'state': 'trusted', 'reason': 'evidence verified',
               'capability_mask': 1, 'last_evidence_at': NOW,
               'architecture': 'HyperWall', 'monitor': 'tm'}
    # Two replicas read the same state and accept the same report: one wins.
    update = _update('hw1', key, start, first, trusted)
    assert db_enrollment.advance_many(CTX, [update]) == ['unreachable']
    assert db_enrollment.advance_many(CTX, [update]) == [None]
    assert db_enrollment.get(CTX, 'hw1').freshness == first
    assert api.host_get(CTX, 'hw1').state == 'trusted'
    # Within one batch, a chain of reports of one host.
    second, third = ('boot', 2, 1, 2000), ('boot', 3, 3, 3000)
    assert db_enrollment.advance_many(CTX, [
        _update('hw1', key, first, second), _update('hw1', key, second, third),
    ]) == [True, True]
    # A re-enrolled key: reports signed with the old one change nothing.
    new_key = public()
    db_enrollment.enroll_key(CTX, 'hw1', 'HyperWall', new_key)
    assert db_enrollment.get(CTX, 'hw1').freshness == (None, 0, 0, 0)
    assert db_enrollment.advance_many(CTX, [_update('hw1', key, (None, 0, 0, 0), first)]) == [None]


def test_rejection_counts_add_up_per_host_and_code(db):
    evidence_rejections.add(CTX, {('hw1', 'signature'): (3, 'bad'),
                             ('(unknown)', 'unknown_host'): (1, 'who')}, now=NOW)
    evidence_rejections.add(CTX, {('hw1', 'signature'): (2, 'bad again'),
                             ('hw1', 'replay'): (1, 'old')}, now=NOW)
    counts = evidence_rejections.by_host(CTX)
    assert [(c.code, c.count, c.last_reason) for c in counts['hw1']] == [
        ('replay', 1, 'old'), ('signature', 5, 'bad again')]
    assert [c.count for c in counts['(unknown)']] == [1]


def _verdict(state, at, monitor='tm'):
    trusted = state == 'trusted'
    return {'state': state, 'reason': 'evidence verified' if trusted else 'PCR 10',
            'capability_mask': 1 if trusted else 0, 'last_evidence_at': at,
            'valid_until': api.evidence_valid_until(at, 60) if trusted else None,
            'architecture': 'HyperWall', 'monitor': monitor}


def _enrolled(*hosts):
    key = {}
    for host in hosts:
        key[host] = public()
        db_enrollment.enroll_key(CTX, host, 'HyperWall', key[host])
    return key


def test_a_batch_writes_due_rows_in_order_and_skips_foreign_ones(db):
    key = _enrolled('quiet', 'due', 'other', 'handover', 'raced', 'chain')
    now = api.now()       # the chain's trusted verdict must still be valid
    later = now + datetime.timedelta(seconds=5)
    api.host_set_trust(CTX, 'due', 'untrusted', 'PCR 10', 0, NOW, monitor='tm')
    # Another monitor's evidence, valid past ours (foreign), or expired
    # before ours was taken (ours now: a trusted row read as unreachable).
    api.host_set_trust(CTX, 'other', 'trusted', 'tm2 says', 1, NOW, monitor='tm2',
                       valid_until=NOW + datetime.timedelta(seconds=60))
    api.host_set_trust(CTX, 'handover', 'trusted', 'tm2 says', 1, NOW, monitor='tm2',
                       valid_until=NOW - datetime.timedelta(seconds=1))
    start, first, second = (None, 0, 0, 0), ('b', 1, 0, 1), ('b', 2, 1, 2)
    batch = [
        _update('quiet', key['quiet'], start, first),
        _update('due', key['due'], start, first, _verdict('trusted', NOW)),
        _update('other', key['other'], start, first, _verdict('trusted', NOW)),
        _update('handover', key['handover'], start, first, _verdict('trusted', NOW)),
        _update('raced', key['raced'], first, second, _verdict('trusted', NOW)),
        _update('chain', key['chain'], start, first, _verdict('trusted', now)),
        _update('chain', key['chain'], first, second, _verdict('untrusted', later)),
    ]
    assert db_enrollment.advance_many(CTX, batch) == [
        True, 'untrusted', 'foreign', 'unreachable', None, 'unreachable', 'trusted']
    rows = {row.host: row for row in api.host_get_all(CTX)}
    assert (rows['quiet'].state, rows['quiet'].last_evidence_at) == ('unreachable', None)
    assert (rows['due'].state, rows['due'].monitor, rows['due'].valid_until) == (
        'trusted', 'tm', NOW + datetime.timedelta(seconds=60))
    assert (rows['other'].reason, rows['other'].monitor) == ('tm2 says', 'tm2')
    assert (rows['handover'].reason, rows['handover'].monitor) == (
        'evidence verified', 'tm')
    assert (rows['raced'].state, rows['raced'].monitor) == ('unreachable', None)
    assert (rows['chain'].state, rows['chain'].reason, rows['chain'].valid_until,
            rows['chain'].last_evidence_at) == ('untrusted', 'PCR 10', None, later)
    # Every report but the raced one was consumed, the foreign one too.
    assert {h: db_enrollment.get(CTX, h).freshness for h in key} == {
        'quiet': first, 'due': first, 'other': first, 'handover': first,
        'raced': start, 'chain': second}


def test_a_batch_costs_a_few_statements_whatever_its_size(db):
    import sqlalchemy as sa
    hosts = ['hw%02d' % i for i in range(40)]
    key = _enrolled(*hosts)
    statements = []
    engine = api.get_engine()

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement != 'BEGIN':      # SQLite's, at the first write
            statements.append((statement.split()[0], executemany))
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        results = db_enrollment.advance_many(CTX, [
            _update(h, key[h], (None, 0, 0, 0), ('b', 1, 0, 1),
                    _verdict('trusted', NOW)) for h in hosts])
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)
    assert results == ['unreachable'] * len(hosts)
    assert all(row.state == 'trusted' for row in api.host_get_all(CTX))
    # Claim, read and write the freshness; claim, read and write the rows.
    assert statements == [('UPDATE', False), ('SELECT', False), ('UPDATE', True)] * 2
