"""The migration manager against real Nova (libvirt driver over fake libvirt).

Every move goes through openstacksdk to the in-process Nova API; Nova's
scheduler, with the SoD filter enabled, chooses each destination. Trust
changes are written to the host rows and announced to the manager exactly as
the trust monitor does (``host_set_trust``, then the ``trust_changed``
hook); metadata changes reach it as Nova's versioned ``instance.update``
notifications through a real oslo.messaging listener.
"""

import contextlib
import json
import logging
import time

from nova import exception
from nova import rpc as nova_rpc
from nova.tests.functional.api import client
from nova.virt.libvirt import driver as libvirt_driver
import pytest

from sod_nova.catalog import Catalog
from sod_nova.cloud import noauth
from sod_nova.cloud import nova as nova_mod
from sod_nova.cloud import settle as settle_mod
from sod_nova.cloud.nova import EmbeddedNova
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import decider as decider_mod
from sod_nova.relocation import manager as manager_mod
from sod_nova.relocation import notifications
from sod_nova.relocation import triggers

CONF = sod_nova.conf.CONF
CTX = db_api.Context()
CATALOG = Catalog.load()
SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
HYPERWALL = {'sod:options': '1,2'}          # HyperWall satisfies it, TPM not
TPM_ONLY = {'sod:options': '6'}             # TPM satisfies it, HyperWall not


class Relocation:
    """An embedded cloud, its sod-nova database and a migration manager."""

    def __init__(self, nova, tmp_path):
        self.nova = nova
        self.tmp_path = tmp_path
        self.managers = []
        self.overridden = []

    def override(self, option, value, group='sod_relocation'):
        """Set an option for this test only (cleared by the fixture)."""
        CONF.set_override(option, value, group)
        self.overridden.append((option, group))

    def declare(self, host, architecture, state='trusted', reason='verified'):
        db_api.host_declare(CTX, host, architecture)
        self.set_trust(host, state, reason, announce=False)

    def set_trust(self, host, state, reason, announce=True):
        """What the trust monitor does on a verdict: row, then event."""
        row = db_api.host_get(CTX, host)
        mask = (CATALOG.capability_mask(row.architecture)
                if state == 'trusted' else 0)
        now = db_api.now()
        old, new = db_api.host_set_trust(
            CTX, host, state, reason, mask, last_evidence_at=now,
            valid_until=db_api.evidence_valid_until(
                now, CONF.sod_trust.evidence_max_age))
        if announce and old != new:
            for manager in self.managers:
                manager.trust_changed({
                    'host': host, 'old_state': old, 'new_state': new,
                    'reason': reason, 'architecture': row.architecture})

    def new_manager(self):
        compute = noauth.connect(
            self.nova.api_fixture.base_url, 'sod-tests')
        manager = manager_mod.MigrationManager(compute, CATALOG, CONF)
        self.managers.append(manager)
        return manager

    @property
    def manager(self):
        return self.managers[-1]

    @property
    def store(self):
        return relocation_db.RelocationStore(CONF)

    def boot(self, host, metadata=None, name=None):
        server = self.nova.create_server(name=name, host=host,
                                         metadata=metadata)
        assert server['status'] == 'ACTIVE', server
        assert self.host_of(server) == host
        return server['id']

    def server(self, vm):
        return self.nova.get_server(vm)

    def host_of(self, vm):
        server = vm if isinstance(vm, dict) else self.server(vm)
        return server['OS-EXT-SRV-ATTR:host']

    def status(self, vm):
        return self.server(vm)['status']

    def migrations(self, vm):
        """Nova's migration records of ``vm``, oldest first."""
        return sorted(self.nova.list_migrations(vm), key=lambda m: m['id'])

    def settle(self):
        assert settle_mod.settle(self.manager), 'the manager stopped advancing'

    def audit_events(self, vm=None):
        return [row.data for row in self.store.audit_entries(CTX)
                if vm is None or row.data.get('vm') == vm]


