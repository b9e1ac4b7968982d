"""Agents and the monitor in-process over oslo.messaging's fake:// transport.

Real transport, real SQLite database (migrated with alembic), real Ed25519
signatures; nothing mocked. Waits poll the database with a generous timeout
and assert on states and reasons, never on durations.

Bad reports, three outcomes: attributable and bad makes the host untrusted;
not attributable (forged, replayed, malformed, unknown host) changes no
state, is counted, alerted and re-challenged; genuine but late is ignored.
"""

import datetime
import json
import logging
import time
import uuid

from oslo_config import fixture as config_fixture
import oslo_messaging
import pytest

from sod_nova import trust
from sod_nova.catalog import Catalog
from sod_nova.cloud import fleet as fleet_mod
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import evidence_rejections
from sod_nova.db import migration as db_migration
from sod_nova.trust import challenges
from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import nonces
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
    fixture.config(group='sod_trust', report_interval=0.1, stale_check_interval=0.05,
                   evidence_max_age=5.0, monitor_name='tm-%s' % suffix,
                   monitor_topic='sod-trust-monitor-%s' % suffix,
                   agent_topic='sod-trust-agent-%s' % suffix,
                   notification_topic='sod-notifications-%s' % suffix,
                   nonce_key_file=str(tmp_path / 'nonce.key'))
    nonces.write_key(str(tmp_path / 'nonce.key'))
    db_migration.sync(CONF)
    yield CONF
    db_api.dispose()
    fixture.cleanUp()


@pytest.fixture
def fleet(conf):
    fleet = fleet_mod.Fleet(conf, catalog=Catalog.load())
    yield fleet
    fleet.cleanup()


def row(host):
    return db_api.host_get(db_api.Context(), host)


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
            transport, [oslo_messaging.Target(topic=conf.sod_trust.notification_topic)],
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
            arch, catalog.capability_mask(arch), conf.sod_trust.monitor_name)
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
    conf.set_override('evidence_max_age', 0.5, 'sod_trust')
    fleet.add_host('hw1', 'HyperWall')
    fleet.add_host('hw2', 'HyperWall')
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    wait_state('hw2', trust.TRUSTED)
    fleet.agent('hw1').silence()
    r = wait_state('hw1', trust.UNREACHABLE)
    assert r.reason.startswith('no verified evidence for ')
    # The other host keeps reporting: its evidence outlives hw1's.
    assert fleet_mod.wait_for(
        lambda: row('hw2').state == trust.TRUSTED
        and row('hw2').last_evidence_at > r.last_evidence_at, TIMEOUT), (
        row('hw2'), r)
    fleet.agent('hw1').resume()
    wait_state('hw1', trust.TRUSTED)


def quiet(conf):
    """Agents report only when challenged or when evidence changes."""
    conf.set_override('report_interval', 60.0, 'sod_trust')
    conf.set_override('evidence_max_age', 120.0, 'sod_trust')


def settled(agent):
    """Wait until the agent's last report was acknowledged; its sequence."""
    assert fleet_mod.wait_for(
        lambda: agent.sequence >= 1 and agent._acked == agent.sequence, TIMEOUT)
    return agent.sequence


def rejected(monitor, code, at_least=1):
    assert fleet_mod.wait_for(
        lambda: monitor.counters['rejected:' + code] >= at_least, TIMEOUT), (
        monitor.counters)


