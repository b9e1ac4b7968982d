"""TPM 2.0 attestation against real TPMs: one swtpm per host.

The agent's ``tpm`` backend talks to swtpm through tpm2-pytss, the monitor
verifies in pure ``cryptography``; the bus is oslo.messaging's fake://
transport and the database a migrated SQLite file, as in
test_trust_monitor. swtpm and tpm2-pytss are installed by the test suite
(tox's commands_pre); without them these tests fail saying so.
"""

import base64
import hashlib
import os

import pytest
import yaml

from sod_nova import trust
from sod_nova.catalog import Catalog
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.cloud import swtpm
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import attestation
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import keys
from sod_nova.trust import measurements
from sod_nova.trust import nonces
from sod_nova.trust import references
from sod_nova.trust import tpm2
from sod_nova.trust import verify
from sod_nova.trust.backends import tpm as tpm_backend

CTX = db_api.Context()

#: Waits end when the state is reached; this bound (a hundred report
#: periods of the trust_config fixture) only keeps a broken run from hanging.
TIMEOUT = 10.0
PCR = 23


@pytest.fixture
def boot_files(tmp_path):
    files = []
    for name in ('vmlinuz', 'initrd.img', 'nova-compute'):
        path = tmp_path / name
        path.write_bytes(('%s image' % name).encode())
        files.append(str(path))
    return files


@pytest.fixture
def conf(trust_config, tmp_path, boot_files):
    log = [measurements.Event(PCR, hashlib.sha256(open(f, 'rb').read()).hexdigest(),
                              os.path.basename(f)) for f in boot_files]
    refs = tmp_path / 'references.yaml'
    refs.write_text(yaml.safe_dump({'TPM': measurements.replay(log)}))
    trust_config.config(group='sod_trust', reference_values_file=str(refs),
                        tpm_pcr=PCR, tpm_measured_files=boot_files)
    return trust_config.conf


@pytest.fixture
def tpms():
    """Start swtpm processes (one per host); all stop with the test."""
    started = []

    def start():
        tpm = swtpm.SwTpm().start()
        started.append(tpm)
        return tpm

    yield start
    for tpm in started:
        tpm.stop()


@pytest.fixture
def fleet(conf, tpms):
    # After tpms: the agents stop before their TPMs do.
    fleet = fleet_mod.Fleet(conf, catalog=Catalog.load())
    yield fleet
    fleet.cleanup()
    for agent in fleet.agents.values():
        if isinstance(agent.backend, tpm_backend.TpmBackend):
            agent.backend.close()


def tpm_host(fleet, tpms, host='tpm1', **kwargs):
    tpm = tpms()
    backend = tpm_backend.TpmBackend(tcti=tpm.tcti)
    fleet.add_host(host, 'TPM', backend=backend, **kwargs)
    return tpm, backend


def test_clean_host_is_trusted_once_its_ak_is_activated(fleet, tpms, wait_state):
    _, backend = tpm_host(fleet, tpms)
    fleet.start()
    r = wait_state('tpm1', trust.TRUSTED)
    assert r.reason == 'evidence verified'
    enrolled = db_enrollment.get(CTX, 'tpm1')
    assert enrolled.tpm_ak == base64.b64encode(backend.ak_public).decode()
    assert enrolled.tpm_ek == backend.identity()['tpm_ek']


def test_unexpected_measurement_makes_the_host_untrusted_naming_it(fleet, tpms, wait_state):
    _, backend = tpm_host(fleet, tpms)
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    backend.record_event('rootkit.ko', hashlib.sha256(b'rootkit').hexdigest())
    r = wait_state('tpm1', trust.UNTRUSTED)
    assert r.reason == 'PCR 23 does not match the TPM reference: unexpected rootkit.ko'