@pytest.fixture
def relocation(tmp_path):
    with EmbeddedNova(extra_filters=[SOD_FILTER]) as nova:
        overrides = {
            ('sod_database', 'connection'): 'sqlite:///%s/sod.db' % tmp_path,
            ('sod_filter', 'host_cache_seconds'): 0.0,
            # No trust agents here: evidence stays as fresh as set_trust left
            # it for the whole test.
            ('sod_trust', 'evidence_max_age'): 3600.0,
            ('sod_relocation', 'poll_interval'): 0.05,
            ('sod_relocation', 'retry_backoff'): 0.01,
            ('sod_relocation', 'reconcile_interval'): 3600,
            # The audit chain's key, outside the database.
            ('sod_audit', 'key_file'): str(tmp_path / 'audit.key'),
        }
        audit.write_key(tmp_path / 'audit.key')
        for (group, option), value in overrides.items():
            CONF.set_override(option, value, group)
        db_migration.sync(CONF)
        relocation = Relocation(nova, tmp_path)
        yield relocation
        for manager in relocation.managers:
            manager.stop()
        for option, group in relocation.overridden:
            CONF.clear_override(option, group)
        for (group, option), _ in overrides.items():
            CONF.clear_override(option, group)
        db_api.dispose()


def start_hosts(relocation, hosts):
    for host, (architecture, state) in hosts.items():
        relocation.nova.start_compute(host)
        relocation.declare(host, architecture, state)


def assert_chain_intact(relocation):
    assert audit.verify(relocation.store.audit_entries(CTX),
                        relocation.store.audit_key()) is None


def test_attack_moves_vms_with_a_request_and_leaves_the_others(relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted'),
                             'tpm1': ('TPM', 'trusted')})
    asking = [relocation.boot('hw1', HYPERWALL, name='vm-%d' % i)
              for i in range(2)]
    # The operator's floor: the request comes from the flavor alone.
    floor = relocation.nova.create_flavor(extra_specs=HYPERWALL)
    server = relocation.nova.create_server(name='floor', host='hw1',
                                           flavor=floor)
    assert relocation.host_of(server) == 'hw1'
    asking.append(server['id'])
    plain = relocation.boot('hw1', name='plain')
    relocation.new_manager()
    relocation.settle()                   # the first reconcile: all compliant
    assert relocation.audit_events() == []

    relocation.set_trust('hw1', 'untrusted', '3 memory violations')
    relocation.settle()

    for vm in asking:
        assert relocation.host_of(vm) == 'hw2'       # tpm1 lacks the cells
        assert relocation.status(vm) == 'ACTIVE'
        [migration] = relocation.migrations(vm)
        assert (migration['status'], migration['source_compute'],
                migration['migration_type']) == (
                    'completed', 'hw1', 'live-migration')
        [task] = relocation.store.tasks(CTX, vm)
        assert (task.trigger, task.state, task.dest_host) == (
            triggers.TRUST_LOSS, triggers.DONE, 'hw2')
        assert [e['event'] for e in relocation.audit_events(vm)] == [
            'decided', 'migrate-called', 'moved']
    assert relocation.host_of(plain) == 'hw1'
    assert relocation.migrations(plain) == []
    assert relocation.store.tasks(CTX, plain) == []
    moved = relocation.audit_events(asking[0])[-1]
    assert moved['to'] == 'hw2' and moved['compliant'] is True
    called = relocation.audit_events(asking[0])[1]
    assert moved['latency_ms'] == called['latency_ms'] > 0
    assert 'hw1 is untrusted: 3 memory violations' in (
        relocation.audit_events(asking[0])[0]['reason'])
    assert len([e for e in relocation.audit_events()
                if e['event'] == 'migrate-called']) == 3
    assert_chain_intact(relocation)


