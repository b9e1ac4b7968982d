"""Benchmark: from an attack an agent reports to Nova's migrate call, end to end.

The embedded cloud (sod_nova.cloud.embedded): real Nova 34 services with the
SoD filter, two HyperWall compute hosts, their trust agents and the monitor
over the in-memory transport, the migration manager talking to Nova's API
through openstacksdk. Each round starts an attack on the backend of the host
that runs the VM; the clock starts just before that and stops at the
instant the manager starts its ``os-migrateLive`` request to Nova (the
detection time plus the manager's own event-to-call latency from its audit
entry), so it covers the agent's
report, the monitor's verification and row write, the trust-change event,
the manager's decision and the call. Then the host recovers and the next
round attacks the host the VM moved to, once the manager has finished
with the recovery.

Value: p99 of that latency over ROUNDS attacks, in ms. Baseline: the paper's
measured OpenStack triggering delay, 2.33 s. Goal: p99 <= 0.05 x baseline.
"""

import statistics
import threading
import time

from sod_nova.cloud import embedded
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db

ROUNDS = 50
BASELINE_MS = 2330.0
GOAL_RATIO = 0.05
REQUEST = {'sod:options': '1,2'}        # HyperWall satisfies it


def _percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _calls(cloud, vm):
    """The manager's audit entries of its calls to Nova to move ``vm``."""
    entries = relocation_db.RelocationStore(cloud.conf).audit_entries(
        db_api.Context())
    return [e.data for e in entries
            if e.data.get('vm') == vm and e.data.get('event') == 'migrate-called']


def _watch_calls(manager):
    """An event set when ``manager`` has recorded a migrate call: the
    benchmark wraps the mover's step writer (the entry is committed when it
    returns), so the production manager keeps no list of its calls for it."""
    called = threading.Event()
    write = manager.mover.write

    def writing(state, task, values, event=None, **fields):
        result = write(state, task, values, event, **fields)
        if event == 'migrate-called':
            called.set()
        return result
    manager.mover.write = writing
    return called


def run(rounds=ROUNDS, conf_overrides=None, name='reaction') -> dict:
    """``conf_overrides`` of the embedded cloud (e.g. a ``transport_url``)."""
    latencies, detections, moves = [], [], []
    with embedded.EmbeddedCloud(conf_overrides=conf_overrides) as cloud:
        changes = []
        cloud.fleet.monitor.add_listener(
            lambda c: changes.append((time.time(), c['host'], c['new_state'])))
        for host in ('hw1', 'hw2'):
            cloud.add_host(host, 'HyperWall')
        vm = cloud.nova.create_server(name='vm', metadata=REQUEST)['id']
        cloud.settle()
        called = _watch_calls(cloud.manager)
        for _ in range(rounds):
            host = cloud.nova.server_host(vm)
            called.clear()
            mark = len(changes)
            t0 = time.time()
            cloud.fleet.backend(host).start_attack()
            # Wait on the manager's own audit call, not the audit table:
            # reading SQLite every few ms would compete with the very path
            # being measured (the figures come from timestamps anyway).
            if not called.wait(60):
                raise TimeoutError('no migrate call within 60 s of the attack')
            seen = next(t for t, h, s in changes[mark:] if h == host and s == 'untrusted')
            detections.append((seen - t0) * 1000)
            # The monitor hands the change to the manager in the same call
            # as to our listener; the manager's entry says how long after
            # that event it started the request to Nova.
            latencies.append(detections[-1] + _calls(cloud, vm)[-1]['latency_ms'])
            t1 = time.monotonic()
            cloud.settle()
            moves.append(time.monotonic() - t1)
            cloud.fleet.backend(host).stop_attack()
            cloud.wait_for_state(host, ('trusted',))
            # The manager's look at the host that recovered (Nova's listing
            # of it) is this round's work: the next attack meets a manager
            # at rest, as each of the paper's attacks did.
            cloud.settle()
    p99 = _percentile(latencies, 99)
    return {
        'name': name,
        'value': round(p99, 1),
        'unit': 'ms',
        'baseline': BASELINE_MS,
        'ratio': round(p99 / BASELINE_MS, 4),
        'goal': '<= %.2f (p99 <= %.1f ms)' % (GOAL_RATIO, GOAL_RATIO * BASELINE_MS),
        'met': p99 <= GOAL_RATIO * BASELINE_MS,
        'detail': {
            'attacks': len(latencies),
            'attack_to_migrate_call_ms': {
                'p50': round(statistics.median(latencies), 1), 'p99': round(p99, 1),
                'max': round(max(latencies), 1)},
            'attack_to_untrusted_ms': {
                'p50': round(statistics.median(detections), 1),
                'p99': round(_percentile(detections, 99), 1)},
            'migration_until_settled_s': {
                'p50': round(statistics.median(moves), 2),
                'max': round(max(moves), 2)},
            'note': 'the clock stops when the request to Nova starts; Nova\'s '
                    'API then takes its own time to answer. The live migration '
                    'itself runs over fake libvirt: Nova bookkeeping, no memory copy',
        },
    }


if __name__ == '__main__':
    import json
    print(json.dumps(run(), indent=2))
