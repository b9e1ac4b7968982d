"""Benchmark: how long ``sod-nova simulate`` takes, as a newcomer runs it.

Each run is the console command in a fresh process (``python -m
sod_nova.cmd.manage simulate --format json``), timed from start to exit, so
the figure includes loading Nova and starting the embedded cloud, as a user
waits for it. A run counts only when it exits 0 with every invariant kept
(``invariants.check_invariants``); otherwise the benchmark reports it not met.

Value: wall seconds of the built-in paper scenario (4 hosts, 4 VMs, 9
events). Baseline: 40 s, the paper scenario on eventlet at 27fca0b (native
threads, then the default, did not finish: 5 to 7.5 min and a failure at
event 4). Goal: <= 45 s. Detail: a larger scenario of 16 hosts, 30 VMs and
20 events (written to a temporary file here), goal <= 150 s.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import yaml

BASELINE_S = 40.0
GOAL_S = 45.0
GOAL_LARGE_S = 150.0

#: 16 hosts of four architectures, Nova preferring them in this order.
LARGE_HOSTS = ([('hyperwall-%d' % i, 'HyperWall') for i in range(1, 7)]
               + [('datasafe-%d' % i, 'DataSafe') for i in range(1, 5)]
               + [('tpm-%d' % i, 'TPM') for i in range(1, 5)]
               + [('sev-%d' % i, 'AMD-SEV-SNP') for i in range(1, 3)])
#: 30 VMs: the paper's requests, a package, and some with no request.
LARGE_REQUESTS = [
    {'options': [1], 'properties': ['C', 'I']},
    {'options': [1, 2], 'properties': ['C', 'I']},
    {'package': 'medical-records'},
    {'options': [1, 2]},
    None,
]


def large_scenario():
    """The 16-host, 30-VM, 20-event scenario (a dict to dump as YAML)."""
    vms = []
    for i in range(30):
        request = LARGE_REQUESTS[i % len(LARGE_REQUESTS)]
        vms.append({'name': 'vm-%02d' % (i + 1), **({'security': request} if request else {})})
    events = [
        {'attack': {'host': 'hyperwall-1'}},
        {'attack': {'host': 'hyperwall-2'}},
        {'change_security': {'vm': 'vm-01', 'security': {'options': [1, 2],
                                                         'properties': ['C', 'I']}}},
        {'recover': {'host': 'hyperwall-1'}},
        {'silence': {'host': 'datasafe-1'}},
        {'forge': {'host': 'tpm-1'}},
        {'resume': {'host': 'datasafe-1'}},
        {'attack': {'host_of': 'vm-02'}},
        {'replay': {'host': 'tpm-2'}},
        {'recover': {'host': 'hyperwall-2'}},
        {'change_security': {'vm': 'vm-05', 'security': {'package': 'medical-records'}}},
        {'silence': {'host': 'sev-1'}},
        {'resume': {'host': 'sev-1'}},
        {'attack': {'host': 'hyperwall-3'}},
        {'wait': {'seconds': 10}},
        {'recover': {'host': 'hyperwall-3'}},
        {'forge': {'host': 'datasafe-2'}},
        {'attack': {'host': 'hyperwall-4'}},
        {'recover': {'host': 'hyperwall-4'}},
        {'replay': {'host': 'hyperwall-5'}},
    ]
    return {'name': 'large-16-30-20',
            'hosts': [{'name': n, 'architecture': a} for n, a in LARGE_HOSTS],
            'vms': vms, 'events': events}


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value used twice (the VMs share request dicts) in full each
    time: scenario files refuse YAML anchors and aliases."""

    def ignore_aliases(self, data):
        return True


def large_scenario_text():
    """The large scenario as a scenario file's text."""
    return yaml.dump(large_scenario(), Dumper=_NoAliasDumper, sort_keys=False)


def simulate(path=None):
    """Run ``sod-nova simulate [path] --format json``; a dict of figures."""
    from sod_nova.cloud import invariants

    args = [sys.executable, '-m', 'sod_nova.cmd.manage', 'simulate', '--format', 'json']
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(args + ([path] if path else []), capture_output=True,
                          text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds say what the run costs whatever else the machine does;
    # the load average says how far to trust the wall time.
    figures = {'wall_s': round(wall, 1), 'exit': proc.returncode,
               'cpu_s': round(after.ru_utime - before.ru_utime
                              + after.ru_stime - before.ru_stime, 1),
               'load_average': os.getloadavg()[0]}
    if proc.returncode != 0:
        figures['error'] = (proc.stderr.strip().splitlines() or ['?'])[-1][:500]
        return figures
    result = json.loads(proc.stdout)
    problems = invariants.check_invariants(result)
    figures.update({
        'scenario_s': result.get('seconds'),
        'hosts': len(result['hosts']), 'vms': len(result['vms']),
        'events': len(result['steps']),
        'migrations': sum(1 for m in result['migrations'] if m['ok']),
        'all_settled': all(s['settled'] for s in result['steps']),
        'invariants_kept': not problems,
    })
    if problems:
        figures['problems'] = problems[:5]
    return figures


def _ok(figures, goal):
    return (figures['exit'] == 0 and figures.get('invariants_kept', False)
            and figures.get('all_settled', False) and figures['wall_s'] <= goal)


def run() -> dict:
    paper = simulate()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'large.yaml')
        with open(path, 'w') as f:
            f.write(large_scenario_text())
        large = simulate(path)
    value = paper['wall_s']
    return {
        'name': 'paper-scenario',
        'value': value,
        'unit': 's',
        'baseline': BASELINE_S,
        'ratio': round(value / BASELINE_S, 3),
        'goal': '<= %.0f s (paper); <= %.0f s (16 hosts, 30 VMs, 20 events)' % (
            GOAL_S, GOAL_LARGE_S),
        'met': _ok(paper, GOAL_S) and _ok(large, GOAL_LARGE_S),
        'detail': {
            'mode': os.environ.get('OS_NOVA_DISABLE_EVENTLET_PATCHING') or 'default',
            'paper': paper,
            'paper_goal_met': _ok(paper, GOAL_S),
            'large': large,
            'large_goal_met': _ok(large, GOAL_LARGE_S),
        },
    }


if __name__ == '__main__':
    print(json.dumps(run(), indent=2))