def test_no_compliant_host_pauses_then_a_recovered_host_takes_the_vm(
        relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'unreachable'),
                             'tpm1': ('TPM', 'trusted')})
    vm = relocation.boot('hw1', HYPERWALL)
    relocation.new_manager()
    relocation.settle()

    relocation.set_trust('hw1', 'untrusted', 'memory violation')
    relocation.settle()
    assert relocation.status(vm) == 'PAUSED'
    assert relocation.host_of(vm) == 'hw1'
    [task] = relocation.store.tasks(CTX, vm)
    assert (task.state, task.action) == (triggers.PARKED, 'pause')
    assert task.reason.startswith('no compliant host')
    assert relocation.migrations(vm) == []      # never asked Nova in vain

    relocation.set_trust('hw2', 'trusted', 'fresh evidence')
    relocation.settle()
    assert relocation.host_of(vm) == 'hw2'
    assert relocation.status(vm) == 'ACTIVE'
    [task] = relocation.store.tasks(CTX, vm)
    assert (task.trigger, task.state, task.dest_host) == (
        triggers.RECOVERY, triggers.DONE, 'hw2')
    assert relocation.audit_events(vm)[-1]['resumed'] == 'pause'
    assert_chain_intact(relocation)


def test_paused_vm_resumes_in_place_when_its_own_host_recovers(relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'tpm1': ('TPM', 'trusted')})
    vm = relocation.boot('hw1', HYPERWALL)
    relocation.new_manager()
    relocation.settle()
    relocation.set_trust('hw1', 'unreachable', 'no evidence for 30 s')
    relocation.settle()
    assert relocation.status(vm) == 'PAUSED'
    assert relocation.store.tasks(CTX, vm)[0].trigger == triggers.UNREACHABLE

    relocation.set_trust('hw1', 'trusted', 'fresh evidence')
    relocation.settle()
    assert relocation.status(vm) == 'ACTIVE'
    assert relocation.host_of(vm) == 'hw1'
    assert relocation.store.tasks(CTX, vm)[0].state == triggers.DONE
    assert relocation.audit_events(vm)[-1]['event'] == 'resumed'


def test_host_recovering_while_the_vm_is_being_paused_resumes_it(relocation):
    """The trust change back comes while Nova applies the no-host action (the
    task is PARKING, not yet PARKED): the VM is still resumed in place, not
    left paused until the next reconcile (an hour here)."""
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'tpm1': ('TPM', 'trusted')})
    vm = relocation.boot('hw1', HYPERWALL)
    manager = relocation.new_manager()
    relocation.settle()
    relocation.set_trust('hw1', 'unreachable', 'no evidence for 30 s')
    states = []
    for _ in range(20):             # a few passes: decide, then pause
        manager.process_pending()
        states.append(relocation.store.tasks(CTX, vm)[0].state)
        if states[-1] != triggers.PENDING:
            break
    assert states[-1] == triggers.PARKING, states
    relocation.set_trust('hw1', 'trusted', 'fresh evidence')
    relocation.settle()
    assert relocation.status(vm) == 'ACTIVE'
    assert relocation.host_of(vm) == 'hw1'
    assert relocation.store.tasks(CTX, vm)[0].state == triggers.DONE
    assert_chain_intact(relocation)


@contextlib.contextmanager
def listening(relocation):
    """The manager's real notification listener on Nova's notification bus."""
    listener = notifications.get_listener(
        nova_rpc.NOTIFICATION_TRANSPORT, relocation.manager, CONF)
    listener.start()
    try:
        yield
    finally:
        listener.stop()
        listener.wait()


