"""Benchmark: one server's compliance report over an audit chain of 100k entries.

A real SQLite database built by the migrations holds a keyed chain of
100,000 entries over 1,000 VMs (a trust loss, a move and a resume each, in
turn), written as the migration manager writes them (HMAC under a key in a
file). Each round builds one VM's report as ``GET /servers/{id}/compliance``
does: its entries through the index by VM and time, each MAC and type
checked, then the timeline.

Value: p50 of one report, in ms (p99 in the detail). Baseline: 2.3 s, the
report's time when every request decoded the whole chain (issue 22).
Goal: p99 under 50 ms.
"""

import statistics
import tempfile
import time

from sod_nova.api.objects import compliance as compliance_obj
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import models

CONF = sod_nova.conf.CONF
ENTRIES = 100_000
VMS = 1000
ROUNDS = 50
BASELINE_MS = 2300.0
GOAL_MS = 50.0
EVENTS = (('decided', {'trigger': 'trust-loss', 'reason': 'untrusted'}),
          ('moved', {'to': 'hw2', 'migration': '1', 'kind': 'live',
                     'compliant': True}),
          ('resumed', {'outcome': 'moved'}))


def _fill(key):
    """``ENTRIES`` keyed links, as the writer chains them, in one go."""
    prev, rows = audit.GENESIS, []
    for seq in range(1, ENTRIES + 1):
        vm = 'vm-%04d' % (seq % VMS)
        event, fields = EVENTS[(seq // VMS) % len(EVENTS)]
        at = 1.7e9 + seq
        entry = dict(fields, event=event, vm=vm, at=at, cause='x@hw1#0')
        text = audit.canonical(entry)
        mac = audit.entry_mac(key, seq, at, prev, text)
        rows.append({'seq': seq, 'created_at': at, 'entry': text,
                     'prev_hash': prev, 'hash': mac, 'alg': audit.HMAC_SHA256,
                     **audit.index_columns(entry)})
        prev = mac
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(models.AuditEntry.__table__.insert(), rows)


def run():
    with tempfile.TemporaryDirectory() as state:
        CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % state,
                          'sod_database')
        CONF.set_override('key_file', '%s/audit.key' % state, 'sod_audit')
        try:
            key = audit.write_key('%s/audit.key' % state)
            db_migration.sync(CONF)
            _fill(key)
            times = []
            for i in range(ROUNDS):
                vm = 'vm-%04d' % (i * 7 % VMS)
                begin = time.perf_counter()
                reader = compliance_obj.Reader(CONF, audit.load_key(
                    CONF.sod_audit.key_file))
                entries = reader.entries(vm, 1.7e9 + ENTRIES / 2)
                compliance_obj.report(vm, entries, 1.7e9 + ENTRIES / 2,
                                      1.7e9 + ENTRIES, hosts_visible=False)
                times.append((time.perf_counter() - begin) * 1000)
        finally:
            db_api.dispose()
            CONF.clear_override('connection', 'sod_database')
            CONF.clear_override('key_file', 'sod_audit')
    times.sort()
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return {'name': 'compliance-report', 'value': round(p50, 3), 'unit': 'ms',
            'baseline': BASELINE_MS, 'ratio': round(p50 / BASELINE_MS, 5),
            'goal': 'p99 < %g ms at %d entries' % (GOAL_MS, ENTRIES),
            'met': p99 < GOAL_MS,
            'detail': {'p99_ms': round(p99, 3), 'entries': ENTRIES,
                       'vms': VMS, 'rounds': ROUNDS}}
