"""Benchmark: what verifying one evidence report costs the trust monitor.

Value: microseconds per report for the verifier (envelope and size checks,
Ed25519 signature, canonical-JSON parse and schema, nonce and sequence,
event-log replay against the quoted PCRs, reference values, runtime
counters) on one core. Baseline: a bare Ed25519 verify of the same bytes,
the floor any signed-evidence scheme pays. The detail adds reports per
second on one core, the host count that rate sustains at a 2 s report
interval (Keylime's verifier choked at 2,500 hosts), and the full monitor
path per report, measured on the running monitor's handler with 200 hosts
reporting every 2 s on its clock: verify, the acknowledging cast, and the
enrollment and host rows written to SQLite (default, synchronous) when a
verdict changes and otherwise at most every evidence_max_age/4.
"""

import os
import tempfile
import time

from sod_nova.trust import evidence
from sod_nova.trust import keys
from sod_nova.trust import references
from sod_nova.trust import verify
from sod_nova.trust.backends import hyperwall

REPORTS = 3000
INTERVAL = 2.0
GOAL_RATIO = 2.0
MONITOR_HOSTS = 200
MONITOR_ROUNDS = 6


def _envelopes(key, n):
    backend = hyperwall.HyperWallBackend()
    log, pcrs = backend.measurements()
    nonces = ['%064x' % i for i in range(n)]
    envs = [evidence.sign(evidence.Evidence(
        'hw1', 'HyperWall', 'boot', i + 1, nonces[i], 0.0, tuple(log), pcrs,
        backend.runtime_evidence()), key) for i in range(n)]
    return envs, nonces


def _per_call(fn, items):
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items) * 1e6


def _bare(key, envs):
    public = key.public_key()
    decoded = [(e['evidence'].encode(), evidence.base64.b64decode(e['signature']))
               for e in envs]
    return _per_call(lambda p: public.verify(p[1], p[0]), decoded)


def _verifier(key, envs, nonces):
    enrollment = verify.Enrollment('hw1', 'HyperWall', key.public_key(),
                                   boot_id='boot', last_sequence=0,
                                   nonces=dict.fromkeys(nonces, 0.0))
    verifier = verify.Verifier(references.References(), 65536, 1e9)
    lookup = {'hw1': enrollment}.get

    def one(env):
        verdict = verifier.verify(env, lookup, 1.0)
        assert verdict.trusted, verdict.reason
        verify.consume(enrollment, verdict)
    return _per_call(one, envs)


def _monitor_path(hosts, rounds, connection=None):
    """The running monitor's handler (verify, record, ack cast over fake://)
    called directly for ``hosts`` hosts reporting ``rounds`` times, 2 s apart
    on the monitor's clock, against a SQLite file with default settings (or
    the empty database at ``connection``)."""
    import sod_nova.conf
    from sod_nova.db import api as db_api
    from sod_nova.db import enrollment as db_enrollment
    from sod_nova.trust.monitor import service

    conf = sod_nova.conf.CONF
    conf([], project='sod_nova')
    clock = [1_000_000.0]
    names = ['hw%04d' % i for i in range(hosts)]
    host_keys = {name: keys.generate_private_key() for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        conf.set_override('connection', connection or 'sqlite:///%s' % os.path.join(
            tmp, 'b.db'), 'sod_database')
        conf.set_override('sqlite_synchronous', False, 'sod_database')
        db_api.sync(conf)
        for name in names:
            db_enrollment.enroll_key(name, 'HyperWall',
                                     keys.public_key_text(host_keys[name]),
                                     conf=conf)
        conf.clear_override('sqlite_synchronous', 'sod_database')
        db_api.configure(conf)
        monitor = service.TrustMonitor(conf, name='bench',
                                       topic='bench-%s' % os.getpid(),
                                       clock=lambda: clock[0])
        monitor.start()
        backend = hyperwall.HyperWallBackend()
        log, pcrs = backend.measurements()
        total = 0.0
        try:
            for r in range(rounds):
                clock[0] += INTERVAL
                for name in names:
                    record = monitor._enrollment(name)
                    nonce = monitor._add_nonce(record, clock[0])
                    env = evidence.sign(evidence.Evidence(
                        name, 'HyperWall', 'boot', r + 1, nonce, 0.0, tuple(log),
                        pcrs, backend.runtime_evidence()), host_keys[name])
                    start = time.perf_counter()
                    verdict = monitor.report_evidence(env)
                    total += time.perf_counter() - start
                    assert verdict is not None and verdict.trusted, verdict
        finally:
            monitor.stop()
            db_api.dispose()
            conf.clear_override('connection', 'sod_database')
    return total / (hosts * rounds) * 1e6


def run() -> dict:
    key = keys.generate_private_key()
    envs, nonces = _envelopes(key, REPORTS)
    bare = min(_bare(key, envs) for _ in range(3))
    cost = min(_verifier(key, envs, nonces) for _ in range(3))
    per_second = 1e6 / cost
    monitor_us = _monitor_path(MONITOR_HOSTS, MONITOR_ROUNDS)
    return {
        'name': 'trust-verify',
        'value': round(cost, 1),
        'unit': 'us/report',
        'baseline': round(bare, 1),
        'ratio': round(cost / bare, 2),
        'goal': '<= %.1fx a bare Ed25519 verify' % GOAL_RATIO,
        'met': cost / bare <= GOAL_RATIO,
        'detail': {
            'bare_ed25519_verify_us': round(bare, 1),
            'verifier_us': round(cost, 1),
            'verifier_reports_per_s_one_core': round(per_second),
            'hosts_at_2s_interval_verify_only': round(per_second * INTERVAL),
            'monitor_handler_us': round(monitor_us, 1),
            'hosts_at_2s_interval_monitor_handler': round(1e6 / monitor_us * INTERVAL),
            'evidence_bytes': len(envs[0]['evidence']),
        },
    }
