"""Bogus challenges on a real RabbitMQ cannot blind a host (issue 22, high).

Before challenges were signed, anyone with credentials on the bus could cast
a challenge to an agent: its nonce replaced the monitor's, the agent's next
report was rejected (``unknown_nonce``), and one cast per report interval
kept a genuine host without fresh evidence until it went ``unreachable``.
Here the production monitor and agent (:class:`~sod_nova.cloud.fleet.Fleet`:
the simulator only adds the backend's attack switch) talk over RabbitMQ on
loopback, and an intruder with its own connection floods the agent with
challenges the monitor group never issued (unsigned, signed with its own
key, recorded genuine ones replayed), faster than the agent reports. The
host stays trusted on fresh evidence, no report is rejected, every bogus
challenge is dropped, and a genuine attack during the flood is still seen.
"""

import threading
import uuid

from oslo_config import fixture as config_fixture
import pytest

from functional import processes
from sod_nova.catalog import Catalog
from sod_nova.cloud import agents
from sod_nova.cloud import fleet as fleet_mod
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration
from sod_nova.trust import challenges
from sod_nova.trust import rpc

CONF = sod_nova.conf.CONF
REPORT_INTERVAL = 0.2
EVIDENCE_MAX_AGE = 1.5


@pytest.fixture
def conf(tmp_path, rabbitmq):
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    suffix = uuid.uuid4().hex[:8]
    rpc.register_transport_opts(CONF)
    fixture.config(transport_url=rabbitmq.url)
    fixture.config(connection='sqlite:///%s' % (tmp_path / 'sod.db'),
                   sqlite_synchronous=False, group='sod_database')
    fixture.config(group='sod_trust', report_interval=REPORT_INTERVAL,
                   stale_check_interval=0.05, evidence_max_age=EVIDENCE_MAX_AGE,
                   monitor_name='tm-%s' % suffix,
                   monitor_topic='sod-trust-monitor-%s' % suffix,
                   agent_topic='sod-trust-agent-%s' % suffix,
                   notification_topic='sod-notifications-%s' % suffix,
                   nonce_key_file=str(processes.group_keys(tmp_path)))
    db_migration.sync(CONF)
    yield CONF
    db_api.dispose()
    fixture.cleanUp()


@pytest.fixture
def fleet(conf):
    fleet = fleet_mod.Fleet(conf, catalog=Catalog.load())
    yield fleet
    fleet.cleanup()


class Flood:
    """An intruder on its own RabbitMQ connection sending ``host``'s agent a
    bogus challenge every ``period`` seconds until stopped."""

    def __init__(self, conf, agent, period):
        self.transport = rpc.get_transport(conf)
        self.forger = agents.ChallengeForger(self.transport,
                                             conf.sod_trust.agent_topic)
        self.agent = agent
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.forger.send(self.agent)
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.transport.cleanup()

    @property
    def sent(self):
        return sum(self.forger.sent.values())


def evidence_at(host):
    return db_api.host_get(db_api.Context(), host).last_evidence_at


def test_a_flood_of_bogus_challenges_changes_nothing_and_an_attack_is_seen(fleet, conf):
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    agent = fleet.agent('hw1')
    assert fleet_mod.wait_for(lambda: [c['new_state'] for c in changes] == ['trusted'],
                              processes.HANG), changes
    changes.clear()
    # Four bogus challenges per report interval, for several evidence
    # lifetimes: before, each report would have quoted a bogus nonce.
    with Flood(conf, agent, REPORT_INTERVAL / 4) as flood:
        for _ in range(3):
            # The host's evidence keeps moving on (the monitor writes it at
            # least every evidence_max_age/4); waited for, not timed.
            before = evidence_at('hw1')
            assert fleet_mod.wait_for(lambda b=before: evidence_at('hw1') != b,
                                      processes.HANG), db_api.host_get(db_api.Context(), 'hw1')
        assert changes == []
        # A genuine violation during the flood is still detected.
        fleet.backend('hw1').start_attack(2)
        assert fleet_mod.wait_for(
            lambda: db_api.host_get(db_api.Context(), 'hw1').state == 'untrusted',
            processes.HANG), db_api.host_get(db_api.Context(), 'hw1')
        assert db_api.host_get(db_api.Context(), 'hw1').reason == '2 memory violations'
        assert flood.sent >= 3
    # Every bogus challenge reached the agent and was dropped, by its kind.
    sent = flood.forger.sent
    assert fleet_mod.wait_for(
        lambda: sum(agent.dropped_challenges.values()) >= flood.sent, processes.HANG), (
        agent.dropped_challenges, sent)
    assert agent.dropped_challenges == {
        challenges.MALFORMED: sent['unsigned'], challenges.SIGNATURE: sent['own_key'],
        challenges.USED: sent['replayed']}
    # No report of the host was rejected: the agent never quoted a bogus nonce.
    assert fleet.monitor.counters['rejected'] == 0, fleet.monitor.counters
    assert [(c['old_state'], c['new_state']) for c in changes] == [
        ('trusted', 'untrusted')]

