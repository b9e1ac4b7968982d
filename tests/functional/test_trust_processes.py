"""``sod-trust-monitor`` and ``sod-trust-agent`` as processes over RabbitMQ and MariaDB.

The console scripts as an operator runs them: a real broker and a real
database server (``rabbitmq`` and ``mariadb`` fixtures, started once per
session), the monitor and agents as processes, enrollment with a one-time
token from ``sod-nova trust token create``, the host rows read back with a
connection of the test's own. The faults: an agent and the monitor killed
with SIGKILL and started again, MariaDB and RabbitMQ restarted under them;
after each, nothing is lost: every host is trusted again with evidence newer
than the fault, and the processes that were not killed are still running.
"""

import time

import pytest

from functional import processes
from sod_nova.db import api as db_api

HOSTS = ('hw1', 'hw2')


class TrustFleet:
    """A database, a monitor process and one agent process per host."""

    def __init__(self, tmp_path, transport_url, db_url):
        self.tmp_path = tmp_path
        self.rows = processes.HostRows(db_url)
        self.procs = processes.Processes(tmp_path)
        self.common = tmp_path / 'sod.conf'
        nonce_key = processes.group_keys(tmp_path)
        self.common.write_text(
            '[DEFAULT]\ntransport_url = %s\n[sod_database]\nconnection = %s\n'
            'max_retries = -1\nretry_interval = 1\n'
            '[trust]\nreport_interval = 0.2\nevidence_max_age = 1.5\n'
            'stale_check_interval = 0.2\nmonitor_name = tm-proc\n'
            'nonce_key_file = %s\n' % (transport_url, db_url, nonce_key))
        processes.manage(self.common, 'db', 'sync')
        challenge_key = processes.challenge_key_file(self.common, tmp_path)
        self.agent_confs = {}
        for host in HOSTS:
            token = processes.manage(
                self.common, 'trust', 'token', 'create', host,
                '--architecture', 'HyperWall').strip()
            conf = tmp_path / ('%s.conf' % host)
            conf.write_text(
                '[trust]\nhost = %s\nbackend = hyperwall\nprivate_key_file = %s\n'
                'enrollment_token = %s\nchallenge_public_key_file = %s\n'
                % (host, tmp_path / (host + '.key'), token, challenge_key))
            self.agent_confs[host] = conf
        self.monitor = None
        self.agents = {}

    def start_monitor(self):
        self.monitor = self.procs.start('sod-trust-monitor', self.common)

    def start_agent(self, host):
        self.agents[host] = self.procs.start(
            'sod-trust-agent', self.common, self.agent_confs[host])

    def wait_state(self, host, wanted):
        self.procs.wait(lambda: self.rows.state(host) == wanted,
                        '%s %s (now %r)' % (host, wanted, self.rows.get(host)))

    def wait_fresh(self, since, hosts=HOSTS):
        """Every host trusted on evidence verified after ``since``."""
        def fresh(host):
            state, _, at = self.rows.get(host)
            return state == 'trusted' and at is not None and at > since
        self.procs.wait(lambda: all(fresh(h) for h in hosts),
                        'fresh trusted evidence of %s after %s (now %r)' % (
                            ', '.join(hosts), since,
                            {h: self.rows.get(h) for h in hosts}))

    def assert_running(self):
        for proc in [self.monitor, *self.agents.values()]:
            assert proc.poll() is None, self.procs.logs()


def now():
    """The time as the database stores it (seconds since the epoch), to
    the second."""
    return float(int(time.time()))


@pytest.fixture
def fleet(tmp_path, rabbitmq, mysql_url):
    fleet = TrustFleet(tmp_path, rabbitmq.url, mysql_url)
    yield fleet
    fleet.procs.close()
    db_api.dispose()


def test_agents_enroll_go_silent_and_come_back(fleet):
    fleet.start_monitor()
    for host in HOSTS:
        fleet.start_agent(host)
    fleet.wait_fresh(now())                       # enrolled with the tokens
    assert fleet.procs.terminate(fleet.agents['hw1']) == 0
    fleet.wait_state('hw1', 'unreachable')        # silent past evidence_max_age
    assert fleet.rows.get('hw1')[1].startswith('no verified evidence for ')
    fleet.start_agent('hw1')                      # token used up: key enrolled
    fleet.wait_fresh(now())
    fleet.assert_running()


def test_agent_killed_and_restarted_reattests(fleet):
    fleet.start_monitor()
    for host in HOSTS:
        fleet.start_agent(host)
    fleet.wait_fresh(now())
    fleet.procs.kill9(fleet.agents['hw1'])
    fleet.wait_state('hw1', 'unreachable')
    assert fleet.rows.state('hw2') == 'trusted'   # its neighbour is untouched
    fleet.start_agent('hw1')                      # new boot id, same key
    fleet.wait_fresh(now())
    fleet.assert_running()


def test_monitor_killed_and_restarted_loses_no_host(fleet):
    fleet.start_monitor()
    for host in HOSTS:
        fleet.start_agent(host)
    fleet.wait_fresh(now())
    fleet.procs.kill9(fleet.monitor)
    killed_at = now()
    fleet.start_monitor()                         # a new epoch: old nonces void
    fleet.wait_fresh(killed_at)                   # the agents follow by themselves
    fleet.assert_running()


def test_mariadb_restarted_while_the_monitor_writes(fleet, mariadb):
    fleet.start_monitor()
    for host in HOSTS:
        fleet.start_agent(host)
    fleet.wait_fresh(now())
    mariadb.restart()
    restarted_at = now()
    fleet.wait_fresh(restarted_at)                # the monitor reconnected
    fleet.assert_running()


def test_rabbitmq_restarted_under_monitor_and_agents(fleet, rabbitmq):
    fleet.start_monitor()
    for host in HOSTS:
        fleet.start_agent(host)
    fleet.wait_fresh(now())
    rabbitmq.restart()
    restarted_at = now()
    fleet.wait_fresh(restarted_at)                # every process reconnected
    fleet.assert_running()
