"""One fleet run: hold the fleet for a while, inject faults, judge the group.

Shared by ``trust-scale`` and the functional test. Faults are injected one
every ``report_interval`` at distinct random hosts, in turn an attack, a
forged report, a replayed report and a silence; one monitor may be killed
(SIGKILL) part way. Every wait derives from the report interval and
``evidence_max_age``.
"""

import random
import time

from sod_nova import trust

#: The faults, in the order they are injected.
KINDS = ('attack', 'forge', 'replay', 'silence')
#: What the group must do about each: the host's new state, or the code
#: of the rejection counted for it (no state change).
EXPECTED = {'attack': ('state', trust.UNTRUSTED),
            'silence': ('state', trust.UNREACHABLE),
            'forge': ('rejected', 'signature'),
            'replay': ('rejected', 'replay')}
#: Seconds between two samples of RabbitMQ's queue depths.
DEPTHS_EVERY = 30.0


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def hold(cluster, seconds, kill_at=None, faults=True):
    """Run ``cluster`` (started, every host trusted) for ``seconds``;
    ``kill_at``: seconds in when monitor 0 is SIGKILLed. The figures."""
    interval = cluster.report_interval
    max_age = cluster.evidence_max_age
    meter = cluster.cpu_meter()
    meter.start()
    rows0, stats0 = cluster.rows_written(), cluster.agent_stats()
    start = time.time()
    end = start + seconds
    # The last faults leave the group time to see them: a silence is seen
    # after evidence_max_age (and a sweep), the others at the next report.
    last_fault = end - max_age - 2 * interval
    next_fault = start + interval
    candidates = random.sample(cluster.hosts, len(cluster.hosts))
    depths = {}
    next_depths = start + interval
    killed_at = reattested_after = None
    waiting = None
    while time.time() < end:
        now = time.time()
        # No fault within one interval of the kill: a rejection the killed
        # monitor counted but had not stored yet dies with it.
        quiet = kill_at is not None and abs(now - start - kill_at) < interval
        if (faults and not quiet and now >= next_fault and now < last_fault
                and candidates):
            kind = KINDS[len(cluster.injected) % len(KINDS)]
            cluster.inject(kind, candidates.pop())
            next_fault += interval
        if kill_at is not None and killed_at is None and now >= start + kill_at:
            meter.sample()
            killed_at = cluster.kill_monitor(0)
            waiting = set(cluster.hosts)
        if waiting:
            waiting = (cluster.rows.evidence_before(killed_at)
                       - set(cluster.injected))
            if not waiting:
                reattested_after = time.time() - killed_at
        if now >= next_depths:      # rabbitmqctl costs a CPU second
            next_depths = now + DEPTHS_EVERY
            for queue, depth in cluster.queue_depths().items():
                depths[queue] = max(depths.get(queue, 0), depth)
        time.sleep(min(1.0, interval / 4))
    elapsed = time.time() - start
    used = meter.stop()
    stats = cluster.agent_stats()
    reports = stats['reports'] - stats0['reports']
    rows = cluster.rows_written() - rows0
    return judge(cluster, faults, {
        'seconds': round(elapsed, 1),
        'reports': reports,
        'reports_per_s': round(reports / elapsed, 1),
        'db_rows_per_report': round(rows / reports, 3) if reports else None,
        'cpu_s': {k: round(v, 1) for k, v in used.items()},
        'cores_used': {k: round(v / elapsed, 2) for k, v in used.items()},
        'cpu_s_per_1000_hosts_per_min': {
            k: round(v / (len(cluster.hosts) / 1000) / (elapsed / 60), 2)
            for k, v in used.items()},
        'max_queue_depths': dict(sorted(depths.items(),
                                        key=lambda kv: -kv[1])[:5]),
        'monitor_killed_at_s': (round(killed_at - start, 1)
                                if killed_at else None),
        'reattested_s_after_kill': (round(reattested_after, 1)
                                    if reattested_after is not None else None),
        'challenges_dropped': stats['dropped'] - stats0['dropped'],
    }, killed_at)


def judge(cluster, faults, figures, killed_at):
    """Add what the group got right and wrong to ``figures``."""
    notes = cluster.notifications
    latencies = {kind: [] for kind in KINDS}
    missed = []
    for host, injections in cluster.injected.items():
        for kind, at in injections:
            what, expected = EXPECTED[kind]
            if what == 'state':
                seen = notes.first_change(host, expected, at)
                if seen is None:
                    missed.append((host, kind))
                else:
                    latencies[kind].append(seen - at)
            elif not notes.rejected.get((host, expected)):
                missed.append((host, kind, sorted(
                    code for h, code in notes.rejected if h == host)))
    ended = {h for h, inj in cluster.injected.items()
             if any(kind in ('attack', 'silence') for kind, _ in inj)}
    now_wrong = {h: sr for h, sr in cluster.rows.not_trusted().items()
                 if h not in ended}
    misjudged = cluster.misjudged()
    attack = latencies['attack']
    figures.update({
        'hosts': len(cluster.hosts),
        'report_interval_s': cluster.report_interval,
        'evidence_max_age_s': cluster.evidence_max_age,
        'monitors': len(cluster.monitors),
        'injected': {kind: sum(k == kind for inj in cluster.injected.values()
                               for k, _ in inj) for kind in KINDS},
        'missed': missed,
        'misjudged': len(misjudged) + len(now_wrong),
        'misjudged_examples': (misjudged[:3] + list(now_wrong.items())[:3]),
        'attack_latency_p50_s': _round(percentile(attack, 50)),
        'attack_latency_p99_s': _round(percentile(attack, 99)),
        'silence_latency_p50_s': _round(percentile(latencies['silence'], 50)),
        'rejected': _by_code(notes.rejected),
    })
    reattested = figures['reattested_s_after_kill']
    figures['held'] = bool(
        not missed and not figures['misjudged']
        and (not faults or all(figures['injected'].values()))
        and (killed_at is None or (reattested is not None
                                   and reattested <= cluster.evidence_max_age))
        and (not attack or percentile(attack, 99) <= cluster.report_interval))
    return figures


def _by_code(rejected):
    codes = {}
    for (_host, code), count in rejected.items():
        codes[code] = codes.get(code, 0) + count
    return codes


def _round(value):
    return None if value is None else round(value, 3)
