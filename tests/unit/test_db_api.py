"""sod_nova.db.api on a real SQLite file, migrated by the shipped alembic chain."""

import concurrent.futures
import dataclasses
import datetime
import sqlite3

from oslo_db import exception as db_exc
import pytest
import sqlalchemy as sa

from sod_nova.conf import CONF
from sod_nova.db import api
from sod_nova.db import migration
from sod_nova.db import models
from sod_nova.db import rejections
from sod_nova.db import sqlite_locks

CTX = api.Context()

UTC = datetime.UTC
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_sync_runs_the_chain_from_0001_hosts(tmp_path):
    CONF.set_override('connection', 'sqlite:///%s/fresh.sqlite' % tmp_path,
                      'sod_database')
    try:
        assert migration.version() is None
        migration.sync()
        head = migration.version()
        engine = api.get_engine()
        tables = set(sa.inspect(engine).get_table_names())
        assert {'sod_hosts', 'sod_rejections', models.VERSION_TABLE} <= tables
        assert 'alembic_version' not in tables
        migration.sync()  # idempotent
        assert migration.version() == head
    finally:
        api.dispose()
        CONF.clear_override('connection', 'sod_database')


def test_missing_sqlite_directory_is_a_clear_error(tmp_path):
    CONF.set_override('connection', 'sqlite:///%s/no/such/dir/x.sqlite'
                      % tmp_path, 'sod_database')
    try:
        with pytest.raises(api.DatabaseConfigError, match='does not exist'):
            api.configure(CONF)
    finally:
        CONF.clear_override('connection', 'sod_database')


def test_declare_new_host_is_unreachable_never_trusted(db):
    row = api.host_declare(CTX, 'cn1', 'TPM')
    assert (row.host, row.architecture, row.state, row.reason,
            row.capability_mask, row.last_evidence_at) == (
        'cn1', 'TPM', 'unreachable', 'no verified evidence yet', 0, None)
    assert api.host_get(CTX, 'cn1') == row
    assert api.host_get(CTX, 'nope') is None


def test_declare_same_architecture_keeps_trust_other_clears_it(db):
    api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 0b11, NOW, architecture='TPM')
    api.host_declare(CTX, 'cn1', 'TPM')
    assert api.host_get(CTX, 'cn1').state == 'trusted'
    row = api.host_declare(CTX, 'cn1', 'HyperWall')
    assert (row.architecture, row.state, row.capability_mask) == (
        'HyperWall', 'unreachable', 0)
    assert 'architecture changed to HyperWall' in row.reason


def test_declaring_again_changes_nothing_not_even_updated_at(db):
    first = api.host_declare(CTX, 'cn1', 'TPM')
    assert api.host_declare(CTX, 'cn1', 'TPM') == first


def test_set_trust_upserts_and_reports_transitions(db):
    assert api.host_set_trust(CTX, 'cn1', 'trusted', 'quote ok', 5, NOW,
                              architecture='TPM', monitor='m1') == (None, 'trusted')
    later = NOW + datetime.timedelta(seconds=3)
    assert api.host_set_trust(CTX, 'cn1', 'untrusted', 'PCR 10 mismatch', 0,
                              later) == ('trusted', 'untrusted')
    # None keeps the time of the last evidence, the architecture, the monitor.
    assert api.host_set_trust(CTX, 'cn1', 'unreachable', 'silent', 0) == (
        'untrusted', 'unreachable')
    row = api.host_get(CTX, 'cn1')
    assert (row.state, row.reason, row.last_evidence_at, row.architecture,
            row.monitor) == ('unreachable', 'silent', later, 'TPM', 'm1')


def test_set_trust_refuses_bad_values(db):
    with pytest.raises(ValueError, match='architecture is needed'):
        api.host_set_trust(CTX, 'new', 'trusted', 'ok', 1, NOW)
    with pytest.raises(ValueError, match='not a host state'):
        api.host_set_trust(CTX, 'cn1', 'fine', 'ok', 1, NOW, architecture='TPM')
    with pytest.raises(ValueError, match='not a capability mask'):
        api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1 << 14, NOW,
                           architecture='TPM')
    with pytest.raises(ValueError, match='not a capability mask'):
        api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', True, NOW, architecture='TPM')
    assert api.host_get_all(CTX) == []


