"""``sod-nova simulate``: scenarios on the embedded cloud keep the contract's invariants.

Each scenario runs on real Nova services, the trust monitor and agents, and
the migration manager, all in-process (sod_nova.cloud.embedded). The files
under ``scenarios/`` together cover every event type. One run goes through the
console script as a newcomer would, and is checked against the JSON schema.
"""

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from sod_nova.catalog import Catalog
from sod_nova.cloud import invariants
from sod_nova.cloud import runner
from sod_nova.cloud import scenario as scenario_mod

HERE = os.path.dirname(__file__)
CATALOG = Catalog.load()
SCHEMA = json.loads(open(os.path.join(
    os.path.dirname(scenario_mod.__file__), 'scenarios', 'result.schema.json')).read())


def known(name):
    arch = CATALOG.get(name)
    return arch.name if arch else None


def run(name, relocation=True):
    path = os.path.join(HERE, 'scenarios', name + '.yaml')
    result = runner.ScenarioRunner(scenario_mod.load_file(path, known),
                                   relocation=relocation).run()
    jsonschema.validate(result, SCHEMA)
    # Invariant 3: no VM is lost, in any snapshot.
    for step in result['steps']:
        assert set(step['vms']) == set(result['vms'])
        assert step['settled'], (step['event'], step.get('unsettled'))
    return result


def moves(result, vm=None, step=None):
    source = result['steps'][step]['migrations'] if step is not None else result['migrations']
    return [(m['vm'], m['from'], m['to'], m['trigger'])
            for m in source if m['ok'] and (vm is None or m['vm'] == vm)]


def test_attack_moves_vms_with_a_request_and_only_those():
    result = run('trust-loss')
    assert invariants.check_invariants(result) == []
    attack = result['steps'][0]
    assert attack['hosts']['hw1']['state'] == 'untrusted'
    assert attack['hosts']['hw1']['reason'] == '3 memory violations'
    assert sorted(moves(result, step=0)) == [
        ('vm-b', 'hw1', 'hw2', 'trust-loss'), ('vm-c', 'hw1', 'hw2', 'trust-loss')]
    assert attack['vms']['plain']['host'] == 'hw1'          # no request: stays
    assert all(m['kind'] == 'live' and m['compliant'] for m in result['migrations'])
    recovered = result['steps'][1]
    assert recovered['hosts']['hw1']['state'] == 'trusted'
    assert recovered['migrations'] == []                    # nothing needs moving
    assert result['hosts']['hw1'] == {'architecture': 'HyperWall', 'state': 'trusted',
                                      'reason': 'evidence verified', 'guest_features': []}


def test_without_relocation_the_invariant_breaks():
    """The same attack with the migration manager off leaves a VM exposed."""
    result = run('trust-loss', relocation=False)
    problems = invariants.check_invariants(result)
    assert 'steps[0]: vm-b is ACTIVE on hw1 but not compliant' in problems
    assert result['migrations'] == []


def test_no_compliant_host_pauses_then_a_new_host_takes_the_vm():
    result = run('no-host')
    assert invariants.check_invariants(result) == []
    attack, joined = result['steps']
    assert attack['vms']['vm-b'] == {'status': 'PAUSED', 'host': 'hw1', 'compliant': False}
    parked = [d for d in attack['decisions'] if d['event'] == 'parked']
    assert [d['vm'] for d in parked] == ['vm-b']
    assert parked[0]['reason'].startswith('no compliant host')
    assert attack['vms']['vm-a']['host'] == 'ds1'            # DataSafe still fine
    assert moves(result, 'vm-b', step=1) == [('vm-b', 'hw1', 'hw2', 'recovery')]
    assert joined['vms']['vm-b'] == {'status': 'ACTIVE', 'host': 'hw2', 'compliant': True}
    assert result['vms']['vm-b']['reason'] is None


