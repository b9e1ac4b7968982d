"""Agents and the monitor in-process over oslo.messaging's fake:// transport.

Real transport, real SQLite database (migrated with alembic), real Ed25519
signatures; nothing mocked. Waits poll the database with a generous timeout
and assert on states and reasons, never on durations.
"""

import datetime
import logging
import time
import uuid

from oslo_config import fixture as config_fixture
import oslo_messaging
import pytest

from sod_nova import trust
from sod_nova.catalog import Catalog
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import evidence
from sod_nova.trust import fleet as fleet_mod
from sod_nova.trust import keys
from sod_nova.trust import rpc
from sod_nova.trust.agent import service as agent_service
from sod_nova.trust.backends import simulated_tpm

CONF = sod_nova.conf.CONF
TIMEOUT = 10.0


@pytest.fixture
def conf(tmp_path):
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    suffix = uuid.uuid4().hex[:8]
    fixture.config(connection='sqlite:///%s' % (tmp_path / 'sod.db'),
                   sqlite_synchronous=False, group='sod_database')
    # Unique topics: the fake transport's queues live as long as the process.
    fixture.config(group='trust', report_interval=0.1, stale_check_interval=0.05,
                   evidence_max_age=5.0, monitor_name='tm-%s' % suffix,
                   monitor_topic='sod-trust-monitor-%s' % suffix,
                   agent_topic='sod-trust-agent-%s' % suffix,
                   notification_topic='sod-notifications-%s' % suffix)
    db_api.sync(CONF)
    yield CONF
    db_api.dispose()
    fixture.cleanUp()


@pytest.fixture
def fleet(conf):
    fleet = fleet_mod.Fleet(conf, catalog=Catalog.load())
    yield fleet
    fleet.cleanup()


def row(host):
    return db_api.host_get(host, conf=CONF)


def wait_state(host, state, reason=None):
    def reached():
        r = row(host)
        return r is not None and r.state == state and (
            reason is None or reason in r.reason)
    assert fleet_mod.wait_for(reached, TIMEOUT), row(host)
    return row(host)


class Notifications:
    """A real notification listener on the monitor's notification topic."""

    def __init__(self, conf):
        self.events = []
        transport = rpc.get_notification_transport(conf)
        self.listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=conf.trust.notification_topic)],
            [self], pool='test')
        self.listener.start()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.append((event_type, payload))

    def stop(self):
        self.listener.stop()
        self.listener.wait()


def test_clean_hosts_become_trusted_with_their_catalogue_row(fleet, conf):
    catalog = Catalog.load()
    hosts = {'hw1': 'HyperWall', 'ds1': 'DataSafe', 'tpm1': 'TPM',
             'snp1': 'AMD-SEV-SNP'}
    for host, arch in hosts.items():
        fleet.add_host(host, arch)
    fleet.start()
    for host, arch in hosts.items():
        r = wait_state(host, trust.TRUSTED)
        assert (r.architecture, r.capability_mask, r.monitor) == (
            arch, catalog.capability_mask(arch), conf.trust.monitor_name)
        assert r.last_evidence_at is not None


def test_hyperwall_attack_untrusted_with_count_then_recovery(fleet, conf):
    notes = Notifications(conf)
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    fleet.backend('hw1').start_attack(3)
    r = wait_state('hw1', trust.UNTRUSTED)
    assert (r.reason, r.capability_mask) == ('3 memory violations', 0)
    fleet.backend('hw1').stop_attack()
    wait_state('hw1', trust.TRUSTED)
    # The row is written just before the listeners are called.
    assert fleet_mod.wait_for(lambda: len(changes) >= 3, TIMEOUT)
    assert changes[:3] == [
        {'host': 'hw1', 'old_state': 'unreachable', 'new_state': 'trusted',
         'reason': 'evidence verified', 'architecture': 'HyperWall'},
        {'host': 'hw1', 'old_state': 'trusted', 'new_state': 'untrusted',
         'reason': '3 memory violations', 'architecture': 'HyperWall'},
        {'host': 'hw1', 'old_state': 'untrusted', 'new_state': 'trusted',
         'reason': 'evidence verified', 'architecture': 'HyperWall'}]
    assert fleet_mod.wait_for(lambda: len(notes.events) >= 3, TIMEOUT)
    notes.stop()
    assert [(t, p['new_state']) for t, p in notes.events[:3]] == [
        (trust.TRUST_CHANGED_EVENT, 'trusted'),
        (trust.TRUST_CHANGED_EVENT, 'untrusted'),
        (trust.TRUST_CHANGED_EVENT, 'trusted')]
    assert notes.events[1][1]['reason'] == '3 memory violations'


