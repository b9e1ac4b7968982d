"""Leases and leader election of migration managers, on a real SQLite database."""

import threading

from oslo_config import cfg
import pytest

import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import leases
from sod_nova.db import migration as db_migration
from sod_nova.relocation import leader
from sod_nova.relocation import service

CTX = db_api.Context()


@pytest.fixture
def conf(tmp_path):
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('connection', 'sqlite:///%s/sod.db' % tmp_path,
                      'sod_database')
    conf.set_override('leader_lease', 3.0, 'sod_relocation')
    db_migration.sync(conf)
    yield conf
    db_api.dispose()
    # The groups' options are shared module objects: so are overrides.
    conf.clear_override('connection', 'sod_database')
    conf.clear_override('leader_lease', 'sod_relocation')


def test_one_holder_until_the_lease_expires(conf):
    assert leases.acquire(CTX, 'role', 'a', 10, now=100.0)
    assert not leases.acquire(CTX, 'role', 'b', 10, now=105.0)
    assert leases.acquire(CTX, 'role', 'a', 10, now=105.0)    # renewed
    assert leases.get(CTX, 'role') == leases.LeaseRow('role', 'a', 115.0)
    assert not leases.acquire(CTX, 'role', 'b', 10, now=114.9)
    assert leases.acquire(CTX, 'role', 'b', 10, now=115.1)    # expired
    assert not leases.acquire(CTX, 'role', 'a', 10, now=116.0)


def test_release_frees_the_lease_for_the_next_holder_only_if_held(conf):
    assert leases.acquire(CTX, 'role', 'a', 10, now=100.0)
    leases.release(CTX, 'role', 'b')                  # not b's: kept
    assert not leases.acquire(CTX, 'role', 'b', 10, now=101.0)
    leases.release(CTX, 'role', 'a')
    assert leases.acquire(CTX, 'role', 'b', 10, now=101.0)


class Clocks:
    """Wall and monotonic time that the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def wall(self):
        return self.now

    def mono(self):
        return self.now


def _point_at(conf, url):
    """Reconfigure the process's database (as a restart would)."""
    db_api.dispose()
    conf.set_override('connection', url, 'sod_database')
    db_api.configure(conf)


def test_leader_stops_acting_before_a_standby_can_take_over(conf, tmp_path):
    clocks = Clocks()
    a = leader.Leadership(conf, holder='a', clock=clocks.wall,
                          monotonic=clocks.mono)
    b = leader.Leadership(conf, holder='b', clock=clocks.wall,
                          monotonic=clocks.mono)
    assert a.try_acquire() and a.held
    assert not b.try_acquire()
    # a cannot renew (its database is gone); it keeps acting for 2/3 lease.
    url = conf.sod_database.connection
    (tmp_path / 'broken.db').write_bytes(b'not a database, ' * 64)
    _point_at(conf, 'sqlite:///%s/broken.db' % tmp_path)
    clocks.now += 1.9
    assert a.try_acquire()
    clocks.now += 0.2                      # 2.1 s > 2/3 of the 3 s lease
    assert not a.try_acquire() and not a.held
    _point_at(conf, url)
    assert not b.try_acquire()             # a's lease still runs (3 s)
    clocks.now += 1.0
    assert b.try_acquire() and b.held      # expired: b takes over
    assert not a.try_acquire()             # and a knows it lost


def test_run_acts_only_while_leader(conf):
    started, stopped = threading.Event(), threading.Event()
    done = threading.Event()
    first = leader.Leadership(conf, holder='first')
    second = leader.Leadership(conf, holder='second')
    assert first.try_acquire()
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        'status', second.run(started.set, stopped.set, done)))
    thread.start()
    # While first renews, second stays a standby.
    for _ in range(3):
        assert first.try_acquire()
        assert not started.wait(second.interval)
    first.release()                        # a clean stop hands over at once
    assert started.wait(second.lease)
    assert leases.get(CTX, leader.ROLE).holder == 'second'
    done.set()
    thread.join()
    assert result['status'] == 0 and stopped.is_set()
    assert leases.get(CTX, leader.ROLE) is None         # released


class _Manager:
    def __init__(self):
        self.calls = []

    def start(self, listener=None):
        self.calls.append(('start', listener))

    def stop(self):
        self.calls.append(('stop',))


class _LostLease:
    """Leads, then loses the lease (what Leadership.run returns 1 for)."""

    def run(self, start, stop, done):
        start()
        stop()
        return 1


class _HeldLease:
    """Leads until told to stop."""

    def run(self, start, stop, done):
        start()
        done.wait()
        stop()
        return 0


def test_manager_service_ends_with_status_1_when_the_lease_is_lost():
    manager = _Manager()
    svc = service.ManagerService(manager, 'listener', _LostLease())
    svc.start()
    svc.wait()          # returns by itself: sod-migration-manager exits
    assert svc.exit_status == 1
    assert manager.calls == [('start', 'listener'), ('stop',)]
    svc.stop()


def test_manager_service_stop_ends_the_leadership_with_status_0():
    manager = _Manager()
    svc = service.ManagerService(manager, 'listener', _HeldLease())
    svc.start()
    svc.stop()
    svc.wait()
    assert svc.exit_status == 0
    assert manager.calls == [('start', 'listener'), ('stop',)]


def test_manager_service_without_leader_election_runs_the_manager():
    manager = _Manager()
    svc = service.ManagerService(manager, 'listener')
    svc.start()
    assert manager.calls == [('start', 'listener')]
    svc.stop()
    svc.wait()
    assert manager.calls == [('start', 'listener'), ('stop',)]