def test_policy_changes_and_rejected_requests():
    result = run('policy-change')
    assert invariants.check_invariants(result) == []
    vms = result['vms']
    assert vms['cloud-manager']['status'] == 'REJECTED'
    assert 'option 4 (Cloud Manager) is refused' in vms['cloud-manager']['reason']
    assert vms['unknown-package']['status'] == 'REJECTED'
    assert "'gold' is not a security package" in vms['unknown-package']['reason']
    assert vms['unsatisfiable']['status'] == 'REJECTED'
    assert 'HW attacks' in vms['unsatisfiable']['reason']
    assert vms['rec'] == {'status': 'ACTIVE', 'host': 'ds1', 'compliant': True,
                          'reason': None, 'guest': [], 'memory_encrypted': False}
    assert result['boots']['vm-a']['host'] == 'ds1'         # first compliant host
    assert moves(result, step=0) == [('vm-a', 'ds1', 'hw1', 'policy-change')]
    assert moves(result, step=1) == []                       # lowered: stays
    assert result['steps'][1]['vms']['vm-a']['host'] == 'hw1'


def test_stale_forged_and_replayed_evidence_never_make_a_host_trusted():
    result = run('evidence')
    assert invariants.check_invariants(result) == []
    silent, resumed, forged, replayed, challenged = result['steps']
    assert silent['hosts']['hw1']['state'] == 'unreachable'
    assert moves(result, 'vm-b', step=0) == [('vm-b', 'hw1', 'hw2', 'unreachable')]
    assert resumed['hosts']['hw1']['state'] == 'trusted'
    assert forged['evidence']['host'] == 'hw1'
    assert forged['evidence']['rejected'] is True
    assert forged['evidence']['code'] == 'signature'
    assert 'signature' in forged['evidence']['reason']
    assert replayed['evidence']['rejected'] is True
    assert replayed['evidence']['code'] == 'replay'
    assert replayed['evidence']['reason'].startswith('replayed report')
    # Not attributable: no state change, no VM moved (invariants 5 and 6).
    for step in (forged, replayed):
        host = step['evidence']['host']
        assert step['evidence']['state_before'] == 'trusted'
        assert step['evidence']['state_after'] == 'trusted'
        assert step['hosts'][host]['state'] == 'trusted'
        assert step['host_changes'] == [] and step['migrations'] == []
    # The monitor's count of rejected reports, by code, per step.
    assert forged['rejections'] == {'signature': 1}
    assert replayed['rejections'] == {'replay': 1}
    assert silent['rejections'] == resumed['rejections'] == {}
    # Challenges the monitor group never issued, one every report interval
    # for 10 scenario seconds: the agent drops each (unsigned, signed with
    # another key, a recorded genuine one replayed); no report of the host is
    # rejected, its state and every VM stay (invariant 8).
    forged_challenges = challenged['challenges']
    host = challenged['host']
    assert forged_challenges['host'] == host
    sent = forged_challenges['sent']
    assert sum(sent.values()) >= 3 and set(sent) == {'unsigned', 'own_key', 'replayed'}
    assert forged_challenges['dropped'] == {
        'malformed': sent['unsigned'], 'signature': sent['own_key'],
        'used': sent['replayed']}
    assert forged_challenges['state_before'] == forged_challenges['state_after'] == 'trusted'
    assert challenged['rejections'] == {}
    assert challenged['trust_changes'] == [] and challenged['migrations'] == []


def test_wait_lets_a_moving_target_period_elapse_in_scenario_time():
    result = run('moving-target')
    assert invariants.check_invariants(result) == []
    short, long = result['steps']
    assert short['waited']['scenario_s'] == 10.0
    # compressed like the evidence timings: 0.4 real seconds per scenario second
    assert short['waited']['real_s'] >= 4.0 and long['waited']['real_s'] >= 12.0
    assert moves(result, step=0) == []                       # 10 s < 24 s
    assert moves(result, step=1) == [('mt', 'hw1', 'hw2', 'moving-target')]
    assert long['vms']['still']['host'] == 'hw1'             # no period: stays
    # genuine agents kept reporting: no host changed state while time passed
    assert short['trust_changes'] == [] and long['trust_changes'] == []