def test_silent_agent_becomes_unreachable_then_resumes(fleet, conf):
    conf.set_override('evidence_max_age', 0.5, 'trust')
    fleet.add_host('hw1', 'HyperWall')
    fleet.add_host('hw2', 'HyperWall')
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    wait_state('hw2', trust.TRUSTED)
    fleet.agent('hw1').silence()
    r = wait_state('hw1', trust.UNREACHABLE)
    assert r.reason.startswith('no verified evidence for ')
    assert row('hw2').state == trust.TRUSTED   # the other host keeps reporting
    fleet.agent('hw1').resume()
    wait_state('hw1', trust.TRUSTED)


def test_forged_report_never_trusts_and_is_logged(fleet, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    fleet.add_host('tpm1', 'TPM')
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    fleet.agent('tpm1').silence()
    fleet.agent('tpm1').forge()
    r = wait_state('tpm1', trust.UNTRUSTED)
    assert r.reason == 'signature does not verify with the enrolled key'
    assert ('tpm1: untrusted: signature does not verify with the enrolled key'
            in caplog.messages)
    fleet.agent('tpm1').resume()   # the genuine agent's next report recovers
    wait_state('tpm1', trust.TRUSTED)
    # ... at once: the forgery burnt none of the nonces issued to the agent.
    assert fleet.monitor.counters['untrusted'] == 1


def test_replayed_report_is_untrusted(fleet):
    fleet.add_host('tpm1', 'TPM')
    fleet.start()
    agent = fleet.agent('tpm1')
    fleet_mod.wait_for(lambda: len(agent.sent) >= 2, TIMEOUT)
    wait_state('tpm1', trust.TRUSTED)
    agent.silence()
    agent.replay()
    r = wait_state('tpm1', trust.UNTRUSTED)
    assert r.reason.startswith('replayed or unknown nonce')
    agent.resume()                 # the genuine agent's next report is accepted
    wait_state('tpm1', trust.TRUSTED)
    assert fleet.monitor.counters['untrusted'] == 1


def test_unknown_host_is_dropped_and_the_monitor_goes_on(fleet, conf, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    fleet.add_host('hw1', 'HyperWall')
    fleet.add_host('ghost', 'HyperWall', enroll=False)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    assert fleet_mod.wait_for(
        lambda: 'ghost: challenge requested by a host with no enrolled key; '
                'ignored' in caplog.messages, TIMEOUT)
    # A report it managed to sign anyway (with a nonce it made up).
    ghost = fleet.agent('ghost')
    ghost.challenge('c' * 64, immediate=True)
    assert fleet_mod.wait_for(
        lambda: 'ghost: evidence rejected: unknown host: no enrolled key'
                in caplog.messages, TIMEOUT)
    assert row('ghost') is None
    fleet.backend('hw1').start_attack(2)
    wait_state('hw1', trust.UNTRUSTED, '2 memory violations')


MALFORMED = [
    ({'host': 'hw1', 'evidence': 'x' * 70000, 'signature': ''},
     'oversized evidence: 70000 bytes (limit 65536)'),
    ({'host': 'hw1', 'evidence': '{}', 'signature': 'AAAA'},
     'signature does not verify with the enrolled key'),
    ({'host': 'hw1', 'evidence': ['not', 'a', 'string'], 'signature': ''},
     'malformed report: evidence and signature must be strings'),
]


def test_malformed_reports_make_the_host_untrusted(fleet):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    agent = fleet.agent('hw1')
    for envelope, reason in MALFORMED:
        wait_state('hw1', trust.TRUSTED)
        agent.silence()
        agent.send(envelope)
        assert wait_state('hw1', trust.UNTRUSTED).reason == reason
        agent.resume()
    wait_state('hw1', trust.TRUSTED)


def test_event_log_not_replaying_to_the_quote(fleet):
    fleet.add_host('tpm1', 'TPM')
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    backend = fleet.backend('tpm1')
    assert isinstance(backend, simulated_tpm.SimulatedTpmBackend)
    backend.tamper_log()
    r = wait_state('tpm1', trust.UNTRUSTED)
    assert r.reason == 'event log does not replay to the quoted PCR 9'


def test_tpm_runtime_measurement_off_reference_then_reboot(fleet):
    fleet.add_host('tpm1', 'TPM')
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    fleet.backend('tpm1').start_attack(1)
    r = wait_state('tpm1', trust.UNTRUSTED)
    assert r.reason == 'PCR 10 does not match the TPM reference: unexpected rootkit-0.ko'
    fleet.backend('tpm1').stop_attack()
    wait_state('tpm1', trust.TRUSTED)


def test_architecture_claim_differs_from_enrollment(fleet, conf):
    agent = fleet.add_host('hw1', 'HyperWall', enroll=False)
    db_enrollment.enroll_key('hw1', 'DataSafe', keys.public_key_text(agent.private_key),
                             conf=conf)
    fleet.start()
    r = wait_state('hw1', trust.UNTRUSTED)
    assert r.reason == 'architecture claim HyperWall differs from enrolled DataSafe'
    assert r.capability_mask == 0


def test_agent_restart_reattests_with_a_new_boot(fleet):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    first_boot = agent.boot_id
    agent.stop()
    agent.start()     # sequence restarts at 1 under a new boot id
    assert agent.boot_id != first_boot
    assert fleet_mod.wait_for(
        lambda: (fleet.monitor.attestation_state('hw1') or {}).get('boot_id')
        == agent.boot_id, TIMEOUT)
    assert row('hw1').state == trust.TRUSTED


def test_agents_survive_the_monitor_being_down(fleet, conf):
    agent = fleet.add_host('hw1', 'HyperWall', start=True)   # no monitor yet
    assert fleet_mod.wait_for(lambda: agent._last_request is not None, TIMEOUT)
    assert row('hw1').state == trust.UNREACHABLE
    fleet.start(agents=False)
    wait_state('hw1', trust.TRUSTED)


def test_monitor_restart_challenges_its_hosts(fleet, conf):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    fleet.monitor.stop()
    fleet.start(agents=False)      # a new run: new nonce epoch, empty memory
    assert fleet_mod.wait_for(
        lambda: (fleet.monitor.attestation_state('hw1') or {}).get(
            'last_sequence', 0) > 0, TIMEOUT)
    assert row('hw1').state == trust.TRUSTED


def test_report_of_an_earlier_monitor_run_is_ignored(fleet, conf):
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    old = agent.sent[-1]
    fleet.monitor.stop()
    fleet.start(agents=False)
    assert fleet_mod.wait_for(
        lambda: (fleet.monitor.attestation_state('hw1') or {}).get(
            'last_sequence', 0) > 0, TIMEOUT)
    agent.replay(old)
    assert fleet_mod.wait_for(
        lambda: fleet.monitor.counters['earlier_run'] >= 1, TIMEOUT)
    assert row('hw1').state == trust.TRUSTED
    assert [c['new_state'] for c in changes] == [trust.TRUSTED]


def test_one_time_token_enrollment(conf, fleet):
    token = keys.new_token()
    db_enrollment.create_token('hw1', 'HyperWall', keys.token_key(token), 600,
                               conf=conf)
    fleet.start(agents=False)
    backend = fleet_mod.backend_for('HyperWall')
    agent = agent_service.TrustAgent(conf, 'hw1', backend, keys.generate_private_key(),
                                     transport=fleet.transport,
                                     enrollment_token=token)
    fleet.agents['hw1'] = agent
    agent.start()
    wait_state('hw1', trust.TRUSTED)
    assert not db_enrollment.get('hw1', conf=conf).token_pending
    # The token is used up: a second host key cannot enroll with it.
    intruder = agent_service.TrustAgent(conf, 'hw1', fleet_mod.backend_for('HyperWall'),
                                        keys.generate_private_key(),
                                        transport=fleet.transport,
                                        enrollment_token=token)
    assert db_enrollment.get('hw1', conf=conf).public_key == keys.public_key_text(
        agent.private_key)
    del intruder


def test_wrong_token_never_enrolls(conf, fleet, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    db_enrollment.create_token('hw1', 'HyperWall', keys.token_key('right'), 600,
                               conf=conf)
    fleet.start(agents=False)
    agent = agent_service.TrustAgent(conf, 'hw1', fleet_mod.backend_for('HyperWall'),
                                     keys.generate_private_key(),
                                     transport=fleet.transport,
                                     enrollment_token='wrong')
    fleet.agents['hw1'] = agent
    agent.start()
    assert fleet_mod.wait_for(
        lambda: 'hw1: enrollment refused: enrollment proof of hw1 does not match '
                'its token' in caplog.messages, TIMEOUT)
    assert db_enrollment.get('hw1', conf=conf).public_key is None
    assert row('hw1').state == trust.UNREACHABLE


def test_two_monitors_share_one_database_without_conflict(conf):
    hyper = fleet_mod.Fleet(conf, name='tm-hyperwall', topic='tm-hw-%s' % uuid.uuid4().hex,
                            architectures=['HyperWall'])
    other = fleet_mod.Fleet(conf, name='tm-tpm', topic='tm-tpm-%s' % uuid.uuid4().hex,
                            architectures=['TPM'])
    try:
        hyper.add_host('hw1', 'HyperWall')
        other.add_host('tpm1', 'TPM')
        hyper.start()
        other.start()
        assert wait_state('hw1', trust.TRUSTED).monitor == 'tm-hyperwall'
        assert wait_state('tpm1', trust.TRUSTED).monitor == 'tm-tpm'
        conf.set_override('evidence_max_age', 0.5, 'trust')
        other.agent('tpm1').silence()
        wait_state('tpm1', trust.UNREACHABLE)
        # tm-tpm's sweep and tm-hyperwall's reports never touch each other's hosts.
        assert row('hw1').state == trust.TRUSTED
        assert hyper.monitor.check_stale(
            now=datetime.datetime.now().timestamp() + 60) == ['hw1']
        assert other.monitor.check_stale() == []
    finally:
        hyper.cleanup()
        other.cleanup()


def test_resume_after_a_long_silence_never_quotes_an_expired_nonce(fleet, conf):
    conf.set_override('nonce_max_age', 0.4, 'trust')
    conf.set_override('evidence_max_age', 0.3, 'trust')
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    fleet.agent('hw1').silence()
    wait_state('hw1', trust.UNREACHABLE)
    time.sleep(0.5)   # the agent's last nonce ages past nonce_max_age
    fleet.agent('hw1').resume()
    wait_state('hw1', trust.TRUSTED)
    assert [c['new_state'] for c in changes] == [
        trust.TRUSTED, trust.UNREACHABLE, trust.TRUSTED]


def test_overlapping_monitor_leaves_a_fresh_foreign_row_alone(fleet, conf):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    other = fleet_mod.Fleet(conf, transport=fleet.transport, name='tm-other',
                            topic='tm-other-%s' % uuid.uuid4().hex)
    other.start()
    try:
        # tm-other is told to serve every host too; hw1's agent never reports
        # to it, but a forged report sent to it must not overwrite the row.
        backend = fleet.backend('hw1')
        log, pcrs = backend.measurements()
        forged = evidence.sign(evidence.Evidence(
            'hw1', 'HyperWall', 'b', 1, None, 0.0, tuple(log), pcrs,
            backend.runtime_evidence()), keys.generate_private_key())
        assert other.monitor.report_evidence(forged) is None
        assert other.monitor.counters['foreign'] == 1
        assert row('hw1').state == trust.TRUSTED
        assert row('hw1').monitor == conf.trust.monitor_name
    finally:
        other.cleanup()
