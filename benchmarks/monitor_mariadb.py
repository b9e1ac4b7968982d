"""Benchmark: the trust monitor's full path per report with MariaDB underneath.

:func:`benchmarks.trust_verify._monitor_path` (the running monitor's handler:
verify, record, the acknowledging cast, and the enrollment and host rows
written when a verdict changes and otherwise at most every
evidence_max_age/4), with 200 hosts reporting every 2 s on the monitor's
clock, once on a real MariaDB on loopback (Debian's ``mariadb-server``,
started for the run by :mod:`sod_nova.cloud.services`) and once on the
default SQLite file in the same run.

Value: reports per second on MariaDB, on one core. Baseline: the same on
SQLite. Goal (issue 14 only asks for the number): the MariaDB rate sustains
2,500 hosts at a 2 s report interval, where Keylime's verifier choked.
"""

from benchmarks import trust_verify
from sod_nova.cloud import services

HOSTS = trust_verify.MONITOR_HOSTS
ROUNDS = trust_verify.MONITOR_ROUNDS
GOAL_HOSTS = 2500


def run() -> dict:
    mariadb = services.MariaDB().start()
    try:
        mysql_us = trust_verify._monitor_path(HOSTS, ROUNDS,
                                              mariadb.create_database())
    finally:
        mariadb.close()
    sqlite_us = trust_verify._monitor_path(HOSTS, ROUNDS)
    rate, base = 1e6 / mysql_us, 1e6 / sqlite_us
    needed = GOAL_HOSTS / trust_verify.INTERVAL
    return {
        'name': 'monitor-mariadb',
        'value': round(rate),
        'unit': 'reports/s',
        'baseline': round(base),
        'ratio': round(rate / base, 3),
        'goal': '>= %d reports/s (%d hosts every %.0f s)' % (
            needed, GOAL_HOSTS, trust_verify.INTERVAL),
        'met': rate >= needed,
        'detail': {
            'monitor_handler_us_mariadb': round(mysql_us, 1),
            'monitor_handler_us_sqlite': round(sqlite_us, 1),
            'hosts_at_2s_interval_mariadb': round(rate * trust_verify.INTERVAL),
            'hosts': HOSTS, 'rounds': ROUNDS,
        },
    }


if __name__ == '__main__':
    import json
    print(json.dumps(run(), indent=2))