def test_customer_raises_request_vm_moves_lowers_it_vm_stays(relocation):
    start_hosts(relocation, {'tpm1': ('TPM', 'trusted'),
                             'hw1': ('HyperWall', 'trusted')})
    vm = relocation.boot('tpm1', TPM_ONLY)
    relocation.new_manager()
    relocation.settle()
    with listening(relocation):
        relocation.nova.set_metadata(vm, HYPERWALL)
        relocation.nova.flush_notifications()
        relocation.settle()
        assert relocation.host_of(vm) == 'hw1'
        [task] = relocation.store.tasks(CTX, vm)
        assert (task.trigger, task.dest_host) == (triggers.POLICY_CHANGE,
                                                  'hw1')
        decided = relocation.audit_events(vm)[0]
        assert decided['event'] == 'decided'
        assert 'tpm1 (TPM) lacks' in decided['reason']

        relocation.nova.set_metadata(vm, {'sod:options': '1'})
        relocation.nova.flush_notifications()
        relocation.settle()
    assert relocation.host_of(vm) == 'hw1'
    assert len(relocation.store.tasks(CTX, vm)) == 1
    assert len(relocation.migrations(vm)) == 1


def test_failed_migration_is_retried_on_another_host(relocation, monkeypatch):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted'),
                             'hw3': ('HyperWall', 'trusted')})
    vm = relocation.boot('hw1', HYPERWALL)
    relocation.new_manager()
    relocation.settle()
    prepare = libvirt_driver.LibvirtDriver.pre_live_migration
    failed_to = []

    def fail_first(driver, context, instance, *args, **kwargs):
        """The first destination cannot prepare (say, a VIF fails to plug):
        Nova rolls the migration back and the VM keeps running."""
        if not failed_to:
            failed_to.append(driver._host.get_hostname())
            raise exception.MigrationError(reason='injected: prepare failed')
        return prepare(driver, context, instance, *args, **kwargs)
    monkeypatch.setattr(libvirt_driver.LibvirtDriver, 'pre_live_migration',
                        fail_first)

    relocation.set_trust('hw1', 'untrusted', 'attack')
    relocation.settle()
    assert len(failed_to) == 1
    [first, second] = relocation.migrations(vm)
    assert first['status'] in ('error', 'failed')
    assert first['dest_compute'] == failed_to[0]
    assert second['status'] == 'completed'
    assert relocation.host_of(vm) == second['dest_compute'] != failed_to[0]
    assert relocation.status(vm) == 'ACTIVE'
    [task] = relocation.store.tasks(CTX, vm)
    assert task.attempts == 2 and task.failed_hosts == (failed_to[0],)
    events = [e['event'] for e in relocation.audit_events(vm)]
    assert events == ['decided', 'migrate-called', 'retry', 'migrate-called',
                      'moved']


def test_restart_mid_evacuation_moves_no_vm_twice_and_loses_none(relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted'),
                             'hw3': ('HyperWall', 'trusted')})
    relocation.override('max_concurrent', 2)
    vms = [relocation.boot('hw1', HYPERWALL, name='vm-%d' % i)
           for i in range(4)]
    first = relocation.new_manager()
    assert settle_mod.settle(first)
    relocation.set_trust('hw1', 'untrusted', 'attack')
    first.process_pending()           # decides all four, starts two; crash
    open_tasks = relocation.store.tasks_open(CTX)
    assert sorted(t.state for t in open_tasks) == [
        'migrating', 'migrating', 'pending', 'pending']
    # Let Nova finish what the crashed manager started.
    for task in open_tasks:
        if task.state == triggers.MIGRATING:
            relocation.nova.wait_for_server(task.vm, ('ACTIVE',))
            relocation.nova._wait(
                lambda vm=task.vm: relocation.host_of(vm) != 'hw1', 30,
                'migration of %s' % task.vm)
    # A crash between writing "migrating" and calling Nova: the new manager
    # must ask Nova again, not wait forever.
    pending = next(t for t in open_tasks if t.state == triggers.PENDING)
    relocation.store.task_update(
        CTX, pending.id, state=triggers.MIGRATING, attempts=1,
        migration_after=None, migrate_called_at=pending.decided_at)
    relocation.override('max_concurrent', 4)

    relocation.new_manager()          # the restarted manager
    relocation.settle()
    for vm in vms:
        assert relocation.host_of(vm) in ('hw2', 'hw3'), vm
        assert relocation.status(vm) == 'ACTIVE'
        assert [m['status'] for m in relocation.migrations(vm)] == [
            'completed'], vm
        [task] = relocation.store.tasks(CTX, vm)
        assert task.state == triggers.DONE
    lost = [e for e in relocation.audit_events() if e['event'] == 'call-lost']
    assert [e['vm'] for e in lost] == [pending.vm]
    assert_chain_intact(relocation)


