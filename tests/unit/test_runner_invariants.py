"""The invariants a scenario result shows, checked from the result alone."""

from sod_nova.cloud import invariants
from sod_nova.cloud import runner
from sod_nova.cloud import timeline


def change(host, to, reason='x', frm='trusted'):
    return {'host': host, 'from': frm, 'to': to, 'reason': reason}


def result(steps, setup=()):
    vms = {'vm': {'status': 'ACTIVE', 'host': 'hw2', 'compliant': True, 'reason': None}}
    for step in steps:
        step.setdefault('vms', {'vm': {'status': 'ACTIVE', 'host': 'hw2',
                                       'compliant': True}})
        step.setdefault('host_changes', [])
        step.setdefault('migrations', [])
        step.setdefault('settled_s', 0.1)
    return {'name': 't', 'hosts': {}, 'vms': vms, 'migrations': [], 'steps': list(steps),
            'setup_trust_changes': list(setup)}


def test_a_targeted_host_may_lose_trust():
    r = result([
        {'event': {'attack': {'host': 'hw1'}}, 'host': 'hw1',
         'trust_changes': [change('hw1', 'untrusted', '3 memory violations')]},
        {'event': {'silence': {'host_of': 'vm'}}, 'host': 'hw2',
         'trust_changes': [change('hw2', 'unreachable')]},
        {'event': {'recover': {'host': 'hw1'}}, 'host': 'hw1',
         'trust_changes': [change('hw1', 'trusted', frm='untrusted')]},
    ])
    assert invariants.check_invariants(r) == []


def test_a_host_no_event_targeted_is_a_false_verdict_even_if_it_came_back():
    r = result([
        {'event': {'attack': {'host': 'hw1'}}, 'host': 'hw1',
         'trust_changes': [change('hw1', 'untrusted'),
                           change('tpm1', 'untrusted', 'replayed or unknown nonce'),
                           change('tpm1', 'trusted', frm='untrusted')]},
        # a recovery targets hw1 but takes nobody's trust
        {'event': {'recover': {'host': 'hw1'}}, 'host': 'hw1',
         'trust_changes': [change('hw1', 'unreachable', 'no fresh evidence')]},
        {'event': {'wait': {'seconds': 30}}, 'host': None,
         'trust_changes': [change('ds1', 'unreachable', 'no fresh evidence')]},
    ], setup=[change('hw2', 'trusted', 'evidence verified', frm='unreachable'),
              change('hw2', 'unreachable', 'no fresh evidence')])
    assert invariants.check_invariants(r) == [
        'start-up: hw2 judged unreachable (no fresh evidence)',
        'steps[0]: tpm1 judged untrusted (replayed or unknown nonce), no event targeted it',
        'steps[1]: hw1 judged unreachable (no fresh evidence), no event targeted it',
        'steps[2]: ds1 judged unreachable (no fresh evidence), no event targeted it',
    ]


def test_a_host_being_enrolled_is_not_yet_judged():
    """Before its first trusted verdict a host is still being enrolled (its
    first verdict may come before its evidence is complete)."""
    r = result([], setup=[
        change('tpm1', 'untrusted', 'no reference values for TPM', frm='unreachable'),
        change('tpm1', 'trusted', 'evidence verified', frm='untrusted'),
        change('tpm1', 'untrusted', 'replayed or unknown nonce')])
    assert invariants.check_invariants(r) == [
        'start-up: tpm1 judged untrusted (replayed or unknown nonce)']


def test_the_timeline_tells_a_wait():
    r = result([{'event': {'wait': {'seconds': 30}}, 'host': None, 'trust_changes': [],
                 'waited': {'scenario_s': 30.0, 'real_s': 12.01}}])
    text = timeline.render(r)
    assert '[1] 30 s of scenario time pass (12.0 s here)' in text
    assert 'Invariants: all kept' in text


