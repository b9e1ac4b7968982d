"""``sod-migration-manager`` as processes against real Nova, on MariaDB.

The embedded Nova (API, conductor, scheduler with the SoD filter, libvirt
computes over fake libvirt) runs in the test process, its API served over
HTTP on loopback; the managers are console-script processes that reach it
with keystoneauth and openstacksdk, as in production. The only stand-in is
Keystone: a middleware in front of the API adds the admin identity headers
Nova's API fixture builds its request context from (what keystonemiddleware
does with a real token). sod-nova's database is MariaDB, for the managers
and for the filter in nova-scheduler alike.

Trust changes are written to the host rows as the trust monitor does; the
managers find them at their reconcile pass (no notifications here).

The faults: the leader killed with SIGKILL in the middle of an evacuation,
with a standby running, and with none (the manager is started again).
Nothing lost: every VM ends on a compliant host and active, each was
live-migrated exactly once (Nova's migration records) with one finished task,
and the audit chain verifies.
"""

import contextlib
import time

import pytest

from functional import processes
from functional import wsgi
from sod_nova.catalog import Catalog
from sod_nova.cloud.nova import EmbeddedNova
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import leases
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import leader
from sod_nova.relocation import triggers

CONF = sod_nova.conf.CONF
CTX = db_api.Context()
CATALOG = Catalog.load()
SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
HYPERWALL = {'sod:options': '1,2'}          # HyperWall satisfies it
LEASE = 3.0
VMS = 4


class Cloud:
    def __init__(self, nova, endpoint, db_url, tmp_path):
        self.nova = nova
        self.tmp_path = tmp_path
        self.procs = processes.Processes(tmp_path)
        self.store = relocation_db.RelocationStore(CONF)
        self.config = tmp_path / 'manager.conf'
        self.config.write_text(
            '[sod_database]\nconnection = %s\nmax_retries = -1\nretry_interval = 1\n'
            '[trust]\nevidence_max_age = 3600\n'
            '[sod_audit]\nkey_file = %s\n'
            '[relocation]\nlisten_notifications = false\nreconcile_interval = 1\n'
            'poll_interval = 0.1\nmax_concurrent = 1\nmax_per_source_host = 1\n'
            'leader_lease = %s\n'
            '[nova]\nauth_type = admin_token\nendpoint = %s\ntoken = sod-tests\n'
            'endpoint_override = %s\n' % (db_url, CONF.sod_audit.key_file, LEASE,
                                           endpoint, endpoint))

    def declare(self, host, state='trusted', reason='verified'):
        db_api.host_declare(CTX, host, 'HyperWall')
        self.set_trust(host, state, reason)

    def set_trust(self, host, state, reason):
        mask = CATALOG.capability_mask('HyperWall') if state == 'trusted' else 0
        now = db_api.now()
        db_api.host_set_trust(CTX, host, state, reason, mask,
                              last_evidence_at=now,
                              valid_until=db_api.evidence_valid_until(
                                  now, CONF.sod_trust.evidence_max_age))

    def boot(self, host):
        server = self.nova.create_server(host=host, metadata=HYPERWALL)
        assert self.host_of(server) == host
        return server['id']

    def host_of(self, vm):
        server = vm if isinstance(vm, dict) else self.nova.get_server(vm)
        return server['OS-EXT-SRV-ATTR:host']

    def start_manager(self):
        return self.procs.start('sod-migration-manager', self.config)

    def leader_pid(self):
        row = leases.get(CTX, leader.ROLE)
        return int(row.holder.rsplit(':', 1)[1]) if row else None

    def tasks(self):
        return self.store.tasks(CTX)

    def assert_nothing_lost(self, vms, source, target):
        for vm in vms:
            server = self.nova.get_server(vm)
            assert (self.host_of(server), server['status']) == (target, 'ACTIVE')
            migrations = [m for m in self.nova.list_migrations(vm)
                          if m['status'] == 'completed']
            assert [(m['source_compute'], m['dest_compute']) for m in
                    migrations] == [(source, target)], 'moved more than once'
            tasks = self.store.tasks(CTX, vm)
            assert [(t.state, t.dest_host) for t in tasks] == [
                (triggers.DONE, target)], tasks
        assert audit.verify(self.store.audit_entries(CTX), self.store.audit_key()) is None
        moved = sorted(e.data['vm'] for e in self.store.audit_entries(CTX)
                       if e.data.get('event') == 'moved')
        assert moved == sorted(vms)