def test_moving_target_period_moves_the_vm_to_another_compliant_host(
        relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted')})
    vm = relocation.boot('hw1', dict(HYPERWALL, **{'sod:moving_target': '600'}))
    offset = [0.0]
    manager = relocation.new_manager()
    manager.clock = manager.mover.clock = lambda: time.time() + offset[0]
    relocation.settle()
    assert relocation.migrations(vm) == []    # the period has not elapsed
    offset[0] = 600 * (1 + CONF.sod_relocation.moving_target_jitter) + 1
    relocation.settle()
    assert relocation.host_of(vm) == 'hw2'
    [task] = relocation.store.tasks(CTX, vm)
    assert (task.trigger, task.dest_host) == (triggers.MOVING_TARGET, 'hw2')
    relocation.settle()                       # next period starts now
    assert len(relocation.store.tasks(CTX, vm)) == 1



def test_a_period_below_the_minimum_is_refused_by_nova_and_not_honoured(
        relocation, caplog):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted')})
    minimum = CONF.sod_relocation.moving_target_min
    # nova-api's flavor validator reads the same option.
    flavor = relocation.nova.create_flavor()
    with pytest.raises(client.OpenStackApiException) as info:
        relocation.nova.admin_api.post_extra_spec(
            flavor, {'extra_specs': {'sod:moving_target': '1'}})
    assert info.value.response.status_code == 400
    assert ('sod:moving_target: 1 is below the minimum moving-target period '
            'of %d seconds' % minimum) in json.loads(
                info.value.response.content)['badRequest']['message']
    # Instance metadata is not validated by Nova: a customer may write 1 s.
    vm = relocation.boot('hw1', dict(HYPERWALL, **{'sod:moving_target': '1'}))
    offset = [0.0]
    manager = relocation.new_manager()
    manager.clock = manager.mover.clock = lambda: time.time() + offset[0]
    with caplog.at_level(logging.WARNING, logger=decider_mod.__name__):
        relocation.settle()
        offset[0] = minimum / 2             # 1 s has elapsed many times
        relocation.settle()
    assert relocation.migrations(vm) == []
    assert [r.getMessage() for r in caplog.records
            if r.name == decider_mod.__name__] == [
        '%s asks for a moving-target period of 1s, below the minimum of %ds '
        '([sod_relocation] moving_target_min): it is moved every %ds at most'
        % (vm, minimum, minimum)]
    offset[0] = minimum * (1 + CONF.sod_relocation.moving_target_jitter) + 1
    relocation.settle()
    assert relocation.host_of(vm) == 'hw2'
    [task] = relocation.store.tasks(CTX, vm)
    assert task.trigger == triggers.MOVING_TARGET
    decided = relocation.audit_events(vm)[0]
    assert (decided['event'], decided['reason']) == ('decided', (
        'moving-target period of %ds elapsed (the VM asks for 1s, below the '
        'minimum of %ds: [sod_relocation] moving_target_min)'
        % (minimum, minimum)))


def test_an_evacuation_starts_ahead_of_demanding_moving_target_moves(
        relocation):
    """Issue 22: with max_concurrent=4, four moving-target tasks asking for
    more cells were started ahead of a trust-loss task."""
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted'),
                             'hw3': ('HyperWall', 'trusted'),
                             'hw4': ('HyperWall', 'trusted')})
    relocation.override('max_concurrent', 4)
    relocation.override('max_per_source_host', 2)
    period = 600
    moving = [relocation.boot(host, dict(HYPERWALL, **{
        'sod:moving_target': str(period)}), name='mt-%d' % i)
        for i, host in enumerate(('hw2', 'hw2', 'hw3', 'hw3'))]
    victim = relocation.boot('hw1', {'sod:options': '1',
                                     'sod:properties': 'C'}, name='victim')
    offset = [0.0]
    manager = relocation.new_manager()
    manager.clock = manager.mover.clock = lambda: time.time() + offset[0]
    relocation.settle()                 # timers set; nothing moves yet
    assert relocation.audit_events() == []
    # One pass decides all five: the host's trust loss and four periods.
    offset[0] = period * (1 + CONF.sod_relocation.moving_target_jitter) + 1
    relocation.set_trust('hw1', 'untrusted', '3 memory violations')
    relocation.settle()
    decided = [e['vm'] for e in relocation.audit_events()
               if e['event'] == 'decided']
    assert sorted(decided) == sorted(moving + [victim])
    called = [e['vm'] for e in relocation.audit_events()
              if e['event'] == 'migrate-called']
    assert called[0] == victim
    # The last free slot was left to evacuations: the fourth moving-target
    # move started only once one of the first moves had finished.
    assert sorted(called[1:4]) == sorted(
        vm for vm in moving if vm != called[4])
    assert relocation.host_of(victim) != 'hw1'
    for vm in moving:
        [task] = relocation.store.tasks(CTX, vm)
        assert (task.trigger, task.state) == (triggers.MOVING_TARGET,
                                              triggers.DONE)
    assert_chain_intact(relocation)


