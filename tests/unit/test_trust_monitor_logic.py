"""The monitor's pure decisions: scope, group nonces, alert counts; the
transport default."""

import sqlite3

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_db import exception as db_exc
import pytest
import sqlalchemy as sa

from sod_nova.trust import nonces
from sod_nova.trust import rpc
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import service


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


def test_database_calls_are_retried_on_deadlock_only(conf, monkeypatch):
    monkeypatch.setattr('time.sleep', lambda seconds: None)
    monitor = service.TrustMonitor(conf, name='m')
    calls = []

    def flaky(conf, fail=2, error=db_exc.DBDeadlock):
        calls.append(conf)
        if len(calls) <= fail:
            raise error()
        return 'stored'

    assert monitor._db(flaky) == 'stored' and len(calls) == 3
    calls.clear()
    assert monitor._db(flaky, fail=1, error=sqlite_busy) == 'stored'
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(db_exc.DBDeadlock):
        monitor._db(flaky, fail=service.DB_ATTEMPTS)
    assert len(calls) == service.DB_ATTEMPTS
    calls.clear()
    with pytest.raises(db_exc.DBError):
        monitor._db(flaky, error=db_exc.DBError)
    assert calls == [conf]
