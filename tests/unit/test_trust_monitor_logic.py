"""The monitor's decisions and its parts, each alone: scope, group nonces,
alert counts, the batcher's queue, the challenger's limits, the recorder's
transactions; the transport default."""

import base64
import collections
import sqlite3
import threading
import time
import uuid

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_db import exception as db_exc
import oslo_messaging
import pytest
import sqlalchemy as sa

from sod_nova import polling
from sod_nova.catalog import Catalog
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import challenges
from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import references
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.backends import hyperwall
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import batcher
from sod_nova.trust.monitor import challenger
from sod_nova.trust.monitor import database
from sod_nova.trust.monitor import enrollments
from sod_nova.trust.monitor import recorder
from sod_nova.trust.monitor import service

TIMEOUT = 10.0


@pytest.fixture
def conf(trust_options):
    return trust_options


def test_scope_by_host_and_architecture(conf):
    everything = service.TrustMonitor(conf, name='all')
    assert everything.serves('any', 'TPM')
    family = service.TrustMonitor(conf, name='hw', architectures=['HyperWall'])
    assert family.serves('hw1', 'hyperwall') and not family.serves('tpm1', 'TPM')
    listed = service.TrustMonitor(conf, name='two', hosts=['a', 'b'],
                                  architectures=['TPM'])
    assert listed.serves('a', 'TPM')
    assert not listed.serves('c', 'TPM') and not listed.serves('a', 'DataSafe')


def test_scope_from_options(conf):
    fixture = config_fixture.Config(conf)
    fixture.setUp()
    fixture.config(group='sod_trust', monitor_hosts=['a'], monitor_name='tm-a',
                   monitor_topic='t-a')
    monitor = service.TrustMonitor(conf)
    assert (monitor.name, monitor.topic) == ('tm-a', 't-a')
    assert monitor.serves('a', 'TPM') and not monitor.serves('b', 'TPM')
    fixture.cleanUp()


def test_group_nonces_carry_host_and_issue_time_under_the_key():
    key = nonces.generate_key()
    nonce = nonces.issue(key, 'hw1', 1234.5678)
    assert len(nonce) == 64 and int(nonce, 16) >= 0
    assert nonces.issued_at(key, 'hw1', nonce) == 1234.567   # milliseconds
    assert nonces.issued_at(key, 'hw2', nonce) is None       # another host
    assert nonces.issued_at(nonces.generate_key(), 'hw1', nonce) is None
    tampered = '%016x' % (int(nonce[:16], 16) + 1000) + nonce[16:]
    assert nonces.issued_at(key, 'hw1', tampered) is None    # other time
    assert nonces.issue(key, 'hw1', 1.0) != nonces.issue(key, 'hw1', 1.0)
    for bad in (None, 'zz' * 32, 'a' * 63, 7):
        assert nonces.issued_at(key, 'hw1', bad) is None


def test_nonce_key_file(tmp_path):
    path = str(tmp_path / 'k')
    key = nonces.write_key(path)
    assert nonces.load_key(path) == key
    (tmp_path / 'short').write_text('ab' * 16)
    (tmp_path / 'text').write_text('not hex')
    with pytest.raises(nonces.NonceKeyError, match='holds 16 bytes; at least 32'):
        nonces.load_key(str(tmp_path / 'short'))
    with pytest.raises(nonces.NonceKeyError, match='must hold hex digits'):
        nonces.load_key(str(tmp_path / 'text'))
    with pytest.raises(nonces.NonceKeyError, match='cannot be read'):
        nonces.load_key(str(tmp_path / 'missing'))


def test_rejection_alerts_count_per_host_and_code_without_names(caplog):
    caplog.set_level('WARNING')
    counts = alerts.RejectionAlerts()
    for _ in range(3):
        counts.count('hw1', 'signature', 'bad signature')
    counts.count(None, 'unknown_host', 'unknown host: no enrolled key')
    stored, published = [], []
    counts.flush(stored.append, published.append)
    assert stored == [{('hw1', 'signature'): (3, 'bad signature'),
                       ('(unknown)', 'unknown_host'): (
                           1, 'unknown host: no enrolled key')}]
    assert {(p['host'], p['code'], p['count']) for p in published} == {
        ('hw1', 'signature', 3), ('(unknown)', 'unknown_host', 1)}
    # One WARNING for the first of a kind, one summary: not one per report.
    assert len([m for m in caplog.messages if 'hw1' in m]) == 2
    assert counts.take() == {}


def test_rejection_counts_survive_a_failed_store():
    counts = alerts.RejectionAlerts()
    counts.count('hw1', 'replay', 'r')

    def broken(_):
        raise RuntimeError('database gone')

    counts.flush(broken, lambda p: None)
    assert counts.take() == {('hw1', 'replay'): (1, 'r')}


