"""Benchmark: what an idle embedded cloud costs the machine.

An :class:`~sod_nova.cloud.embedded.EmbeddedCloud` with N HyperWall hosts,
every host trusted, no VM and no event: Nova's API, conductor, scheduler and
N computes, N trust agents reporting every ``report_interval``, the monitor
and the migration manager. After one ``evidence_max_age`` of settling, the
process's CPU time (user + system, ``resource.getrusage``: less sensitive to
the other load of a shared machine than wall time) is measured over
``SECONDS`` of wall time and divided by it: the cores the idle cloud keeps
busy.

Each size runs in a fresh child process (Nova's concurrency mode is fixed per
process, and the rusage is then the cloud's alone); ``--mode`` picks Nova's
mode for the children (``OS_NOVA_DISABLE_EVENTLET_PATCHING``), the default
being the embedded cloud's own default.

Value: cores used by an idle 4-host cloud over 20 s. Baseline: 1.02 cores,
the same measurement on main at 27fca0b (native threads). Goal: <= 0.15
cores; detail: the same at 16 hosts (goal <= 0.5), threads, and resident
memory per host (the RSS growth from 4 to 16 hosts over 12).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

SECONDS = 20.0
HOSTS = 4
LARGE = 16
BASELINE_CORES = 1.02
GOAL_CORES = 0.15
GOAL_LARGE_CORES = 0.5


def _rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _threads():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('Threads:'):
                return int(line.split()[1])
    return 0


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def measure(hosts, seconds):
    """In this process: start the cloud, wait, measure; a dict."""
    from sod_nova.cloud import embedded
    from sod_nova.cloud import nova as nova_mod

    with embedded.EmbeddedCloud() as cloud:
        for i in range(hosts):
            cloud.add_host('hw%d' % (i + 1), 'HyperWall')
        cloud.settle()
        # Let start-up work (first reports, Placement syncs) die down.
        time.sleep(cloud.conf.sod_trust.evidence_max_age)
        sys.stderr.write('idle cloud of %d hosts up: measuring %.0f s\n' % (hosts, seconds))
        sys.stderr.flush()
        user0, sys0 = _cpu()
        wall0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - wall0
        user1, sys1 = _cpu()
        states = {r.host: r.state for r in cloud.host_rows()}
        return {
            'mode': nova_mod.CONCURRENCY_MODE,
            'hosts': hosts,
            'cores': round((user1 - user0 + sys1 - sys0) / wall, 3),
            'user_s': round(user1 - user0, 2),
            'sys_s': round(sys1 - sys0, 2),
            'wall_s': round(wall, 2),
            'threads': _threads(),
            'python_threads': threading.active_count(),
            'rss_mb': round(_rss_mb(), 1),
            'all_trusted': all(s == 'trusted' for s in states.values())
            and len(states) == hosts,
        }


def _child(hosts, seconds, mode):
    env = dict(os.environ)
    if mode == 'threading':
        env['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = 'true'
    elif mode == 'eventlet':
        env['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = 'false'
    out = subprocess.run(
        [sys.executable, '-m', 'benchmarks.embedded_idle', '--child',
         '--hosts', str(hosts), '--seconds', str(seconds)],
        env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(mode=None, seconds=SECONDS) -> dict:
    small = _child(HOSTS, seconds, mode)
    large = _child(LARGE, seconds, mode)
    per_host = (large['rss_mb'] - small['rss_mb']) / (LARGE - HOSTS)
    value = small['cores']
    return {
        'name': 'embedded-idle',
        'value': value,
        'unit': 'cores',
        'baseline': BASELINE_CORES,
        'ratio': round(value / BASELINE_CORES, 3),
        'goal': '<= %.2f cores (%d hosts); <= %.2f at %d' % (
            GOAL_CORES, HOSTS, GOAL_LARGE_CORES, LARGE),
        'met': value <= GOAL_CORES and large['cores'] <= GOAL_LARGE_CORES,
        'detail': {
            'mode': small['mode'],
            '%d_hosts' % HOSTS: small,
            '%d_hosts' % LARGE: large,
            'goal_%d_hosts_met' % LARGE: large['cores'] <= GOAL_LARGE_CORES,
            'memory_per_host_mb': round(per_host, 1),
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m benchmarks.embedded_idle')
    parser.add_argument('--child', action='store_true',
                        help='measure one cloud in this process (internal)')
    parser.add_argument('--hosts', type=int, default=HOSTS)
    parser.add_argument('--seconds', type=float, default=SECONDS)
    parser.add_argument('--mode', choices=('threading', 'eventlet'))
    args = parser.parse_args(argv)
    if args.child:
        from sod_nova.cloud import _bootstrap
        _bootstrap.select_concurrency_mode()
        print(json.dumps(measure(args.hosts, args.seconds)))
    else:
        print(json.dumps(run(args.mode, args.seconds), indent=2))


if __name__ == '__main__':
    main()
