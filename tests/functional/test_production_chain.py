"""The whole chain as processes over RabbitMQ and MariaDB, with a fault in
the middle of an evacuation: the broker restarted, the trust monitor killed
(SIGKILL) and started again, or MariaDB restarted.

Trust agents (one per compute host) and the trust monitor are console-script
processes on ``rabbit://``; the monitor writes the host rows in MariaDB and
publishes ``sod.host.trust_changed`` on the broker; ``sod-migration-manager``
(a process, leader of its lease) listens for it and moves VMs through Nova's
API over HTTP; the embedded Nova's scheduler runs the SoD filter on the same
MariaDB rows. The manager's reconcile pass is off (an hour): only the
notifications over RabbitMQ start work, so a listener that did not come back
after the restart would leave the second wave unmoved.

Scenario: hw1's agent is killed (SIGKILL); the monitor finds hw1 unreachable
and the manager evacuates its VMs to hw2. The fault strikes while the first
move is under way. Then hw1's agent starts again (it re-attests by itself)
and hw2's is killed: the VMs go back to hw1, started by notifications sent
after the fault. Nothing lost: every VM ends active on hw1, was live-migrated
exactly twice (hw1 to hw2, hw2 to hw1; a VM paused for want of a compliant
host while the broker was down is resumed, never moved more), no task is left
open, and the audit chain verifies.
"""

import time

import pytest

from functional import processes
from functional import test_manager_processes as managers
from functional import wsgi
from sod_nova.cloud.nova import EmbeddedNova
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.relocation import triggers

CONF = managers.CONF
#: Freshness for the monitor and for the filter in nova-scheduler alike.
EVIDENCE_MAX_AGE = 2.0
VMS = 3


@pytest.fixture
def chain(tmp_path, rabbitmq, mysql_url):
    overrides = {('sod_database', 'connection'): mysql_url,
                 ('sod_filter', 'host_cache_seconds'): 0.0,
                 ('sod_trust', 'evidence_max_age'): EVIDENCE_MAX_AGE,
                 ('sod_audit', 'key_file'): managers.audit_key(tmp_path)}
    with EmbeddedNova(extra_filters=[managers.SOD_FILTER]) as nova:
        for (group, option), value in overrides.items():
            CONF.set_override(option, value, group)
        db_migration.sync(CONF)
        server = wsgi.serve_nova(nova)
        cloud = managers.Cloud(nova, server.endpoint, mysql_url, tmp_path)
        with open(cloud.config, 'a') as f:
            f.write('[DEFAULT]\ntransport_url = %s\n'
                    '[relocation]\nlisten_notifications = true\n'
                    'reconcile_interval = 3600\n'
                    '[trust]\nevidence_max_age = %s\nreport_interval = 0.2\n'
                    'stale_check_interval = 0.2\nmonitor_name = tm\n'
                    'nonce_key_file = %s\n'
                    % (rabbitmq.url, EVIDENCE_MAX_AGE,
                       processes.group_keys(tmp_path)))
        cloud.challenge_key = processes.challenge_key_file(cloud.config, tmp_path)
        cloud.rows = processes.HostRows(mysql_url)
        try:
            yield cloud
        finally:
            cloud.procs.close()
            server.close()
            for (group, option), _ in overrides.items():
                CONF.clear_override(option, group)
            db_api.dispose()


def agent_config(cloud, host):
    token = processes.manage(cloud.config, 'trust', 'token', 'create', host,
                             '--architecture', 'HyperWall').strip()
    path = cloud.tmp_path / ('%s.conf' % host)
    path.write_text('[trust]\nhost = %s\nbackend = hyperwall\n'
                    'private_key_file = %s\nenrollment_token = %s\n'
                    'challenge_public_key_file = %s\n' % (
                        host, cloud.tmp_path / (host + '.key'), token,
                        cloud.challenge_key))
    return path


def wait_trusted(cloud, host):
    since = int(time.time())     # the stored evidence time: epoch seconds

    def fresh():
        state, _, at = cloud.rows.get(host)
        return state == 'trusted' and at is not None and at >= since
    cloud.procs.wait(fresh, '%s trusted (now %r)' % (host, cloud.rows.get(host)))


def wait_all_on(cloud, vms, host):
    def settled():
        if cloud.store.tasks_open(db_api.Context()):
            return False
        servers = [cloud.nova.get_server(vm) for vm in vms]
        return all(cloud.host_of(s) == host and s['status'] == 'ACTIVE'
                   for s in servers)
    cloud.procs.wait(settled, 'every VM active on %s, no open task' % host)


def restart_rabbitmq(cloud, rabbitmq, mariadb, monitor):
    rabbitmq.restart()
    return monitor


def kill_and_restart_the_monitor(cloud, rabbitmq, mariadb, monitor):
    cloud.procs.kill9(monitor)
    return cloud.procs.start('sod-trust-monitor', cloud.config)


def restart_mariadb(cloud, rabbitmq, mariadb, monitor):
    mariadb.restart()
    return monitor


@pytest.mark.parametrize('fault', [restart_rabbitmq, kill_and_restart_the_monitor,
                                   restart_mariadb], ids=lambda f: f.__name__)
def test_a_fault_mid_evacuation_loses_nothing(chain, rabbitmq, mariadb, fault):
    cloud = chain
    agents = {}
    configs = {}
    for host in ('hw1', 'hw2'):
        cloud.nova.start_compute(host)
        configs[host] = agent_config(cloud, host)
    monitor = cloud.procs.start('sod-trust-monitor', cloud.config)
    for host in ('hw1', 'hw2'):
        agents[host] = cloud.procs.start('sod-trust-agent', cloud.config,
                                         configs[host])
    for host in ('hw1', 'hw2'):
        wait_trusted(cloud, host)
    vms = [cloud.boot('hw1') for _ in range(VMS)]
    manager = cloud.start_manager()
    cloud.procs.wait(lambda: cloud.leader_pid() == manager.pid, 'a leader')

    cloud.procs.kill9(agents['hw1'])       # hw1 goes silent: unreachable
    cloud.procs.wait(lambda: any(
        t.state in (triggers.MIGRATING, triggers.DONE)
        for t in cloud.store.tasks(db_api.Context())), 'a first move off hw1')
    monitor = fault(cloud, rabbitmq, mariadb, monitor)
    wait_all_on(cloud, vms, 'hw2')

    agents['hw1'] = cloud.procs.start('sod-trust-agent', cloud.config,
                                      configs['hw1'])
    wait_trusted(cloud, 'hw1')             # re-attested by itself
    cloud.procs.kill9(agents['hw2'])
    wait_all_on(cloud, vms, 'hw1')         # moved by post-restart notifications

    for vm in vms:
        completed = [(m['source_compute'], m['dest_compute'])
                     for m in sorted(cloud.nova.list_migrations(vm),
                                     key=lambda m: m['id'])
                     if m['status'] == 'completed']
        assert completed == [('hw1', 'hw2'), ('hw2', 'hw1')], (vm, completed)
    assert audit.verify(cloud.store.audit_entries(db_api.Context()),
                        cloud.store.audit_key()) is None
    assert manager.poll() is None, cloud.procs.logs()
    assert monitor.poll() is None, cloud.procs.logs()
