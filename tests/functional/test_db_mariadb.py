"""sod-nova's database functions on MariaDB, where they differ from SQLite.

Times of today (about 1.7e9 s since the epoch) must survive a round trip to
the second and below: MySQL's FLOAT would round them to 128 s, which made a
lease look expired while it ran (and its DATETIME kept whole seconds of
a host's evidence times).
"""

import datetime

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from sod_nova.cli import audit as audit_cli
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import leases
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import triggers

CTX = db_api.Context()

NOW = 1764600000.25


@pytest.fixture
def conf(mysql_url):
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('connection', mysql_url, 'sod_database')
    db_migration.sync(conf)
    yield conf
    db_api.dispose()


def test_lease_holds_to_the_fraction_of_a_second(conf):
    assert leases.acquire(CTX, 'role', 'a', 3.0, now=NOW)
    assert leases.get(CTX, 'role').expires_at == NOW + 3.0
    assert not leases.acquire(CTX, 'role', 'b', 3.0, now=NOW + 2.9)
    assert leases.acquire(CTX, 'role', 'a', 3.0, now=NOW + 1.0)
    assert not leases.acquire(CTX, 'role', 'b', 3.0, now=NOW + 3.5)
    assert leases.acquire(CTX, 'role', 'b', 3.0, now=NOW + 4.1)


def test_task_times_round_trip(conf):
    store = relocation_db.RelocationStore(conf)
    task, created = store.task_open(CTX, 'vm1', triggers.TRUST_LOSS, 'hw1',
                                    event_at=NOW)
    assert created
    store.task_update(CTX, task.id, not_before=NOW + 0.5)
    [task] = store.tasks(CTX, 'vm1')
    assert (task.event_at, task.not_before) == (NOW, NOW + 0.5)


def test_the_keyed_audit_chain_holds_and_catches_a_redate(conf, tmp_path):
    audit.write_key(tmp_path / 'audit.key')
    conf.set_override('key_file', str(tmp_path / 'audit.key'), 'sod_audit')
    conf.set_override('checkpoint_interval', 2, 'sod_audit')
    store = relocation_db.RelocationStore(conf)
    for i in range(3):
        store.audit_append(CTX, {'event': 'decided', 'vm': 'vm1', 'at': NOW + i,
                            'trigger': triggers.TRUST_LOSS})
    # Every MAC covers created_at: the DOUBLE round trip is exact.
    assert audit_cli.verify_chain(CTX, store)[0] is None
    assert [e['at'] for e in (r.data for r in store.audit_for_vm(
        CTX, 'vm1', NOW + 1.5, ('resumed', 'gone')))] == [NOW, NOW + 1, NOW + 2]
    with db_api.get_engine(conf).begin() as connection:
        connection.execute(sa.text('UPDATE relocation_audit SET created_at = '
                                   'created_at + 1 WHERE seq = 2'))
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert broken.seq == 2 and 'MAC does not match' in broken.reason


def test_host_times_keep_their_fraction_of_a_second(conf):
    at = datetime.datetime.fromtimestamp(NOW, datetime.UTC)
    until = db_api.evidence_valid_until(at, 0.5)
    db_api.host_set_trust(CTX, 'hw1', 'trusted', 'ok', 1, at, 'TPM',
                          valid_until=until)
    row = db_api.host_get(CTX, 'hw1')
    assert (row.last_evidence_at, row.valid_until) == (at, until)
    assert db_api.hosts_mark_stale(CTX, now=until) == []
    assert db_api.hosts_mark_stale(
        CTX, now=until + datetime.timedelta(microseconds=1)) == ['hw1']
