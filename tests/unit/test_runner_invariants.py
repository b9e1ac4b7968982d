"""The invariants a scenario result shows, checked from the result alone."""

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
    assert runner.check_invariants(r) == []


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
    assert runner.check_invariants(r) == [
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
    assert runner.check_invariants(r) == [
        'start-up: tpm1 judged untrusted (replayed or unknown nonce)']


def test_the_timeline_tells_a_wait():
    r = result([{'event': {'wait': {'seconds': 30}}, 'host': None, 'trust_changes': [],
                 'waited': {'scenario_s': 30.0, 'real_s': 12.01}}])
    text = timeline.render(r)
    assert '[1] 30 s of scenario time pass (12.0 s here)' in text
    assert 'Invariants: all kept' in text