def audit_key(tmp_path):
    """The audit chain's key file, as an operator writes it."""
    path = tmp_path / 'audit.key'
    audit.write_key(path)
    return str(path)


@pytest.fixture
def cloud(tmp_path, mysql_url):
    overrides = {('sod_database', 'connection'): mysql_url,
                 ('sod_filter', 'host_cache_seconds'): 0.0,
                 ('sod_trust', 'evidence_max_age'): 3600.0,
                 ('sod_audit', 'key_file'): audit_key(tmp_path)}
    with EmbeddedNova(extra_filters=[SOD_FILTER]) as nova:
        for (group, option), value in overrides.items():
            CONF.set_override(option, value, group)
        db_migration.sync(CONF)
        with contextlib.closing(wsgi.serve_nova(nova)) as server:
            cloud = Cloud(nova, server.endpoint, mysql_url, tmp_path)
            try:
                yield cloud
            finally:
                cloud.procs.close()
        for (group, option), _ in overrides.items():
            CONF.clear_override(option, group)
        db_api.dispose()


def evacuation(cloud):
    """hw1 (with the VMs) becomes untrusted; hw2 is the one compliant host."""
    for host in ('hw1', 'hw2'):
        cloud.nova.start_compute(host)
        cloud.declare(host)
    return [cloud.boot('hw1') for _ in range(VMS)]


def wait_mid_evacuation(cloud):
    """Until the first move started and at least one is still to come."""
    cloud.procs.wait(lambda: any(
        t.state in (triggers.MIGRATING, triggers.DONE) for t in cloud.tasks()),
        'a first migration')
    tasks = cloud.tasks()
    assert len(tasks) == VMS and any(t.state == triggers.PENDING for t in tasks)


def wait_done(cloud, vms):
    cloud.procs.wait(
        lambda: len(cloud.tasks()) == len(vms) and all(
            t.state == triggers.DONE for t in cloud.tasks()),
        'every move finished (tasks %r)' % (cloud.tasks(),))


def test_two_managers_one_acts_and_the_standby_takes_over(cloud):
    vms = evacuation(cloud)
    first = cloud.start_manager()
    cloud.procs.wait(lambda: cloud.leader_pid() == first.pid, 'a first leader')
    second = cloud.start_manager()
    cloud.procs.wait(lambda: 'standby' in open(second.log_path).read(),
                     'the second manager waiting as a standby')
    cloud.set_trust('hw1', 'untrusted', '3 memory violations')
    wait_mid_evacuation(cloud)
    assert cloud.leader_pid() == first.pid           # the standby did nothing
    standby_log = open(second.log_path).read()
    assert 'acting' not in standby_log and 'must move' not in standby_log
    cloud.procs.kill9(first)
    killed = time.monotonic()
    expired = leases.get(CTX, leader.ROLE).expires_at
    cloud.procs.wait(lambda: cloud.leader_pid() == second.pid, 'a takeover')
    # Taken once the killed leader's lease had run out, not before (polled
    # ten times per renewal: this is nearly always the first lease).
    assert leases.get(CTX, leader.ROLE).expires_at - LEASE >= expired
    print('standby took over %.2f s after kill -9 (bound 4/3 lease: %.2f s)'
          % (time.monotonic() - killed, LEASE * 4 / 3))
    wait_done(cloud, vms)
    cloud.assert_nothing_lost(vms, 'hw1', 'hw2')
    assert second.poll() is None


def test_manager_killed_mid_evacuation_then_restarted(cloud):
    vms = evacuation(cloud)
    manager = cloud.start_manager()
    cloud.procs.wait(lambda: cloud.leader_pid() == manager.pid, 'a leader')
    cloud.set_trust('hw1', 'untrusted', '3 memory violations')
    wait_mid_evacuation(cloud)
    cloud.procs.kill9(manager)
    expired = leases.get(CTX, leader.ROLE).expires_at
    restarted = cloud.start_manager()           # waits for the old lease
    cloud.procs.wait(lambda: cloud.leader_pid() == restarted.pid, 'a leader')
    # Polled ten times per renewal: this is (nearly always) its first lease.
    assert leases.get(CTX, leader.ROLE).expires_at - LEASE >= expired
    wait_done(cloud, vms)
    cloud.assert_nothing_lost(vms, 'hw1', 'hw2')