def test_construction_does_no_io(conf):
    monitor = service.TrustMonitor(conf, name='m')
    assert monitor._server is None and monitor._transport is None


def test_transport_url_defaults_to_the_in_process_transport():
    conf = cfg.ConfigOpts()
    rpc.register_transport_opts(conf)
    conf([])
    assert conf.transport_url == 'fake://'


def sqlite_busy():
    error = sqlite3.OperationalError('database is locked')
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return sa.exc.OperationalError('UPDATE', {}, error)


def test_database_calls_are_retried_on_deadlock_only(monkeypatch):
    monkeypatch.setattr('time.sleep', lambda seconds: None)
    calls = []

    def flaky(context, fail=2, error=db_exc.DBDeadlock):
        calls.append(context)
        if len(calls) <= fail:
            raise error()
        return 'stored'

    db = database.Database()
    assert db.call(flaky) == 'stored' and len(calls) == 3
    assert all(isinstance(c, db_api.Context) for c in calls)
    calls.clear()
    assert db.call(flaky, fail=1, error=sqlite_busy) == 'stored'
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(db_exc.DBDeadlock):
        db.call(flaky, fail=database.ATTEMPTS)
    assert len(calls) == database.ATTEMPTS
    calls.clear()
    with pytest.raises(db_exc.DBError):
        db.call(flaky, error=db_exc.DBError)
    assert len(calls) == 1


# -- the parts, each alone ----------------------------------------------------

def test_batcher_queues_a_sweep_behind_the_reports_received_before_it():
    now = [100.0]
    done = []
    counters = collections.Counter()
    gate = threading.Event()

    def process(batch):
        gate.wait(TIMEOUT)
        done.append(('batch', list(batch)))

    batcher_ = batcher.Batcher('t', process,
                               lambda at: done.append(('sweep', at)),
                               lambda: now[0], counters)
    batcher_.start()
    try:
        batcher_.submit('r1')            # the worker takes it, waits on gate
        assert polling.until(lambda: counters['batches'] == 1, TIMEOUT, 0.01)
        batcher_.submit('r2')
        batcher_.submit('r3')
        batcher_.sweep_due()             # due at 100: behind r2 and r3
        now[0] = 200.0
        batcher_.sweep_due()             # one sweep queued at a time
        batcher_.submit('r4')
        gate.set()
    finally:
        batcher_.stop()                  # processes what is queued
    assert done == [('batch', ['r1']), ('batch', ['r2', 'r3']),
                    ('sweep', 100.0), ('batch', ['r4'])]


def test_batcher_drops_reports_beyond_its_queue_and_counts_them(monkeypatch):
    monkeypatch.setattr(batcher, 'MAX_QUEUE', 2)
    counters = collections.Counter()
    swept = []
    batcher_ = batcher.Batcher('t', list, swept.append, lambda: 1.0, counters)
    for report in ('r1', 'r2', 'r3'):      # no worker yet: all stay queued
        batcher_.submit(report)
    assert counters['dropped'] == 1
    batcher_.sweep_due()                   # no worker: the sweep runs now
    assert swept == [None]


class _Agent:
    """An agent's RPC endpoint that keeps the challenges it receives."""

    target = oslo_messaging.Target(version='1.2')

    def __init__(self):
        self.challenges = []

    def challenge(self, ctxt, nonce, immediate, ack=None, credential=None,
                  signature=None):
        self.challenges.append((nonce, immediate, ack, credential, signature))


@pytest.fixture
def challenged(db):
    """A challenger of hw1 (enrolled) on a clock of its own; the agent
    endpoint hw1's challenges reach over the fake:// transport."""
    db_enrollment.enroll_key(db_api.Context(), 'hw1', 'HyperWall',
                             keys.public_key_text(keys.generate_private_key()))
    topic = 'agents-%s' % uuid.uuid4().hex
    transport = rpc.get_transport(db)
    agent = _Agent()
    server = rpc.get_server(transport, topic, 'hw1', [agent])
    server.start()
    now = [1000.0]
    cache = enrollments.EnrollmentCache(database.Database())
    issuer = challenger.Challenger(db, cache, lambda host, arch: True,
                                   lambda: now[0])
    issuer.nonce_key = nonces.generate_key()
    issuer.load_keys()
    issuer.start(agent_rpcapi.AgentAPI(transport, topic))
    yield issuer, cache, agent, now
    server.stop()
    server.wait()
    transport.cleanup()