def test_naive_datetimes_are_utc_and_rows_are_detached_values(db):
    until = api.evidence_valid_until(NOW, 10).replace(tzinfo=None)
    api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, NOW.replace(tzinfo=None),
                       architecture='TPM', valid_until=until)
    row, = api.host_get_all(CTX)
    assert row.last_evidence_at == NOW
    assert row.valid_until == NOW + datetime.timedelta(seconds=10)
    assert row.state_at(NOW + datetime.timedelta(seconds=10))[0] == 'trusted'
    assert row.state_at(NOW + datetime.timedelta(seconds=10.5))[0] == 'unreachable'
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.state = 'untrusted'
    assert row.to_dict()['last_evidence_at'] == '2026-01-01T12:00:00+00:00'
    assert row.to_dict()['valid_until'] == '2026-01-01T12:00:10+00:00'


def test_valid_until_is_kept_for_trusted_verdicts_only(db):
    until = api.evidence_valid_until(NOW, 10)
    api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, NOW, 'TPM', valid_until=until)
    api.host_set_trust(CTX, 'cn1', 'untrusted', 'PCR mismatch', 0, NOW)
    assert api.host_get(CTX, 'cn1').valid_until is None
    # A trusted verdict without the monitor's freshness satisfies nothing.
    api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, NOW)
    assert api.host_get(CTX, 'cn1').state_at(NOW)[0] != 'trusted'


def test_a_trusted_row_whose_evidence_expired_was_unreachable_to_readers(db):
    """No sweep marked it (its monitor was down): the next verdict reports
    the change readers saw, so that it is announced."""
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=30)
    api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, past, 'TPM',
                       valid_until=api.evidence_valid_until(past, 10))
    assert api.host_get(CTX, 'cn1').state == 'trusted'
    now = api.now()
    assert api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, now, 'TPM',
                              valid_until=api.evidence_valid_until(now, 10)) == (
        'unreachable', 'trusted')
    assert api.host_set_trust(CTX, 'cn1', 'trusted', 'ok', 1, now, 'TPM',
                              valid_until=api.evidence_valid_until(now, 10)) == (
        'trusted', 'trusted')


def test_host_get_all_is_sorted(db):
    for name in ('cn3', 'cn1', 'cn2'):
        api.host_declare(CTX, name, 'TPM')
    assert [r.host for r in api.host_get_all(CTX)] == ['cn1', 'cn2', 'cn3']


def verdict(host, state, at, monitor=None, mask=1):
    """What a monitor with ``evidence_max_age`` 10 writes for ``host``."""
    return api.host_set_trust(CTX, host, state, 'ok' if mask else 'PCR mismatch',
                              mask, at, 'TPM', monitor,
                              valid_until=api.evidence_valid_until(at, 10))


def test_mark_stale_changes_only_old_trusted_rows(db):
    old = NOW - datetime.timedelta(seconds=30)
    verdict('fresh', 'trusted', NOW)
    verdict('old', 'trusted', old)
    verdict('bad', 'untrusted', old, mask=0)
    api.host_set_trust(CTX, 'unfreshened', 'trusted', 'ok', 1, NOW, 'TPM')
    api.host_declare(CTX, 'declared', 'TPM')
    assert api.hosts_mark_stale(CTX, now=NOW) == ['old', 'unfreshened']
    row = api.host_get(CTX, 'old')
    assert row.state == 'unreachable'
    assert row.reason.startswith('no verified evidence for 30.0 s (valid until '
                                 '2026-01-01T11:59:40Z')
    assert row.last_evidence_at == old and row.valid_until is None
    assert api.host_get(CTX, 'unfreshened').reason == 'no verified evidence'
    assert api.host_get(CTX, 'bad').reason == 'PCR mismatch'
    assert api.hosts_mark_stale(CTX, now=NOW) == []


