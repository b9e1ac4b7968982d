"""Task and audit rows on a real SQLite database built by the migrations."""

import json
import subprocess
import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
import pytest
import sqlalchemy as sa

from sod_nova.cli import audit as audit_cli
from sod_nova.conf import audit as audit_conf
from sod_nova.conf import database
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import models
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import triggers


@pytest.fixture
def conf(tmp_path):
    conf = cfg.ConfigOpts()
    database.register_opts(conf)
    conf([])
    conf.set_override('connection', 'sqlite:///%s/sod.db' % tmp_path,
                      'sod_database')
    audit_conf.register_opts(conf)
    audit.write_key(tmp_path / 'audit.key')
    conf.set_override('key_file', str(tmp_path / 'audit.key'), 'sod_audit')
    db_migration.sync(conf)
    yield conf
    db_api.dispose()


@pytest.fixture
def store(conf):
    return relocation_db.RelocationStore(conf)


def test_migration_0003_is_head_and_matches_the_models(conf):
    assert db_migration.version(conf) == db_migration.head()
    inspector = sa.inspect(db_api.get_engine(conf))
    for table in (models.RelocationTask.__table__,
                  models.AuditEntry.__table__):
        columns = {c['name'] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_one_open_task_per_vm(store):
    first, created = store.task_open('vm1', triggers.TRUST_LOSS, 'hw1',
                                     priority=4, reason='attack')
    assert created and first.seq == 0
    assert first.cause == 'trust-loss@hw1#0'
    again, created = store.task_open('vm1', triggers.POLICY_CHANGE, 'hw1')
    assert not created and again.id == first.id
    store.task_update(first.id, state=triggers.DONE, dest_host='hw2')
    second, created = store.task_open('vm1', triggers.TRUST_LOSS, 'hw2')
    assert created and second.seq == 1
    assert [t.id for t in store.tasks_open()] == [second.id]
    assert [t.seq for t in store.tasks('vm1')] == [0, 1]


def test_parked_task_still_owns_its_vm(store):
    task, _ = store.task_open('vm1', triggers.TRUST_LOSS, 'hw1')
    store.task_update(task.id, state=triggers.PARKED, action='pause')
    assert store.task_open('vm1', triggers.MOVING_TARGET, 'hw1')[1] is False


def test_seq_is_unique_per_vm_in_the_database(conf, store):
    task, _ = store.task_open('vm1', triggers.TRUST_LOSS, 'hw1')
    with pytest.raises(db_exc.DBDuplicateEntry):
        with db_api.get_engine(conf).begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO relocation_tasks (vm, seq, trigger, state, kind, "
                "priority, source_host, attempts, failed_hosts) VALUES "
                "('vm1', 0, 'x', 'done', 'live', 0, 'hw1', 0, '[]')"))


def test_task_update_round_trips_and_refuses_keys(store):
    task, _ = store.task_open('vm1', triggers.TRUST_LOSS, 'hw1')
    task = store.task_update(task.id, failed_hosts=['hw2', 'hw3'],
                             attempts=2, migration_after=7)
    assert task.failed_hosts == ('hw2', 'hw3')
    assert store.task_get_open('vm1') == task
    with pytest.raises(ValueError, match='cannot update vm'):
        store.task_update(task.id, vm='other')


def test_audit_chain_appends_and_verifies(store):
    for i in range(4):
        assert store.audit_append({'event': 'moved', 'vm': 'vm%d' % i,
                                   'at': i}) == i + 1
    rows = store.audit_entries()
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[2].data == {'event': 'moved', 'vm': 'vm2', 'at': 2}
    assert audit.verify(rows, store.audit_key()) is None


def tamper(conf, sql):
    with db_api.get_engine(conf).begin() as connection:
        connection.execute(sa.text(sql))


def test_audit_verify_command_reports_the_first_broken_link(conf, store,
                                                            capsys):
    for i in range(3):
        store.audit_append({'event': 'moved', 'vm': 'vm%d' % i, 'at': i})
    assert audit_cli.verify_chain(store) == (None, 3, store.audit_entries()[-1].hash)
    tamper(conf, "UPDATE relocation_audit SET entry = "
                 "'{\"at\"\\:1,\"event\":\"moved\",\"vm\":\"evil\"}', "
                 "vm = 'evil' WHERE seq = 2")
    broken, count, _ = audit_cli.verify_chain(store)
    assert (broken.seq, count) == (2, 3)
    assert json.loads(store.audit_entries()[1].entry)['vm'] == 'evil'


def test_audit_verify_cli_exit_codes(conf, store, tmp_path):
    store.audit_append({'event': 'decided', 'vm': 'vm1', 'at': 1})
    store.audit_append({'event': 'moved', 'vm': 'vm1', 'at': 2})
    config = tmp_path / 'sod.conf'
    config.write_text('[sod_database]\nconnection = %s\n[sod_audit]\n'
                      'key_file = %s\n' % (conf.sod_database.connection,
                                           conf.sod_audit.key_file))

    def run():
        return subprocess.run(
            [sys.executable, '-m', 'sod_nova.cmd.manage', '--config-file',
             str(config), 'audit', 'verify'],
            capture_output=True, text=True, timeout=60)

    result = run()
    assert result.returncode == 0, result.stderr
    assert 'intact: 2 entries, head %s' % store.audit_entries()[-1].hash in (
        result.stdout)
    tamper(conf, 'DELETE FROM relocation_audit WHERE seq = 1')
    result = run()
    assert result.returncode == 1
    assert 'BROKEN at entry 1: missing' in result.stdout


def test_audit_append_retries_a_taken_sequence_number(store, monkeypatch):
    store.audit_append({'event': 'decided', 'vm': 'vm1', 'at': 1})
    real, attempts = store._writer, []

    def writer(taken=2):  # another writer took the next seq, ``taken`` times
        attempts.append(1)
        if len(attempts) <= taken:
            raise db_exc.DBDuplicateEntry(['seq'])
        return real()

    monkeypatch.setattr(store, '_writer', writer)
    assert store.audit_append({'event': 'moved', 'vm': 'vm1', 'at': 2}) == 2
    assert len(attempts) == 3
    attempts.clear()
    monkeypatch.setattr(store, '_writer', lambda: writer(taken=99))
    with pytest.raises(RuntimeError, match='could not append to the audit chain'):
        store.audit_append({'event': 'moved', 'vm': 'vm2', 'at': 3})
    assert len(attempts) == relocation_db.AUDIT_ATTEMPTS
    assert audit.verify(store.audit_entries(), store.audit_key()) is None