def test_present_day_scenario_moves_confidential_guests_as_nova_allows():
    """The packaged present-day scenario: SNP and TDX protect only guests
    launched for them, and a memory-encrypted guest moves only cold."""
    result = runner.ScenarioRunner(
        scenario_mod.load_file('present-day', known),
        conf_overrides={('sod_relocation', 'migration_timeout'): 120.0}).run()
    jsonschema.validate(result, SCHEMA)
    for step in result['steps']:
        assert step['settled'], (step['event'], step.get('unsettled'))
    assert invariants.check_invariants(result) == []
    vms = result['vms']
    assert result['boots']['cvm']['host'] == 'snp-1'
    assert result['boots']['ordinary']['host'] == 'hyperwall-1'
    assert result['boots']['measured']['host'] == 'vtpm-1'
    assert vms['cvm']['guest'] == ['amd-sev-snp'] and vms['cvm']['memory_encrypted']
    assert vms['measured']['guest'] == ['vtpm']
    assert vms['no-vtpm']['status'] == 'REJECTED'
    assert ('vTPM-Measured-Boot protects C, I against Other Apps only for a '
            'guest launched with hw:tpm_version=2.0 (a vTPM)'
            in vms['no-vtpm']['reason'])
    cold, paused, back, hw_attack, hw_back, _ = result['steps']
    assert moves(result, 'cvm', step=0) == [('cvm', 'snp-1', 'snp-2', 'trust-loss')]
    assert paused['vms']['cvm'] == {'status': 'PAUSED', 'host': 'snp-2', 'compliant': False}
    assert moves(result, 'cvm', step=2) == [('cvm', 'snp-2', 'snp-1', 'recovery')]
    assert back['vms']['cvm'] == {'status': 'ACTIVE', 'host': 'snp-1', 'compliant': True}
    assert {m['kind'] for m in result['migrations'] if m['vm'] == 'cvm'} == {'cold'}
    # A cold move restarts the guest: the result says for how long.
    assert all(m['downtime_ms'] > 0 for m in result['migrations']
               if m['vm'] == 'cvm' and m['ok'])
    # Retries go to hosts of the guest's kind first: no try on HyperWall.
    assert not any(m['to'] == 'hyperwall-1' for m in result['migrations']
                   if m['vm'] == 'cvm')
    parked = [d for d in hw_attack['decisions']
              if d['event'] == 'parked' and d['vm'] == 'ordinary']
    assert parked and 'AMD-SEV-SNP protects' in parked[0]['reason']
    assert hw_attack['vms']['ordinary']['status'] == 'PAUSED'
    assert hw_back['vms']['ordinary'] == {'status': 'ACTIVE', 'host': 'hyperwall-1',
                                          'compliant': True}
    assert not any(m['vm'] == 'ordinary' for m in result['migrations'])


def test_eventlet_mode_runs_a_scenario():
    """Nova's other concurrency mode (eventlet) runs the same cloud."""
    env = dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='false')
    result = subprocess.run(
        [sys.executable, '-m', 'sod_nova.cmd.manage', 'simulate', '--format', 'json',
         os.path.join(HERE, 'scenarios', 'trust-loss.yaml')],
        capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    assert out['concurrency_mode'] == 'eventlet'
    jsonschema.validate(out, SCHEMA)
    assert invariants.check_invariants(out) == []
    assert all(step['settled'] for step in out['steps'])
    assert sorted(moves(out, step=0)) == [
        ('vm-b', 'hw1', 'hw2', 'trust-loss'), ('vm-c', 'hw1', 'hw2', 'trust-loss')]


def test_console_script_runs_the_paper_scenario_as_json():
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, '-m', 'sod_nova.cmd.manage', 'simulate', '--format', 'json'],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    jsonschema.validate(out, SCHEMA)
    assert invariants.check_invariants(out) == []
    assert set(out['vms']) == {'vm-a', 'vm-b', 'medical', 'plain'}
    triggers = {m['trigger'] for m in out['migrations'] if m['ok']}
    assert {'trust-loss', 'policy-change', 'recovery'} <= triggers
    assert all(vm['status'] == 'ACTIVE' and vm['compliant'] for vm in out['vms'].values())


