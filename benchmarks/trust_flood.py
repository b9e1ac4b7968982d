"""Benchmark: a flood of forged and replayed reports against one host.

Someone on the message bus sends ``RATE`` reports a second for host ``hw1``
for ``SECONDS`` seconds: half are replays of reports hw1's genuine agent sent
earlier (captured from the bus), half are forgeries signed with a key nobody
enrolled that quote hw1's latest genuine nonce and the next sequence (the
strongest forger: it reads the bus). Meanwhile hw1's genuine agent reports
every ``INTERVAL`` s, and halfway through the flood its HyperWall backend
starts reporting a memory violation. A bystander host hw2 reports as usual.

The flood enters where the monitor's RPC endpoint puts a report (its
batcher's ``submit``, the call the oslo.messaging server makes per cast): a
flood this size cannot be cast from the same Python process, and the
broker's cost is the broker's.
The monitor runs with SQLite (a file, default settings) on its own.

Value: seconds from the attack's start until the monitor made hw1
``untrusted``. Goal (issue 13): within one report interval, with 0 state
changes caused by the flood and 0 migrations. The migration manager acts
only on trust changes (``sod.host.trust_changed``), so the migrations
counted are the trust changes the flood caused: any change other than hw1's
trusted -> untrusted on the attack.
"""

import os
import tempfile
import threading
import time

RATE = 10_000
SECONDS = 4.0
INTERVAL = 1.0


def measure(rate=RATE, seconds=SECONDS):
    from sod_nova.catalog import Catalog
    from sod_nova.cloud import fleet as fleet_mod
    import sod_nova.conf
    from sod_nova.db import api as db_api
    from sod_nova.db import migration as db_migration
    from sod_nova.trust import evidence
    from sod_nova.trust import keys
    from sod_nova.trust import nonces

    conf = sod_nova.conf.CONF
    conf([], project='sod_nova')
    suffix = '%d' % os.getpid()
    with tempfile.TemporaryDirectory() as tmp:
        key_file = os.path.join(tmp, 'nonce.key')
        nonces.write_key(key_file)
        overrides = {
            ('connection', 'sod_database'): 'sqlite:///%s' % os.path.join(
                tmp, 'flood.db'),
            ('nonce_key_file', 'sod_trust'): key_file,
            ('report_interval', 'sod_trust'): INTERVAL,
            ('evidence_max_age', 'sod_trust'): 10 * INTERVAL,
            ('stale_check_interval', 'sod_trust'): INTERVAL / 2,
            ('monitor_topic', 'sod_trust'): 'flood-monitor-' + suffix,
            ('agent_topic', 'sod_trust'): 'flood-agent-' + suffix,
            ('notification_topic', 'sod_trust'): 'flood-notes-' + suffix,
        }
        for (opt, group), value in overrides.items():
            conf.set_override(opt, value, group)
        db_migration.sync(conf)
        fleet = fleet_mod.Fleet(conf, catalog=Catalog.load())
        changes = []
        try:
            target = fleet.add_host('hw1', 'HyperWall')
            fleet.add_host('hw2', 'HyperWall')
            fleet.monitor.add_listener(
                lambda change: changes.append((time.monotonic(), change)))
            fleet.start()
            assert fleet_mod.wait_for(lambda: len(target.sent) >= 4, 30)
            assert fleet_mod.wait_for(lambda: len(changes) == 2, 30), changes
            captured = list(target.sent)
            stranger = keys.generate_private_key()

            def forged(i):
                doc = target._evidence(target._nonce or captured[-1]
                                       and evidence.parse(captured[-1][
                                           'evidence'].encode()).nonce,
                                       target.sequence + 1 + i % 3)
                return evidence.sign(doc, stranger)

            flood = []
            for i in range(min(rate, 20_000)):
                flood.append(captured[i % len(captured)] if i % 2 else
                             forged(i))
            sent = [0]
            stop = threading.Event()
            monitor = fleet.monitor

            def send():
                tick = 0.01
                per_tick = int(rate * tick)
                start = time.monotonic()
                n = 0
                while not stop.is_set():
                    for _ in range(per_tick):
                        monitor.batcher.submit(flood[n % len(flood)])
                        n += 1
                    sent[0] = n
                    ahead = start + n / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)

            before = len(changes)
            flooder = threading.Thread(target=send, daemon=True)
            started = time.monotonic()
            flooder.start()
            time.sleep(seconds / 2)
            attack_at = time.monotonic()
            fleet.backend('hw1').start_attack(1)
            detected = fleet_mod.wait_for(lambda: any(
                c['host'] == 'hw1' and c['new_state'] == 'untrusted'
                for _, c in changes[before:]), 30)
            detected_at = next((t for t, c in changes[before:]
                                if c['host'] == 'hw1'
                                and c['new_state'] == 'untrusted'), None)
            remaining = started + seconds - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
            stop.set()
            flooder.join()
            flood_seconds = time.monotonic() - started
            fleet_mod.wait_for(lambda: not monitor._queue, 120)
            counters = dict(monitor.counters)
            spurious = [c for t, c in changes[before:]
                        if not (c['host'] == 'hw1' and c['new_state']
                                == 'untrusted' and t >= attack_at)]
        finally:
            fleet.cleanup()
            db_api.dispose()
            for opt, group in overrides:
                conf.clear_override(opt, group)
    return {
        'detected': bool(detected),
        'latency': (detected_at - attack_at) if detected_at else None,
        'flood_rate': sent[0] / flood_seconds,
        'spurious': spurious,
        'counters': counters,
    }


def run() -> dict:
    m = measure()
    latency = m['latency']
    met = (m['detected'] and latency is not None and latency <= INTERVAL
           and not m['spurious'] and m['flood_rate'] >= 0.95 * RATE)
    c = m['counters']
    return {
        'name': 'trust-flood',
        'value': round(latency, 3) if latency is not None else -1,
        'unit': 's to detect',
        'baseline': INTERVAL,
        'ratio': round(latency / INTERVAL, 2) if latency is not None else -1,
        'goal': 'attack detected within one report interval (%.1f s) under '
                '%d forged/replayed reports/s; 0 state changes, 0 migrations'
                % (INTERVAL, RATE),
        'met': bool(met),
        'detail': {
            'flood_reports_per_s_sent': round(m['flood_rate']),
            'rejected': c.get('rejected', 0),
            'rejected_replay': c.get('rejected:replay', 0),
            'rejected_signature': c.get('rejected:signature', 0),
            'dropped_queue_full': c.get('dropped', 0),
            'state_changes_caused_by_flood': len(m['spurious']),
            'migrations_caused_by_flood': len(m['spurious']),
            'trusted_verdicts': c.get('trusted', 0),
            'untrusted_verdicts': c.get('untrusted', 0),
        },
    }
