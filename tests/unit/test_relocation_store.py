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

CTX = db_api.Context()


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
    first, created = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1',
                                     priority=4, reason='attack')
    assert created and first.seq == 0
    assert first.cause == 'trust-loss@hw1#0'
    again, created = store.task_open(CTX, 'vm1', triggers.POLICY_CHANGE, 'hw1')
    assert not created and again.id == first.id
    store.task_update(CTX, first.id, state=triggers.DONE, dest_host='hw2')
    second, created = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw2')
    assert created and second.seq == 1
    assert [t.id for t in store.tasks_open(CTX)] == [second.id]
    assert [t.seq for t in store.tasks(CTX, 'vm1')] == [0, 1]


def test_parked_task_still_owns_its_vm(store):
    task, _ = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1')
    store.task_update(CTX, task.id, state=triggers.PARKED, action='pause')
    assert store.task_open(CTX, 'vm1', triggers.MOVING_TARGET, 'hw1')[1] is False


def test_seq_is_unique_per_vm_in_the_database(conf, store):
    task, _ = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1')
    with pytest.raises(db_exc.DBDuplicateEntry):
        with db_api.get_engine(conf).begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO relocation_tasks (vm, seq, trigger, state, kind, "
                "priority, source_host, attempts, failed_hosts) VALUES "
                "('vm1', 0, 'x', 'done', 'live', 0, 'hw1', 0, '[]')"))


def test_task_update_round_trips_and_refuses_keys(store):
    task, _ = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1')
    task = store.task_update(CTX, task.id, failed_hosts=['hw2', 'hw3'],
                             attempts=2, migration_after=7)
    assert task.failed_hosts == ('hw2', 'hw3')
    assert store.task_get_open(CTX, 'vm1') == task
    with pytest.raises(ValueError, match='cannot update vm'):
        store.task_update(CTX, task.id, vm='other')


def test_audit_chain_appends_and_verifies(store):
    for i in range(4):
        assert store.audit_append(CTX, {'event': 'moved', 'vm': 'vm%d' % i,
                                   'at': i}) == i + 1
    rows = store.audit_entries(CTX)
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[2].data == {'event': 'moved', 'vm': 'vm2', 'at': 2}
    assert audit.verify(rows, store.audit_key()) is None


def tamper(conf, sql):
    with db_api.get_engine(conf).begin() as connection:
        connection.execute(sa.text(sql))


def test_audit_verify_command_reports_the_first_broken_link(conf, store,
                                                            capsys):
    for i in range(3):
        store.audit_append(CTX, {'event': 'moved', 'vm': 'vm%d' % i, 'at': i})
    assert audit_cli.verify_chain(CTX, store) == (None, 3, store.audit_entries(CTX)[-1].hash)
    tamper(conf, "UPDATE relocation_audit SET entry = "
                 "'{\"at\"\\:1,\"event\":\"moved\",\"vm\":\"evil\"}', "
                 "vm = 'evil' WHERE seq = 2")
    broken, count, _ = audit_cli.verify_chain(CTX, store)
    assert (broken.seq, count) == (2, 3)
    assert json.loads(store.audit_entries(CTX)[1].entry)['vm'] == 'evil'


def test_audit_verify_cli_exit_codes(conf, store, tmp_path):
    store.audit_append(CTX, {'event': 'decided', 'vm': 'vm1', 'at': 1})
    store.audit_append(CTX, {'event': 'moved', 'vm': 'vm1', 'at': 2})
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
    assert 'intact: 2 entries, head %s' % store.audit_entries(CTX)[-1].hash in (
        result.stdout)
    tamper(conf, 'DELETE FROM relocation_audit WHERE seq = 1')
    result = run()
    assert result.returncode == 1
    assert 'BROKEN at entry 1: missing' in result.stdout


def test_audit_append_retries_a_taken_sequence_number(store, monkeypatch):
    store.audit_append(CTX, {'event': 'decided', 'vm': 'vm1', 'at': 1})
    real_mac, attempts = audit.entry_mac, []

    def racing(taken):  # another writer took the next seq, ``taken`` times
        def entry_mac(*args):
            attempts.append(1)
            if len(attempts) <= taken:
                raise db_exc.DBDuplicateEntry(['seq'])
            return real_mac(*args)
        return entry_mac

    monkeypatch.setattr(audit, 'entry_mac', racing(2))
    assert store.audit_append(CTX, {'event': 'moved', 'vm': 'vm1', 'at': 2}) == 2
    assert len(attempts) == 3
    attempts.clear()
    monkeypatch.setattr(audit, 'entry_mac', racing(99))
    with pytest.raises(RuntimeError, match='could not append to the audit chain'):
        store.audit_append(CTX, {'event': 'moved', 'vm': 'vm2', 'at': 3})
    assert len(attempts) == relocation_db.AUDIT_ATTEMPTS
    monkeypatch.setattr(audit, 'entry_mac', real_mac)
    assert audit.verify(store.audit_entries(CTX), store.audit_key()) is None


def test_appends_in_one_transaction_read_the_head_once(conf, store):
    """A task step and its audit entry, or a pass's decisions, share one
    transaction; the chain's head is read at its first append only."""
    heads = []

    def count(conn, cursor, statement, *args):
        if 'ORDER BY relocation_audit.seq DESC' in statement:
            heads.append(statement)
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        context = db_api.Context()
        with db_api.context_manager.writer.using(context):
            task, _ = store.task_open(context, 'vm1', triggers.TRUST_LOSS,
                                      'hw1')
            for i in range(3):
                store.audit_append(context, {'event': 'decided', 'vm': 'vm1',
                                             'at': i})
            store.task_update(context, task.id, state=triggers.DONE)
        assert len(heads) == 1
        store.audit_append(CTX, {'event': 'moved', 'vm': 'vm1', 'at': 4})
        assert len(heads) == 2
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)
    assert [r.seq for r in store.audit_entries(CTX)] == [1, 2, 3, 4]
    assert audit.verify(store.audit_entries(CTX), store.audit_key()) is None
    assert store.tasks_open(CTX) == []


def test_a_failed_transaction_writes_neither_the_step_nor_its_entry(store):
    context = db_api.Context()
    task, _ = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1')
    with pytest.raises(ValueError, match='audit entry refused'):
        with db_api.context_manager.writer.using(context):
            store.task_update(context, task.id, state=triggers.DONE)
            store.audit_append(context, {'event': 'moved', 'vm': 'vm1',
                                         'at': 1})
            store.audit_append(context, {'event': 'moved', 'at': 'noon'})
    assert store.task_get_open(CTX, 'vm1') == task
    assert store.audit_entries(CTX) == []