@pytest.mark.parametrize('text,message', [
    ('hosts:\n  - {name: h, architecture: TPM}\nvms:\n  - {name: a}\n  - {name: b}\n'
     '  - {name: c, security: {options: [9]}}\n',
     'sod-nova: vms[2].security.options: 9 is not an option (1-7)\n'),
    ('hosts: [', None),
    ('hosts:\n  - {name: h, architecture: AMD-SEV-SNP}\nvms:\n'
     '  - {name: c, extra_specs: {"hw:mem_encryption_model": amd-sev-snq}}\n',
     "sod-nova: vms[0].extra_specs.hw:mem_encryption_model: 'amd-sev-snq' is not "
     "one of: amd-sev, amd-sev-es, amd-sev-snp, intel-tdx.\n"),
])
def test_bad_file_is_one_line_and_exit_2(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, '-m', 'sod_nova.cmd.manage', 'simulate', str(path)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ''
    assert result.stderr.count('\n') == 1 and 'Traceback' not in result.stderr
    if message:
        assert result.stderr == message


def test_an_over_limit_scenario_is_refused_before_any_service_starts(tmp_path):
    path = tmp_path / 'big.yaml'
    path.write_text('hosts:\n' + ''.join('  - {name: h%d, architecture: TPM}\n' % i
                                         for i in range(scenario_mod.MAX_HOSTS + 1)))
    # The embedded cloud (and so every service) lives in sod_nova.cloud.embedded:
    # not even imported means nothing started.
    probe = ('import sys\nfrom sod_nova.cmd import manage\nrc = manage.main(sys.argv[1:])\n'
             'print("cloud loaded:", "sod_nova.cloud.embedded" in sys.modules, file=sys.stderr)\n'
             'sys.exit(rc)\n')
    result = subprocess.run([sys.executable, '-c', probe, 'simulate', str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    first, second = result.stderr.splitlines()
    assert first == ('sod-nova: hosts: %d hosts (with add_host events), over the limit of %d '
                     'a scenario may have' % (scenario_mod.MAX_HOSTS + 1, scenario_mod.MAX_HOSTS))
    assert second == 'cloud loaded: False'


def test_thirty_vms_run_past_novas_default_quota():
    result = run('thirty-vms')
    assert invariants.check_invariants(result) == []
    assert all(vm['status'] == 'ACTIVE' for vm in result['boots'].values()), result['boots']
    assert {vm['host'] for name, vm in result['boots'].items()
            if name.startswith('guarded')} == {'hw1'}       # the weigher's first host
    attack = result['steps'][0]
    moved = {vm for vm, src, dst, trigger in moves(result, step=0)}
    guarded = {'guarded-%02d' % i for i in range(6)}
    # On failure, what the manager recorded for the guarded VMs that did not
    # move says why (a failed call, a lost one, a move by other means).
    assert moved == guarded, [d for d in attack['decisions']
                              if d.get('vm') in guarded - moved]
    assert all(attack['vms']['guarded-%02d' % i]['host'] == 'hw2' for i in range(6))
    assert all(attack['vms']['plain-%02d' % i]['host'] == 'hw1' for i in range(24))
def test_tpm_hosts_on_swtpm_attested_attacked_and_rebooted():
    path = os.path.join(HERE, 'scenarios', 'tpm-swtpm.yaml')
    result = runner.ScenarioRunner(scenario_mod.load_file(path, known),
                                   tpm_hosts='swtpm').run()
    jsonschema.validate(result, SCHEMA)
    assert invariants.check_invariants(result) == []
    attack, recover = result['steps']
    assert attack['hosts']['tpm-1']['state'] == 'untrusted'
    assert attack['hosts']['tpm-1']['reason'] == (
        'PCR 23 does not match the TPM reference: unexpected rootkit-0.ko, '
        'rootkit-1.ko, rootkit-2.ko')
    assert moves(result, 'vm-apps', step=0) == [
        ('vm-apps', 'tpm-1', 'tpm-2', 'trust-loss')]
    assert recover['hosts']['tpm-1']['state'] == 'trusted'