def project_api(relocation, project_id):
    """An admin of ``project_id`` on the embedded Nova API (Nova's stubbed
    Keystone takes the project from the request's headers)."""
    api = client.TestOpenStackClient(
        'admin', relocation.nova.api_fixture.base_url, project_id=project_id,
        roles=['reader', 'member', 'admin'])
    api.microversion = 'latest'
    return api


def boot_as(relocation, api, host, metadata, name):
    """Boot a server on ``host`` in ``api``'s project."""
    server = api.post_server({'server': {
        'name': name, 'imageRef': nova_mod._servers.DEFAULT_IMAGE,
        'flavorRef': nova_mod._servers.DEFAULT_FLAVOR, 'networks': 'none',
        'host': host, 'metadata': dict(metadata)}})
    server = relocation.nova.wait_for_server(server, ('ACTIVE', 'ERROR'))
    assert server['status'] == 'ACTIVE', server
    assert (relocation.host_of(server), server['tenant_id']) == (
        host, api.project_id)
    return server['id']


def held_by_allowance(caplog):
    """``{vm: message}`` of the manager's "its move waits" log lines."""
    return {r.args['vm']: r.getMessage() for r in caplog.records
            if r.name == manager_mod.__name__
            and 'project_moves_per_hour' in r.getMessage()}


def settle_but_held(relocation, caplog):
    """Run the manager's passes until no move is in flight and every open
    task is a pending one the manager logged as held by its project's
    allowance (:func:`settle` waits for those too, for an hour). Fails when
    no task advanced for as long as settle allows."""
    manager = relocation.manager
    stall_after = settle_mod.stall_limit(CONF)
    last, since = None, time.monotonic()
    while True:
        manager.process_pending()
        tasks = relocation.store.tasks_open(CTX)
        if all(t.state == triggers.PENDING for t in tasks) and (
                {t.vm for t in tasks} <= set(held_by_allowance(caplog))):
            return
        mark = frozenset((t.id, t.state, t.attempts) for t in tasks)
        if mark != last:
            last, since = mark, time.monotonic()
        assert time.monotonic() - since <= stall_after, (
            'the manager stopped advancing: %s' % sorted(mark))
        time.sleep(CONF.sod_relocation.poll_interval)