def test_mark_stale_can_be_limited_to_one_monitor(db):
    old = NOW - datetime.timedelta(seconds=30)
    verdict('a', 'trusted', old, 'm1')
    verdict('b', 'trusted', old, 'm2')
    assert api.hosts_mark_stale(CTX, now=NOW, monitor='m2') == ['b']
    assert api.host_get(CTX, 'a').state == 'trusted'


def test_concurrent_upserts_of_one_new_host_make_one_row(db):
    def report(i):
        return api.host_set_trust(CTX, 'cn1', 'trusted', 'report %d' % i, 1,
                                  NOW, architecture='TPM')

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(report, range(16)))
    assert sum(1 for old, _ in results if old is None) == 1
    assert len(api.host_get_all(CTX)) == 1


def test_rejections_keep_the_latest_reason(db):
    assert rejections.get(CTX, 'u1') is None
    rejections.record(CTX, 'u1', 'malformed')
    rejections.record(CTX, 'u2', 'no host')
    rejections.record(CTX, 'u1', 'still malformed')
    assert rejections.get(CTX, 'u1').reason == 'still malformed'
    assert [r.instance_uuid for r in rejections.get_all(CTX)] == ['u2', 'u1']


def test_configure_is_once_and_another_database_needs_dispose(tmp_path, db):
    engine = api.get_engine()
    api.configure(CONF)                 # the same settings: nothing changes
    assert api.get_engine() is engine
    api.host_declare(CTX, 'only-in-first', 'TPM')
    CONF.set_override('connection', 'sqlite:///%s/second.sqlite' % tmp_path,
                      'sod_database')
    with pytest.raises(api.DatabaseConfigError, match='dispose'):
        api.configure(CONF)
    assert [r.host for r in api.host_get_all(CTX)] == ['only-in-first']
    api.dispose()
    migration.sync(CONF)
    assert api.host_get_all(CTX) == []


def test_calls_in_a_callers_transaction_join_it(db):
    class Boom(Exception):
        pass

    context = api.Context()
    with pytest.raises(Boom):
        with api.context_manager.writer.using(context):
            api.host_declare(context, 'cn1', 'TPM')
            api.host_set_trust(context, 'cn1', 'untrusted', 'bad', 0)
            rejections.record(context, 'u1', 'no host')
            assert api.host_get(context, 'cn1').state == 'untrusted'
            raise Boom()
    assert api.host_get_all(CTX) == []          # all three rolled back
    assert rejections.get_all(CTX) == []
    with api.context_manager.writer.using(context):
        api.host_declare(context, 'cn1', 'TPM')
        api.host_set_trust(context, 'cn1', 'untrusted', 'bad', 0)
    assert api.host_get(CTX, 'cn1').state == 'untrusted'


def test_a_sqlite_lock_conflict_is_recognised_by_its_result_code(tmp_path):
    CONF.set_override('connection', 'sqlite:///%s/busy.sqlite?timeout=0'
                      % tmp_path, 'sod_database')
    try:
        migration.sync(CONF)
        holder = sqlite3.connect(str(tmp_path / 'busy.sqlite'))
        holder.execute('BEGIN EXCLUSIVE')
        with pytest.raises(sa.exc.OperationalError) as raised:
            api.host_declare(CTX, 'cn1', 'TPM')
        assert sqlite_locks.is_lock_conflict(raised.value)
        holder.rollback()
        api.host_declare(CTX, 'cn1', 'TPM')
    finally:
        api.dispose()
        CONF.clear_override('connection', 'sod_database')


def test_other_database_errors_are_no_lock_conflict():
    missing = sqlite3.OperationalError('database is locked')  # text only
    missing.sqlite_errorcode = sqlite3.SQLITE_ERROR
    assert not sqlite_locks.is_lock_conflict(
        sa.exc.OperationalError('SELECT 1', {}, missing))
    assert not sqlite_locks.is_lock_conflict(db_exc.DBDeadlock())
    assert not sqlite_locks.is_lock_conflict(ValueError('database is locked'))