def _received(issuer, agent, count):
    """The challenges hw1 received ``(issue time, immediate, ack)``, once
    ``count`` arrived; each signed by the group."""
    assert polling.until(lambda: len(agent.challenges) >= count, TIMEOUT, 0.01)
    public = [challenges.signing_key(issuer.nonce_key).public_key()]
    for nonce, immediate, ack, credential, signature in agent.challenges:
        assert challenges.verify(public, 'hw1', nonce, immediate, ack,
                                 credential, signature) is None
    return sorted((nonces.issued_at(issuer.nonce_key, 'hw1', c[0]), c[1], c[2])
                  for c in agent.challenges)


def test_challenges_from_the_bus_are_rate_limited_per_host(challenged, db):
    issuer, cache, agent, now = challenged
    quarter = db.sod_trust.report_interval / 4
    issuer.request('hw1', limited=True)
    issuer.request('hw1', limited=True)        # within report_interval/4
    issuer.request('ghost', limited=True)      # not enrolled: ignored
    issuer.request('not a host!')              # invalid: ignored
    issuer.rechallenge(cache.cached('hw1'))    # a table of its own
    issuer.rechallenge(cache.cached('hw1'))
    now[0] += quarter
    issuer.request('hw1', limited=True)
    issuer.request('hw1')                      # the monitor's own: unlimited
    issuer.acknowledge('hw1', verify.Freshness('b', 7, 0, 0.0))
    later = 1000.0 + quarter
    assert _received(issuer, agent, 5) == [
        (1000.0, True, None), (1000.0, True, None), (later, False, {
            'boot_id': 'b', 'sequence': 7}), (later, True, None),
        (later, True, None)]
    assert cache.cached('ghost') is None


def test_acknowledgements_of_a_batch_share_one_group_signature(challenged):
    issuer, cache, agent, now = challenged
    with issuer.batched():
        for sequence in (1, 2, 3):
            issuer.acknowledge('hw1', verify.Freshness('b', sequence, 0, 0.0))
        issuer.acknowledge('hw2', verify.Freshness('b', 1, 0, 0.0))
    public = [challenges.signing_key(issuer.nonce_key).public_key()]

    def received(count):
        assert polling.until(lambda: len(agent.challenges) >= count, TIMEOUT, 0.01)
        for nonce, immediate, ack, credential, signature in agent.challenges:
            assert challenges.verify(public, 'hw1', nonce, immediate, ack,
                                     credential, signature) is None
        return sorted(c[2]['sequence'] for c in agent.challenges)
    assert received(3) == [1, 2, 3]
    roots = {c[4].split('.')[0] for c in agent.challenges}
    assert len(roots) == 1 and '.' in agent.challenges[0][4]
    issuer.acknowledge('hw1', verify.Freshness('b', 4, 0, 0.0))   # alone
    assert received(4) == [1, 2, 3, 4]
    assert '.' not in agent.challenges[-1][4]


def _report(host, key, nonce_key, sequence, mutate=None):
    backend = hyperwall.HyperWallBackend()
    event_log, pcrs = backend.measurements()
    ev = evidence.Evidence(host, 'HyperWall', 'boot', sequence,
                           nonces.issue(nonce_key, host, time.time()), 0.0,
                           tuple(event_log), pcrs, backend.runtime_evidence())
    if mutate is None:
        return evidence.sign(ev, key)
    doc = ev.to_document()
    mutate(doc)
    text = evidence.canonical(doc)
    return {'host': host, 'evidence': text,
            'signature': base64.b64encode(key.sign(text.encode())).decode()}


def _member(db, name, transport, nonce_key, publish, counters):
    """A started verdict recorder, monitor ``name``, of its own caches."""
    cache = enrollments.EnrollmentCache(database.Database())
    issuer = challenger.Challenger(db, cache, lambda host, arch: True,
                                   time.time)
    issuer.nonce_key = nonce_key
    issuer.load_keys()
    issuer.start(agent_rpcapi.AgentAPI(transport, 'agents-%s' % uuid.uuid4().hex))
    verdicts = recorder.VerdictRecorder(
        db, name, cache, database.Database(), issuer, alerts.RejectionAlerts(),
        publish, lambda host, arch: True, time.time, counters)
    trust_conf = db.sod_trust
    verdicts.start(Catalog.load(), verify.Verifier(
        references.References.load(trust_conf.reference_values_file),
        trust_conf.max_evidence_bytes, trust_conf.nonce_max_age, nonce_key))
    return verdicts


def _enroll(hosts):
    host_keys = {host: keys.generate_private_key() for host in hosts}
    for host, key in host_keys.items():
        db_enrollment.enroll_key(db_api.Context(), host, 'HyperWall',
                                 keys.public_key_text(key))
    return host_keys