def test_forged_report_changes_nothing_is_counted_and_rechallenged(
        fleet, conf, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    quiet(conf)
    changes = []
    notes = Notifications(conf)
    fleet.add_host('tpm1', 'TPM')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    agent = fleet.agent('tpm1')
    before = settled(agent)
    try:
        agent.forge()
        rejected(fleet.monitor, 'signature')
        # Challenged at once: the genuine agent reports although its next
        # periodic report is a minute away.
        assert fleet_mod.wait_for(lambda: agent.sequence > before, TIMEOUT)
        assert fleet_mod.wait_for(lambda: any(
            e == 'sod.host.evidence_rejected' and p['host'] == 'tpm1'
            for e, p in notes.events), TIMEOUT)
    finally:
        notes.stop()
    payload = next(p for e, p in notes.events
                   if e == 'sod.host.evidence_rejected')
    assert (payload['code'], payload['count']) == ('signature', 1)
    assert payload['reason'] == 'signature does not verify with the enrolled key'
    assert row('tpm1').state == trust.TRUSTED
    assert [c['new_state'] for c in changes] == [trust.TRUSTED]
    assert ('tpm1: evidence rejected (signature): signature does not verify '
            'with the enrolled key; host state unchanged' in caplog.messages)
    counts = evidence_rejections.by_host(db_api.Context())['tpm1']
    assert [(c.code, c.count) for c in counts] == [('signature', 1)]


def test_replayed_report_changes_nothing_also_after_a_restart(fleet, conf):
    changes = []
    fleet.add_host('tpm1', 'TPM')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    agent = fleet.agent('tpm1')
    assert fleet_mod.wait_for(lambda: len(agent.sent) >= 2, TIMEOUT)
    wait_state('tpm1', trust.TRUSTED)
    agent.replay()
    rejected(fleet.monitor, 'replay')
    assert row('tpm1').state == trust.TRUSTED
    # A new monitor run knows what was consumed: the database keeps it.
    old = agent.sent[-1]
    fleet.monitor.stop()
    fleet.start(agents=False)
    assert fleet_mod.wait_for(lambda: fleet.monitor.counters['trusted'] > 0,
                              TIMEOUT)
    agent.replay(old)
    rejected(fleet.monitor, 'replay')
    assert row('tpm1').state == trust.TRUSTED
    assert [c['new_state'] for c in changes] == [trust.TRUSTED]


def test_unknown_host_is_counted_without_state_and_the_monitor_goes_on(
        fleet, conf, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    fleet.add_host('hw1', 'HyperWall')
    fleet.add_host('ghost', 'HyperWall', enroll=False)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    assert fleet_mod.wait_for(
        lambda: 'ghost: challenge requested by a host with no enrolled key; '
                'ignored' in caplog.messages, TIMEOUT)
    # A report it managed to sign anyway (with a nonce it made up, in a
    # challenge signed as only the monitor group can: the agent takes no
    # other).
    ghost = fleet.agent('ghost')
    ghost.challenge('c' * 64, True, signature=challenges.sign(
        challenges.signing_key(fleet.monitor.nonce_key), 'ghost', 'c' * 64, True))
    rejected(fleet.monitor, 'unknown_host')
    assert row('ghost') is None
    assert fleet.monitor.enrollments.cached('ghost') is None
    fleet.monitor.flush_alerts()
    counts = evidence_rejections.by_host(db_api.Context())
    assert 'ghost' not in counts
    assert [c.code for c in counts[evidence_rejections.UNKNOWN]] == [
        'unknown_host']
    fleet.backend('hw1').start_attack(2)
    wait_state('hw1', trust.UNTRUSTED, '2 memory violations')


MALFORMED = [
    ({'host': 'hw1', 'evidence': 'x' * 70000, 'signature': ''}, 'oversized'),
    ({'host': 'hw1', 'evidence': '{}', 'signature': 'AAAA'}, 'signature'),
    ({'host': 'hw1', 'evidence': ['not', 'a', 'string'], 'signature': ''},
     'malformed'),
    ({'host': 'hw1', 'evidence': 1}, 'malformed'),
]


def test_malformed_reports_change_nothing(fleet):
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    for envelope, code in MALFORMED:
        seen = fleet.monitor.counters['rejected:' + code]
        agent.send(envelope)
        rejected(fleet.monitor, code, seen + 1)
    assert row('hw1').state == trust.TRUSTED
    assert [c['new_state'] for c in changes] == [trust.TRUSTED]


def signed(agent, mutate):
    """An envelope the agent's own key signed, of its next report's document
    changed by ``mutate(doc)`` (returning the text to sign, or None)."""
    doc = agent._evidence(agent._nonce, agent.sequence + 1).to_document()
    text = mutate(doc) or evidence.canonical(doc)
    return {'host': agent.host, 'evidence': text,
            'signature': evidence.base64.b64encode(
                agent.private_key.sign(text.encode())).decode()}


def _superscript_pcr(doc):
    doc['pcrs']['\u00b2'] = 'a' * 64


def _deep(doc):
    return '[' * 30000 + ']' * 30000


def _huge_sequence(doc):
    doc['sequence'] = 10 ** 4000


@pytest.mark.parametrize('mutate, reason', [
    (_superscript_pcr, "malformed evidence: pcrs['\\xb2']"),
    (_deep, 'malformed evidence: nested too deep'),
    (_huge_sequence, 'malformed evidence: integer of 4001 digits (at most 63 '
                     'bits)'),
])
def test_crash_inputs_signed_by_the_host_fail_closed_then_recover(
        fleet, conf, mutate, reason):
    """Inputs that crashed the verifier (verdict None, host kept trusted) or
    wedged the host: signed with its key, they are attributable and bad."""
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    agent.send(signed(agent, mutate))
    assert fleet_mod.wait_for(lambda: len(changes) >= 3, TIMEOUT), changes
    assert [(c['new_state'], c['reason']) for c in changes] == [
        (trust.TRUSTED, 'evidence verified'), (trust.UNTRUSTED, reason),
        (trust.TRUSTED, 'evidence verified')]   # the next genuine report
    assert fleet.monitor.counters['errors'] == 0


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
    db_enrollment.enroll_key(db_api.Context(), 'hw1', 'DataSafe',
                             keys.public_key_text(agent.private_key))
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


def test_a_new_monitor_run_accepts_the_nonces_of_the_last(fleet, conf):
    """Nonces are the group's, not the run's: a report quoting a nonce the
    previous run issued (in flight across the restart) is accepted."""
    quiet(conf)
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    settled(agent)
    fleet.monitor.stop()
    agent.report_now()            # quotes the nonce the stopped run issued
    fleet.start(agents=False)
    assert fleet_mod.wait_for(lambda: fleet.monitor.counters['trusted'] >= 1,
                              TIMEOUT)
    assert fleet.monitor.counters['rejected'] == 0, fleet.monitor.counters
    assert fleet.monitor.counters['late'] == 0
    assert row('hw1').state == trust.TRUSTED


def test_one_time_token_enrollment(conf, fleet):
    token = keys.new_token()
    db_enrollment.create_token(
        db_api.Context(), 'hw1', 'HyperWall', keys.token_key(token), 600)
    fleet.start(agents=False)
    backend = fleet_mod.backend_for('HyperWall')
    agent = agent_service.TrustAgent(conf, 'hw1', backend, keys.generate_private_key(),
                                     transport=fleet.transport,
                                     enrollment_token=token,
                                     challenge_keys=fleet.challenge_keys)
    fleet.agents['hw1'] = agent
    agent.start()
    wait_state('hw1', trust.TRUSTED)
    assert not db_enrollment.get(db_api.Context(), 'hw1').token_pending
    # The token is used up: a second host key cannot enroll with it.
    intruder = agent_service.TrustAgent(conf, 'hw1', fleet_mod.backend_for('HyperWall'),
                                        keys.generate_private_key(),
                                        transport=fleet.transport,
                                        enrollment_token=token,
                                        challenge_keys=fleet.challenge_keys)
    assert db_enrollment.get(db_api.Context(), 'hw1').public_key == keys.public_key_text(
        agent.private_key)
    del intruder


def test_wrong_token_never_enrolls(conf, fleet, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    db_enrollment.create_token(
        db_api.Context(), 'hw1', 'HyperWall', keys.token_key('right'), 600)
    fleet.start(agents=False)
    agent = agent_service.TrustAgent(conf, 'hw1', fleet_mod.backend_for('HyperWall'),
                                     keys.generate_private_key(),
                                     transport=fleet.transport,
                                     enrollment_token='wrong',
                                     challenge_keys=fleet.challenge_keys)
    fleet.agents['hw1'] = agent
    agent.start()
    assert fleet_mod.wait_for(
        lambda: 'hw1: enrollment refused: enrollment proof of hw1 does not match '
                'its token' in caplog.messages, TIMEOUT)
    assert db_enrollment.get(db_api.Context(), 'hw1').public_key is None
    assert row('hw1').state == trust.UNREACHABLE


def test_genuine_late_reports_are_ignored_never_untrusted(fleet, conf):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    agent = fleet.agent('hw1')
    wait_state('hw1', trust.TRUSTED)
    expired = signed(agent, lambda doc: doc.update(
        sequence=agent.sequence + 50, nonce=nonces.issue(
            fleet.monitor.nonce_key, 'hw1', time.time() - 3600)))
    verdict = fleet.monitor.report_evidence(expired)
    assert (verdict.outcome, verdict.code) == ('late', 'expired')
    assert fleet.monitor.counters['late'] == 1
    assert fleet.monitor.counters['errors'] == 0
    assert fleet.monitor.counters['rejected'] == 0
    assert row('hw1').state == trust.TRUSTED


def test_internal_error_fails_closed_for_that_host_and_is_counted(fleet):
    """A verifier bug on one host's report (here: its identity check
    raises, after the signature verified) makes that host untrusted, is
    counted, and the others go on."""
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.add_host('tpm1', 'TPM')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    wait_state('tpm1', trust.TRUSTED)
    verifier = fleet.monitor.recorder.verifier
    identity = verifier._identity_problem

    def broken(enrollment, evidence):
        if enrollment.architecture == 'HyperWall':
            raise KeyError(enrollment.architecture)
        return identity(enrollment, evidence)

    verifier._identity_problem = broken
    r = wait_state('hw1', trust.UNTRUSTED)
    assert r.reason == 'internal error verifying evidence: KeyError (fails closed)'
    assert fleet.monitor.counters['internal_error'] >= 1
    del verifier._identity_problem
    wait_state('hw1', trust.TRUSTED)         # its next good report
    assert [c['new_state'] for c in changes if c['host'] == 'tpm1'] == [
        trust.TRUSTED]


def test_bogus_enroll_on_the_bus_leaves_the_token_to_the_genuine_agent(
        conf, fleet, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    token = keys.new_token()
    db_enrollment.create_token(
        db_api.Context(), 'hw1', 'HyperWall', keys.token_key(token), 600)
    fleet.start(agents=False)
    bogus = keys.public_key_text(keys.generate_private_key())
    assert not fleet.monitor.enroll('hw1', 'HyperWall', bogus, 'f' * 64)
    assert ('hw1: enrollment refused: enrollment proof of hw1 does not match '
            'its token' in caplog.messages)
    assert db_enrollment.get(db_api.Context(), 'hw1').token_pending
    agent = agent_service.TrustAgent(conf, 'hw1', fleet_mod.backend_for('HyperWall'),
                                     keys.generate_private_key(),
                                     transport=fleet.transport,
                                     enrollment_token=token,
                                     challenge_keys=fleet.challenge_keys)
    fleet.agents['hw1'] = agent
    agent.start()
    wait_state('hw1', trust.TRUSTED)
    assert db_enrollment.get(db_api.Context(), 'hw1').public_key == keys.public_key_text(
        agent.private_key)


def test_enroll_with_another_hosts_key_is_refused_naming_it(conf, fleet, caplog):
    caplog.set_level(logging.WARNING, logger='sod_nova.trust')
    agent = fleet.add_host('hw1', 'HyperWall')
    token = keys.new_token()
    db_enrollment.create_token(
        db_api.Context(), 'hw2', 'HyperWall', keys.token_key(token), 600)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    public = keys.public_key_text(agent.private_key)
    proof = keys.enrollment_proof(token, 'hw2', 'HyperWall', public)
    assert not fleet.monitor.enroll('hw2', 'HyperWall', public, proof)
    assert ('hw2: enrollment refused: this public key is already enrolled for '
            'host hw1; one key belongs to one host' in caplog.messages)
    assert db_enrollment.get(db_api.Context(), 'hw2').public_key is None


def test_two_monitors_share_one_database_without_conflict(conf):
    hyper = fleet_mod.Fleet(conf, name='tm-hyperwall', topic='tm-hw-%s' % uuid.uuid4().hex,
                            architectures=['HyperWall'])
    other = fleet_mod.Fleet(conf, name='tm-tpm', topic='tm-tpm-%s' % uuid.uuid4().hex,
                            architectures=['TPM'])
    changed = {'tm-hyperwall': set(), 'tm-tpm': set()}
    try:
        hyper.add_host('hw1', 'HyperWall')
        other.add_host('tpm1', 'TPM')
        for one in (hyper, other):
            one.monitor.add_listener(
                lambda c, name=one.monitor.name: changed[name].add(c['host']))
        hyper.start()
        other.start()
        assert wait_state('hw1', trust.TRUSTED).monitor == 'tm-hyperwall'
        assert wait_state('tpm1', trust.TRUSTED).monitor == 'tm-tpm'
        conf.set_override('evidence_max_age', 0.5, 'sod_trust')
        other.agent('tpm1').silence()
        wait_state('tpm1', trust.UNREACHABLE)
        # tm-tpm's sweep and tm-hyperwall's reports never touch each other's
        # hosts (whatever a stall of this machine did to hw1's freshness).
        later = datetime.datetime.now().timestamp() + 60
        assert other.monitor.check_stale(now=later) == []
        wait_state('hw1', trust.TRUSTED)
        assert hyper.monitor.check_stale(now=later) in (['hw1'], [])
        assert changed == {'tm-hyperwall': {'hw1'}, 'tm-tpm': {'tpm1'}}
        assert (row('hw1').monitor, row('tpm1').monitor) == (
            'tm-hyperwall', 'tm-tpm')
    finally:
        hyper.cleanup()
        other.cleanup()


def test_resume_after_a_long_silence_never_quotes_an_expired_nonce(fleet, conf):
    conf.set_override('nonce_max_age', 0.4, 'sod_trust')
    conf.set_override('evidence_max_age', 0.3, 'sod_trust')
    changes = []
    fleet.add_host('hw1', 'HyperWall')
    fleet.monitor.add_listener(changes.append)
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    agent = fleet.agent('hw1')
    agent.silence()
    wait_state('hw1', trust.UNREACHABLE)
    held = agent._nonce
    if held is not None:    # it ages past nonce_max_age before the resume
        issued = nonces.issued_at(fleet.monitor.nonce_key, 'hw1', held)
        assert fleet_mod.wait_for(
            lambda: time.time() - issued > conf.sod_trust.nonce_max_age,
            TIMEOUT)
    before = list(agent.sent)
    agent.resume()
    wait_state('hw1', trust.TRUSTED)
    # Listeners run after the row is written: wait for the trusted call.
    assert fleet_mod.wait_for(
        lambda: changes and changes[-1]['new_state'] == trust.TRUSTED,
        TIMEOUT), changes
    # Whatever stalls of this machine did to the 0.3 s freshness window:
    # each change starts where the last ended, the host went unreachable
    # while silent, and no report after the resume quoted the aged nonce.
    assert [c['old_state'] for c in changes] == [trust.UNREACHABLE] + [
        c['new_state'] for c in changes[:-1]]
    assert trust.UNREACHABLE in [c['new_state'] for c in changes]
    resumed = [e for e in agent.sent if all(e is not b for b in before)]
    assert resumed and held not in [
        json.loads(e['evidence'])['nonce'] for e in resumed]


def test_overlapping_monitor_leaves_a_fresh_foreign_row_alone(fleet, conf):
    fleet.add_host('hw1', 'HyperWall')
    fleet.start()
    wait_state('hw1', trust.TRUSTED)
    other = fleet_mod.Fleet(conf, transport=fleet.transport, name='tm-other',
                            topic='tm-other-%s' % uuid.uuid4().hex)
    other.start()
    try:
        # tm-other is told to serve every host too: a genuine report that
        # reaches it (on a nonce of the group) must not overwrite the row.
        agent = fleet.agent('hw1')
        envelope = signed(agent, lambda doc: doc.update(
            sequence=agent.sequence + 100, nonce=nonces.issue(
                other.monitor.nonce_key, 'hw1', time.time())))
        assert other.monitor.report_evidence(envelope).trusted
        assert other.monitor.counters['foreign'] == 1
        assert row('hw1').state == trust.TRUSTED
        assert row('hw1').monitor == conf.sod_trust.monitor_name
    finally:
        other.cleanup()


def test_two_monitors_of_a_group_share_the_work_and_survive_one_stopping(
        fleet, conf):
    """Two monitors on one topic over one database with one nonce key: any
    of them may take any report. Same verdicts as one; stopping one
    mid-stream misjudges nothing; a replay is caught by either."""
    changes = []
    hosts = {'hw1': 'HyperWall', 'hw2': 'HyperWall', 'tpm1': 'TPM'}
    for host, arch in hosts.items():
        fleet.add_host(host, arch)
    fleet.monitor.add_listener(changes.append)
    replica = fleet_mod.Fleet(conf, catalog=Catalog.load(),
                              transport=fleet.transport)
    replica.monitor.add_listener(changes.append)
    replica.start()
    fleet.start()
    try:
        for host in hosts:
            wait_state(host, trust.TRUSTED)
        both = (fleet.monitor, replica.monitor)
        assert fleet_mod.wait_for(
            lambda: all(m.counters['trusted'] >= 10 for m in both), TIMEOUT), [
            m.counters for m in both]
        old = fleet.agent('hw2').sent[0]
        for monitor in both:
            assert monitor.report_evidence(old).code == 'replay'
        replica.monitor.stop()                  # mid-stream
        done = fleet.monitor.counters['trusted']
        assert fleet_mod.wait_for(
            lambda: fleet.monitor.counters['trusted'] >= done + 3 * len(hosts),
            TIMEOUT)
        fleet.backend('hw1').start_attack(1)
        wait_state('hw1', trust.UNTRUSTED, '1 memory violation')
        # Listeners run after the row is written: wait for the fourth call.
        assert fleet_mod.wait_for(lambda: len(changes) >= 4, TIMEOUT), changes
    finally:
        replica.cleanup()
    for monitor in both:
        assert monitor.counters['rejected'] == monitor.counters[
            'rejected:replay'] == 1, monitor.counters
        assert monitor.counters['errors'] == 0
    assert sorted((c['host'], c['new_state']) for c in changes) == [
        ('hw1', trust.TRUSTED), ('hw1', trust.UNTRUSTED),
        ('hw2', trust.TRUSTED), ('tpm1', trust.TRUSTED)]
    for host in ('hw2', 'tpm1'):
        assert row(host).state == trust.TRUSTED