def confidential_result(migrations, placements):
    """A run with an SNP guest (cvm), an ordinary guest and a plain
    memory-encrypted guest of the default model (sev: any SEV host)."""
    r = result([{'event': {'attack': {'host': 'snp1'}}, 'host': 'snp1',
                 'trust_changes': [],
                 'vms': {name: {'status': 'ACTIVE', 'host': host, 'compliant': True}
                         for name, host in placements.items()}}])
    r['hosts'] = {
        'snp1': {'architecture': 'AMD-SEV-SNP', 'guest_features': ['amd-sev-snp']},
        'snp2': {'architecture': 'AMD-SEV-SNP', 'guest_features': ['amd-sev-snp']},
        'tdx1': {'architecture': 'Intel-TDX', 'guest_features': ['intel-tdx']},
        'hw1': {'architecture': 'HyperWall', 'guest_features': []}}
    r['vms'] = {
        'cvm': {'status': 'ACTIVE', 'host': placements['cvm'], 'compliant': True,
                'reason': None, 'guest': ['amd-sev-snp'], 'memory_encrypted': True},
        'vm': {'status': 'ACTIVE', 'host': placements['vm'], 'compliant': True,
               'reason': None, 'guest': [], 'memory_encrypted': False},
        'sev': {'status': 'ACTIVE', 'host': placements['sev'], 'compliant': True,
                'reason': None, 'guest': [], 'memory_encrypted': True}}
    r['migrations'] = migrations
    return r


def move(vm, frm, to, kind, ok=True):
    return {'vm': vm, 'from': frm, 'to': to, 'trigger': 'trust-loss', 'kind': kind,
            'ok': ok, 'compliant': True}


def test_a_confidential_guest_moved_cold_between_hosts_of_its_kind():
    r = confidential_result(
        [move('cvm', 'snp1', 'snp2', 'cold'), move('vm', 'hw1', 'snp1', 'live'),
         move('sev', 'snp1', 'snp2', 'cold')],
        {'cvm': 'snp2', 'vm': 'hw1', 'sev': 'snp2'})
    assert invariants.check_invariants(r) == []


def test_invariant_7_a_memory_encrypted_guest_never_moves_live():
    r = confidential_result(
        [move('cvm', 'snp1', 'snp2', 'live'),
         move('sev', 'snp1', 'snp2', 'live', ok=False)],
        {'cvm': 'snp2', 'vm': 'hw1', 'sev': 'snp1'})
    assert invariants.check_invariants(r) == [
        'cvm is memory-encrypted but was moved by live migration (snp1 to snp2)',
        'sev is memory-encrypted but was moved by live migration (snp1 to snp2)']


def test_invariant_7_a_confidential_guest_only_on_hosts_of_its_kind():
    r = confidential_result([], {'cvm': 'tdx1', 'vm': 'snp1', 'sev': 'hw1'})
    r['vms']['cvm']['host'] = 'hw1'
    assert invariants.check_invariants(r) == [
        'steps[0]: cvm, launched as amd-sev-snp, is on tdx1, which does not offer it',
        'final: cvm, launched as amd-sev-snp, is on hw1, which does not offer it']


def test_a_failed_attempt_has_the_kind_of_the_call_it_ended():
    """The manager's retry entry names no kind: the result takes it from
    the migrate-called entry of the same cause, in an earlier step too."""
    run = runner.ScenarioRunner(None)
    run.ids = {'cvm': 'uuid-1'}
    called = {'event': 'migrate-called', 'vm': 'uuid-1', 'cause': 'recovery@snp1#0',
              'kind': 'cold', 'from': 'snp2', 'trigger': 'recovery'}
    retry = {'event': 'retry', 'vm': 'uuid-1', 'cause': 'recovery@snp1#0',
             'from': 'snp2', 'failed': 'hw1', 'trigger': 'recovery'}
    [attempt] = run._migrations([retry], earlier=[called])
    assert (attempt['vm'], attempt['to'], attempt['kind'], attempt['ok']) == (
        'cvm', 'hw1', 'cold', False)
    assert run._migrations([called, retry])[0]['kind'] == 'cold'