@pytest.fixture
def recorded(db):
    """A verdict recorder of hosts hw0..hw3 (enrolled), its published
    changes, and counts of the database's transactions and SELECTs."""
    host_keys = _enroll('hw%d' % i for i in range(4))
    transport = rpc.get_transport(db)
    nonce_key = nonces.generate_key()
    changes = []
    verdicts = _member(db, 'tm', transport, nonce_key,
                       lambda *change: changes.append(change),
                       collections.Counter())
    seen = collections.Counter()
    engine = db_api.get_engine()

    def statement(conn, cursor, text, *args):
        seen['select' if text.lstrip().upper().startswith('SELECT')
             else 'other'] += 1

    def begin(conn):
        seen['transactions'] += 1

    sa.event.listen(engine, 'begin', begin)
    sa.event.listen(engine, 'before_cursor_execute', statement)
    yield verdicts, host_keys, nonce_key, changes, seen
    sa.event.remove(engine, 'begin', begin)
    sa.event.remove(engine, 'before_cursor_execute', statement)
    transport.cleanup()


def _malformed(doc):
    doc['pcrs']['\u00b2'] = 'a' * 64


def test_a_batch_is_recorded_in_one_transaction(recorded):
    verdicts, host_keys, nonce_key, changes, seen = recorded
    first = [_report(h, k, nonce_key, 1) for h, k in host_keys.items()]
    assert all(v.trusted for v in verdicts.process(first))   # reads, caches
    seen.clear()
    changes.clear()
    batch = [_report('hw0', host_keys['hw0'], nonce_key, 2),
             _report('hw1', host_keys['hw1'], nonce_key, 2),
             _report('hw2', host_keys['hw2'], nonce_key, 2, _malformed),
             first[3]]                                        # a replay
    results = verdicts.process(batch)
    assert [(v.outcome, v.code, v.state) for v in results] == [
        ('verdict', None, 'trusted'), ('verdict', None, 'trusted'),
        ('verdict', None, 'untrusted'), ('rejected', 'replay', None)]
    # One read of the batch's freshness, and the signed malformed report's
    # host row written in the batch's one writer transaction (before: two
    # more, one reading the enrollment again).
    assert seen['transactions'] == 2, seen
    assert changes == [('hw2', 'trusted', 'untrusted',
                        "malformed evidence: pcrs['\\xb2']", 'HyperWall')]
    host = db_api.host_get(db_api.Context(), 'hw2')
    assert (host.state, host.monitor) == ('untrusted', 'tm')


def test_members_taking_turns_on_a_host_verify_each_report_once(db):
    """RabbitMQ hands a host's reports to a group's members in turn: each
    member reads the batch's freshness first, so a report neither conflicts
    at its write nor is read and verified again; a host revoked meanwhile
    is refused."""
    host_keys = _enroll('hw%d' % i for i in range(4))
    transport = rpc.get_transport(db)
    nonce_key = nonces.generate_key()
    counters = collections.Counter()
    members = [_member(db, name, transport, nonce_key, lambda *change: None,
                       counters) for name in ('tm-a', 'tm-b')]
    for sequence in range(1, 7):
        verdicts = members[sequence % 2].process([
            _report(host, key, nonce_key, sequence)
            for host, key in host_keys.items()])
        assert all(v.trusted for v in verdicts), verdicts
    assert counters['conflicts'] == 0, counters
    db_enrollment.revoke(db_api.Context(), 'hw3')
    verdict, = members[1].process([_report('hw3', host_keys['hw3'],
                                           nonce_key, 7)])
    assert (verdict.outcome, verdict.code) == ('rejected', verify.UNKNOWN_HOST)
    transport.cleanup()


def test_the_stale_sweep_reads_the_rows_it_marks_once(recorded, db):
    verdicts, host_keys, nonce_key, changes, seen = recorded
    verdicts.process([_report(h, k, nonce_key, 1) for h, k in host_keys.items()])
    changes.clear()
    seen.clear()
    later = time.time() + 2 * db.sod_trust.evidence_max_age
    assert verdicts.check_stale(later) == sorted(host_keys)
    # The marking, then one read of the rows as marked, however many hosts
    # went stale (before: one more transaction and read per host).
    assert (seen['transactions'], seen['select']) == (2, 2), seen
    assert [(c[0], c[1], c[2], c[4]) for c in changes] == [
        (host, 'trusted', 'unreachable', 'HyperWall') for host in sorted(host_keys)]
    assert all(c[3].startswith('no verified evidence for ') for c in changes)
    seen.clear()
    assert verdicts.check_stale(later) == []
    assert (seen['transactions'], seen['select']) == (1, 1), seen
