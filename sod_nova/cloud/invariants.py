"""The scenario contract's invariants, checked on a simulate result.

``sod-nova simulate``'s timeline ends with them; the tests and the
paper-scenario benchmark check them the same way. They read only the
result (``scenarios/result.schema.json``), never the cloud.
"""

from sod_nova.catalog import guest as guest_mod
from sod_nova.db import trust_states
from sod_nova.relocation import triggers

#: Events that may take trust from the host they target.
DISTRUSTING_EVENTS = ('attack', 'silence', 'forge', 'replay')
BAD_STATES = (trust_states.UNTRUSTED, trust_states.UNREACHABLE)


def check_invariants(result):
    """The contract's invariants that a result shows; a list of violations.

    1. after every step every ACTIVE VM with a request is compliant (its
       host protects it as it is launched);
    3. every VM of the file appears in every snapshot;
    4. every completed migration's destination satisfied the VM's request
       when it arrived (the manager's own check, recorded in the audit);
    6. no false verdict: while the cloud starts (once a host was first
       trusted: before that it is still being enrolled), and in every step but
       on the host an attack, silence, forged or replayed report targets,
       no host is ever announced untrusted or unreachable (every announced
       change counts, not only the state a snapshot shows);
    7. a memory-encrypted guest is moved only by cold migration (no live
       migration, completed or tried: Nova refuses it), and a guest launched
       as a kind of confidential VM (SEV-SNP, TDX) is, in every snapshot,
       only ever on a host that offers that kind;
    8. bogus challenges change no host's state and move no VM;
    (2 and 5 are about causes: the tests check them against the timeline.)
    """
    problems = []
    attested = set()   # hosts trusted once: enrollment is over for them
    for change in result.get('setup_trust_changes', ()):
        if change['to'] == trust_states.TRUSTED:
            attested.add(change['host'])
        elif change['to'] in BAD_STATES and change['host'] in attested:
            problems.append('start-up: %s judged %s (%s)' % (
                change['host'], change['to'], change['reason']))
    for i, step in enumerate(result['steps']):
        kind = next(iter(step['event']))
        targeted = step.get('host') if kind in DISTRUSTING_EVENTS else None
        for change in step.get('trust_changes', ()):
            if change['to'] in BAD_STATES and change['host'] != targeted:
                problems.append('steps[%d]: %s judged %s (%s), no event targeted it' % (
                    i, change['host'], change['to'], change['reason']))
    names = set(result['vms'])
    for i, step in enumerate(result['steps']):
        if set(step['vms']) != names:
            problems.append('steps[%d]: VMs missing: %s' % (
                i, ', '.join(sorted(names - set(step['vms'])))))
        for name, vm in step['vms'].items():
            if vm['status'] == 'ACTIVE' and not vm.get('compliant', True):
                problems.append('steps[%d]: %s is ACTIVE on %s but not compliant' % (
                    i, name, vm['host']))
    for m in result['migrations']:
        if m['ok'] and m.get('compliant') is False:
            problems.append('migration of %s to %s: destination not compliant' % (
                m['vm'], m['to']))
    problems += _confidential_problems(result)
    problems += _forged_challenge_problems(result)
    return problems


#: Triggers of moves a trust verdict causes.
EVACUATIONS = (triggers.TRUST_LOSS, triggers.UNREACHABLE)


def _forged_challenge_problems(result):
    """Invariant 8: bogus challenges (``forge_challenge``) change no host's
    state and move no VM (a moving-target move may fall due meanwhile: only
    moves a trust verdict causes count)."""
    problems = []
    for i, step in enumerate(result['steps']):
        if next(iter(step['event'])) != 'forge_challenge':
            continue
        host = step.get('host')
        for change in step.get('trust_changes', ()):
            if change['host'] == host:
                problems.append('steps[%d]: bogus challenges changed %s to %s (%s)' % (
                    i, host, change['to'], change['reason']))
        for m in step.get('migrations', ()):
            if m.get('trigger') in EVACUATIONS:
                problems.append('steps[%d]: bogus challenges moved %s (%s)' % (
                    i, m['vm'], m['trigger']))
    return problems


#: Guest features that make a guest a kind of confidential VM, which only a
#: host offering that kind can run.
CONFIDENTIAL = frozenset({guest_mod.AMD_SEV_SNP, guest_mod.INTEL_TDX})


def _confidential_problems(result):
    """Invariant 7 (see :func:`check_invariants`)."""
    problems = []
    vms = result['vms']
    for m in result['migrations']:
        if vms.get(m['vm'], {}).get('memory_encrypted') and m['kind'] != 'cold':
            problems.append('%s is memory-encrypted but was moved by %s migration '
                            '(%s to %s)' % (m['vm'], m['kind'], m['from'], m['to']))
    offers = {name: set(h.get('guest_features') or ())
              for name, h in result['hosts'].items()}
    snapshots = [('steps[%d]' % i, step['vms'])
                 for i, step in enumerate(result['steps'])] + [('final', vms)]
    for where, snapshot in snapshots:
        for name, vm in sorted(snapshot.items()):
            kind = CONFIDENTIAL.intersection(vms.get(name, {}).get('guest') or ())
            host = vm.get('host')
            if kind and host is not None and not kind <= offers.get(host, set()):
                problems.append('%s: %s, launched as %s, is on %s, which does '
                                'not offer it' % (where, name, ', '.join(sorted(kind)),
                                                  host))
    return problems
