"""A small fleet (the ``trust-scale`` harness) under a two-monitor group.

200 simulated hosts in two agent processes report over RabbitMQ to two
``sod-trust-monitor`` processes sharing MariaDB; attacks, silences, forged
and replayed reports are injected, and one monitor is killed with SIGKILL
half way. Nothing is misjudged (no genuine host ever leaves ``trusted``),
every fault is seen for what it is, and the survivor re-attests the killed
monitor's hosts. Every wait derives from the report interval.
"""

from benchmarks.fleet import cluster as cluster_mod
from benchmarks.fleet import run as fleet_run
from functional import processes

HOSTS = 200
#: The default report interval: 100 reports a second for the group.
INTERVAL = 2.0
#: The run holds the fleet for this many report intervals, the kill half way.
INTERVALS = 20


def test_fleet_under_two_monitors_one_killed(rabbitmq, mariadb, tmp_path):
    cluster = cluster_mod.Cluster(tmp_path, HOSTS, monitors=2, processes=2,
                                  report_interval=INTERVAL,
                                  rabbitmq=rabbitmq, mariadb=mariadb)
    try:
        cluster.start()
        assert cluster.wait_all_trusted(processes.HANG), cluster.rows.counts()
        figures = fleet_run.hold(cluster, INTERVALS * INTERVAL,
                                 kill_at=INTERVALS * INTERVAL / 2)
    finally:
        cluster.stop()
    # Every kind of fault was injected, and each was seen for what it is.
    assert all(figures['injected'][kind] for kind in fleet_run.KINDS), figures
    assert figures['missed'] == [], figures
    assert figures['misjudged'] == 0, figures['misjudged_examples']
    # The survivor wrote fresh evidence for every genuine host after the kill.
    assert figures['reattested_s_after_kill'] is not None, figures
    assert figures['reports'] > 0 and figures['db_rows_per_report'] > 0, figures