def test_quote_from_another_tpm_never_activates(fleet, tpms, host_row):
    enrolled_tpm = tpms()
    enrolled = tpm_backend.TpmBackend(tcti=enrolled_tpm.tcti)
    ek = enrolled.identity()['tpm_ek']
    enrolled.close()
    # The host's agent quotes with a different TPM than the one enrolled.
    _, backend = tpm_host(fleet, tpms, tpm_ek=ek)
    fleet.start()
    agent = fleet.agent('tpm1')
    # Credentials sealed to the enrolled EK went out and came back unopened
    # for several reports in a row: each report is ignored (it proves
    # nothing about the host), so the host is never trusted.
    monitor = fleet.monitor
    assert fleet_mod.wait_for(
        lambda: monitor.counters['late:' + verify.AWAITING_ACTIVATION] >= 4,
        TIMEOUT), monitor.counters
    assert host_row('tpm1') is None or host_row('tpm1').state != trust.TRUSTED
    assert monitor.counters['trusted'] == 0
    assert db_enrollment.get(CTX, 'tpm1').tpm_ak is None
    assert agent.sequence >= 4
    # A replay of such a report is refused before its signature (it would
    # otherwise be one more report awaiting activation, and mint a
    # credential that pushes the agent's out of the pending few). Replayed
    # once the monitor has judged the report it copies: the reports are
    # judged in the order sent, each one awaiting activation.
    agent.silence()
    replayed = agent.sent[-1]
    sequence = evidence_mod.parse(evidence_mod.open_envelope(
        replayed, 65536)[1]).sequence
    assert fleet_mod.wait_for(
        lambda: monitor.counters['late:' + verify.AWAITING_ACTIVATION]
        >= sequence, TIMEOUT), monitor.counters
    agent.replay(replayed)
    assert fleet_mod.wait_for(lambda: monitor.counters['rejected:replay'] >= 1,
                              TIMEOUT), monitor.counters


def test_restarted_agent_re_activates_its_new_ak_without_a_false_verdict(
        fleet, tpms, host_row, wait_state):
    """An agent restart makes a new AK in the same TPM: its first reports
    wait for activation (ignored, not a verdict), the new AK is activated
    and the host stays trusted throughout."""
    changes, trusted_with = [], []
    tpm, backend = tpm_host(fleet, tpms)

    def on_change(change):
        changes.append(change)
        if change['new_state'] == trust.TRUSTED:
            # The AK that made the host trusted, as any reader sees it then.
            trusted_with.append(db_enrollment.get(CTX, 'tpm1').tpm_ak)

    fleet.monitor.add_listener(on_change)
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)
    first_ak = base64.b64encode(backend.ak_public).decode()
    # Stored with the verdict it made (one transaction): never a trusted
    # host whose AK a reader (or another monitor) does not see yet.
    assert fleet_mod.wait_for(lambda: trusted_with, TIMEOUT)
    assert trusted_with == [first_ak]
    old = fleet.agent('tpm1')
    old.stop()
    backend.close()
    # The same host (its key and its TPM), a new agent process's backend.
    fresh = tpm_backend.TpmBackend(tcti=tpm.tcti)
    agent = type(old)(old.conf, 'tpm1', fresh, old.private_key,
                     transport=fleet.transport, challenge_keys=fleet.challenge_keys)
    fleet.agents['tpm1'] = agent
    agent.start()

    def new_ak_enrolled():
        enrolled = db_enrollment.get(CTX, 'tpm1').tpm_ak
        return enrolled not in (None, first_ak)
    assert fleet_mod.wait_for(new_ak_enrolled, TIMEOUT)
    assert db_enrollment.get(CTX, 'tpm1').tpm_ak == base64.b64encode(
        fresh.ak_public).decode()
    seq = agent.sequence
    assert fleet_mod.wait_for(lambda: agent.sequence >= seq + 2, TIMEOUT)
    assert fleet.monitor.counters['late:' + verify.AWAITING_ACTIVATION] >= 1
    assert host_row('tpm1').state == trust.TRUSTED
    assert [c['new_state'] for c in changes if c['host'] == 'tpm1'] == [
        trust.TRUSTED]