def test_a_projects_policy_moves_stop_at_its_allowance_evacuations_do_not(
        relocation, caplog):
    """Issue 22: a tenant's own moves are bounded per project
    ([sod_relocation] project_moves_per_hour), through Nova's project of
    each VM; another project's moves and the project's evacuations are not
    held by that allowance."""
    start_hosts(relocation, {'tpm1': ('TPM', 'trusted'),
                             'hw1': ('HyperWall', 'trusted')})
    relocation.override('project_moves_per_hour', 2)
    tenant = relocation.nova.admin_api
    other = project_api(relocation, 'b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5')
    vms = [boot_as(relocation, tenant, 'tpm1', TPM_ONLY, 'a-%d' % i)
           for i in range(3)]
    neighbour = boot_as(relocation, other, 'tpm1', TPM_ONLY, 'b-0')
    relocation.new_manager()
    relocation.settle()
    with listening(relocation), caplog.at_level(
            logging.INFO, logger=manager_mod.__name__):
        # Each customer raises its request through Nova: four policy
        # changes, three of them the first project's.
        for vm in vms:
            tenant.api_post('/servers/%s/metadata' % vm,
                            {'metadata': HYPERWALL})
        other.api_post('/servers/%s/metadata' % neighbour,
                       {'metadata': HYPERWALL})
        relocation.nova.flush_notifications()
        settle_but_held(relocation, caplog)

        moved = [vm for vm in vms if relocation.host_of(vm) == 'hw1']
        assert len(moved) == 2, 'the project moved %d VMs' % len(moved)
        [held] = [vm for vm in vms if vm not in moved]
        assert relocation.host_of(held) == 'tpm1'
        assert relocation.migrations(held) == []
        [task] = relocation.store.tasks(CTX, held)
        assert (task.trigger, task.state) == (triggers.POLICY_CHANGE,
                                              triggers.PENDING)
        assert held_by_allowance(caplog) == {held: (
            '%s: its policy-change move waits: project %s started 2 such '
            'moves in the last hour ([sod_relocation] project_moves_per_hour)'
            % (held, tenant.project_id))}
        # The other project's move was not held by the first one's bound.
        assert relocation.host_of(neighbour) == 'hw1'
        [task] = relocation.store.tasks(CTX, neighbour)
        assert (task.trigger, task.state) == (triggers.POLICY_CHANGE,
                                              triggers.DONE)

        # The held VM's host is attacked: its evacuation starts although
        # its project has no move left this hour.
        relocation.set_trust('tpm1', 'untrusted', '3 memory violations')
        settle_but_held(relocation, caplog)
    assert relocation.host_of(held) == 'hw1'
    assert relocation.status(held) == 'ACTIVE'
    [migration] = relocation.migrations(held)
    assert (migration['status'], migration['source_compute']) == (
        'completed', 'tpm1')
    [task] = relocation.store.tasks(CTX, held)
    assert (task.trigger, task.state) == (triggers.TRUST_LOSS, triggers.DONE)
    # One task, re-classed: the audit says why it moved in the end.
    assert [(e['trigger'], e.get('was')) for e in relocation.audit_events(held)
            if e['event'] == 'decided'] == [
        (triggers.POLICY_CHANGE, None),
        (triggers.TRUST_LOSS, triggers.POLICY_CHANGE)]
    assert_chain_intact(relocation)


def test_nova_finding_no_valid_host_pauses_until_a_reconcile_finds_one(
        relocation):
    start_hosts(relocation, {'hw1': ('HyperWall', 'trusted'),
                             'hw2': ('HyperWall', 'trusted')})
    vm = relocation.boot('hw1', HYPERWALL)
    # Trusted by our rows, but Nova's ComputeFilter refuses it.
    relocation.nova.set_compute_enabled('hw2', enabled=False)
    relocation.override('retry_backoff', 3600)
    relocation.new_manager()
    relocation.settle()
    relocation.set_trust('hw1', 'untrusted', 'attack')
    relocation.settle()
    assert relocation.status(vm) == 'PAUSED'
    [task] = relocation.store.tasks(CTX, vm)
    assert task.state == triggers.PARKED
    assert 'Nova found no valid host' in task.reason
    assert task.not_before > time.time() + 3000   # a look is scheduled

    relocation.nova.set_compute_enabled('hw2', enabled=True)
    relocation.manager.request_reconcile()
    relocation.settle()
    assert relocation.host_of(vm) == 'hw2'
    assert relocation.status(vm) == 'ACTIVE'
    [task] = relocation.store.tasks(CTX, vm)
    assert (task.state, task.trigger) == (triggers.DONE, triggers.RECOVERY)


SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}


def test_a_confidential_guest_moves_cold_or_pauses_never_live(relocation):
    """An SEV-SNP guest on an attacked SNP host is cold-migrated (resize,
    then confirm) to the other SNP host; with no SNP host left it is paused,
    and moved cold (unpaused first: Nova resizes only running or stopped
    VMs) once one is trusted again. Nova is never asked to live-migrate it."""
    snp = nova_mod.Hardware(amd_sev_snp=True)
    for host in ('snp1', 'snp2'):
        relocation.nova.start_compute(host, hardware=snp)
        relocation.declare(host, 'AMD-SEV-SNP')
    relocation.nova.start_compute('hw1')
    relocation.declare('hw1', 'HyperWall')
    relocation.override('retry_backoff', 3600)
    flavor = relocation.nova.create_flavor(extra_specs=SNP)
    server = relocation.nova.create_server(
        name='cvm', flavor=flavor, host='snp1', metadata=HYPERWALL,
        image_properties=nova_mod.guest_image_properties(SNP))
    assert server['status'] == 'ACTIVE', server
    vm = server['id']
    live_calls = []
    relocation.new_manager()
    real_live = relocation.manager.compute.live_migrate
    relocation.manager.compute.live_migrate = (
        lambda *a, **k: (live_calls.append(a), real_live(*a, **k)))
    relocation.settle()

    relocation.set_trust('snp1', 'untrusted', 'attestation report mismatch')
    relocation.settle()
    assert relocation.host_of(vm) == 'snp2'
    assert relocation.status(vm) == 'ACTIVE'
    [migration] = relocation.migrations(vm)
    assert (migration['migration_type'], migration['status'],
            migration['source_compute'], migration['dest_compute']) == (
                'migration', 'confirmed', 'snp1', 'snp2')
    decided, called, moved = relocation.audit_events(vm)
    assert decided['ladder'] == ['live', 'cold', 'pause']
    assert called['kind'] == 'cold'
    assert (moved['event'], moved['kind'], moved['to']) == (
        'moved', 'cold', 'snp2')
    assert moved['downtime_ms'] > 0

    # No SNP host left: HyperWall would protect the guest, but Nova cannot
    # launch an SNP guest there, so the guest follows its ladder to a pause
    # without a call Nova would refuse.
    relocation.set_trust('snp2', 'untrusted', 'attestation report mismatch')
    relocation.settle()
    assert relocation.status(vm) == 'PAUSED'
    assert relocation.host_of(vm) == 'snp2'
    task = relocation.store.tasks(CTX, vm)[-1]
    assert task.state == triggers.PARKED and task.action == 'pause'
    assert 'no other trusted host can run a guest launched with' in task.reason
    assert len(relocation.migrations(vm)) == 1     # Nova was not asked in vain

    relocation.set_trust('snp1', 'trusted', 'fresh evidence')
    relocation.settle()
    assert relocation.host_of(vm) == 'snp1'
    assert relocation.status(vm) == 'ACTIVE'
    task = relocation.store.tasks(CTX, vm)[-1]
    assert (task.trigger, task.state, task.kind) == (
        triggers.RECOVERY, triggers.DONE, 'cold')
    assert [m['migration_type'] for m in relocation.migrations(vm)] == [
        'migration'] * len(relocation.migrations(vm))
    assert live_calls == []
    assert_chain_intact(relocation)