def test_swtpm_restart_is_a_reboot_and_the_host_re_attests_by_itself(fleet, tpms, wait_state):
    tpm, backend = tpm_host(fleet, tpms)
    fleet.start()
    wait_state('tpm1', trust.TRUSTED)

    def tpm_clock():    # the TPM clock the monitor holds for the host
        record = fleet.monitor.enrollments.cached('tpm1')
        return record and record.tpm_clock

    assert fleet_mod.wait_for(tpm_clock, TIMEOUT)
    before = tpm_clock()
    tpm.restart()
    assert fleet_mod.wait_for(
        lambda: (tpm_clock() or before).reset_count > before.reset_count,
        TIMEOUT), tpm_clock()
    r = wait_state('tpm1', trust.TRUSTED)
    assert r.reason == 'evidence verified'
    # Re-measured after the reset: the log is the boot log again.
    assert [e.name for e in backend.measurements()[0]] == [
        'vmlinuz', 'initrd.img', 'nova-compute']


# -- the verifier alone, on real quotes --------------------------------------

@pytest.fixture
def activated(conf, tpms):
    """A TPM host as the monitor knows it once its AK is activated, and a
    function producing signed reports of it over issued nonces."""
    backend = tpm_backend.TpmBackend(tcti=tpms().tcti)
    key = keys.generate_private_key()
    record = verify.Enrollment(
        'tpm1', 'TPM', key.public_key(),
        tpm_ek=attestation.decode_ek(backend.identity()['tpm_ek']),
        tpm_ak=tpm2.parse_public(backend.ak_public),
        tpm_ak_text=base64.b64encode(backend.ak_public).decode())
    group_key = os.urandom(32)
    verifier = verify.Verifier(references.References.load(
        conf.sod_trust.reference_values_file), 65536, 30.0, group_key)
    state = {'sequence': 0}

    def issue():
        return nonces.issue(group_key, 'tpm1', 0.0)

    def report(source=backend, tpm_field=None, nonce=None):
        nonce = nonce or issue()
        log, pcrs, quote = source.attest(nonce)
        state['sequence'] += 1
        ev = evidence_mod.Evidence(
            'tpm1', 'TPM', 'boot', state['sequence'], nonce, 0.0, tuple(log),
            pcrs, {}, tpm=tpm_field or quote)
        return evidence_mod.sign(ev, key), quote

    def check(envelope):
        # What the monitor keeps of an accepted report: its freshness (in the
        # database) and the TPM clock (in the record).
        verdict = verifier.verify(envelope, lambda h: record, 1.0)
        if verdict.fresh:
            record.freshness = verdict.freshness
            if verdict.tpm is not None and verdict.tpm.clock is not None:
                record.tpm_clock = verdict.tpm.clock
        return verdict

    report.issue = issue
    yield report, check, record
    backend.close()


def test_verifier_accepts_a_real_quote(activated):
    report, check, record = activated
    envelope, quote = report()
    verdict = check(envelope)
    assert verdict.trusted, verdict.reason
    # The monitor keeps the quote's TPM clock: a new swtpm's, started once
    # (its first Startup(CLEAR) is a TPM Reset), never restarted.
    attest = tpm2.parse_attest(base64.b64decode(quote['quote']))
    assert attest.clock > 0
    assert record.tpm_clock == attestation.Clock(1, 0, attest.clock)


def test_old_quote_in_a_new_report_is_rejected(activated):
    report, check, _ = activated
    _, old_quote = report()
    envelope, _ = report(tpm_field=old_quote)
    verdict = check(envelope)
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == ("TPM quote is not over this report's nonce (an "
                              "old quote replayed?)")


def test_quote_of_another_tpm_under_the_enrolled_ak_name_is_rejected(
        activated, tpms):
    report, check, record = activated
    other = tpm_backend.TpmBackend(tcti=tpms().tcti)
    try:
        nonce = report.issue()
        _, _, foreign = other.attest(nonce)
        # Claims the enrolled AK, but the quote is another TPM's.
        forged = dict(foreign, ak=record.tpm_ak_text)
        verdict = check(report(tpm_field=forged, nonce=nonce)[0])
    finally:
        other.close()
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason == ('quote signer is not the attestation key under '
                              'the enrolled endorsement key')


def test_tpm_clock_going_back_is_a_rollback(activated):
    report, check, record = activated
    assert check(report()[0]).trusted
    last = record.tpm_clock
    record.tpm_clock = attestation.Clock(last.reset_count, last.restart_count,
                                         last.clock + 10 ** 9)
    verdict = check(report()[0])
    assert verdict.state == trust.UNTRUSTED
    assert verdict.reason.startswith('TPM clock went back')
